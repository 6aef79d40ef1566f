"""Consent keywords, quiet hours and SMS segment counting: rules that never ask a model."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from textcart.tools.compliance import (
    fit_to_segments,
    in_quiet_hours,
    keyword_action,
    shopper_zone,
    sms_segments,
)

OPT_OUTS = [
    "STOP",
    "stop",
    "Stop.",
    " STOP!! ",
    "🛑 stop 🛑",
    "STOPALL",
    "unsubscribe",
    "Cancel",
    "END",
    "quit",
    "REVOKE",
    "opt out",
    "OPT-OUT",
    "optout",
    "stop texting me",
    "Please stop messaging me",
    "remove me from this list",
    "take me off your list",
    "don't text me again",
    "leave me alone",
]
NOT_OPT_OUTS = [
    "cancel my order",
    "I want to cancel my order please",
    "when does the sale end?",
    "can i stop by the store?",
    "stop the order",
    "do you have end of season deals",
    "I don't text much but do these run small?",
    "help me find boots",
]


@pytest.mark.parametrize("text", OPT_OUTS)
def test_opt_out_keywords_and_revocations(text: str) -> None:
    assert keyword_action(text) == "opt_out"


@pytest.mark.parametrize("text", NOT_OPT_OUTS)
def test_ordinary_texts_are_not_opt_outs(text: str) -> None:
    assert keyword_action(text) is None


@pytest.mark.parametrize(
    "text,action", [("HELP", "help"), ("info?", "help"), ("START", "opt_in"), ("unstop", "opt_in")]
)
def test_help_and_start(text: str, action: str) -> None:
    assert keyword_action(text) == action


def test_quiet_hours_wrap_midnight_in_shopper_zone() -> None:
    ny = ZoneInfo("America/New_York")
    late = datetime(2026, 6, 1, 3, 30, tzinfo=UTC)  # 23:30 in New York
    noon = datetime(2026, 6, 1, 16, 0, tzinfo=UTC)  # 12:00 in New York
    assert in_quiet_hours(late, ny, 21, 9)
    assert not in_quiet_hours(noon, ny, 21, 9)
    assert not in_quiet_hours(late, ZoneInfo("America/Los_Angeles"), 21, 9)  # 20:30 there


def test_unknown_zone_falls_back_to_store_zone() -> None:
    assert shopper_zone("Not/AZone", "America/Chicago").key == "America/Chicago"
    assert shopper_zone(None, "Europe/Berlin").key == "Europe/Berlin"


def test_segments_gsm_and_ucs2() -> None:
    assert sms_segments("a" * 160).segments == 1
    assert sms_segments("a" * 161).segments == 2
    assert sms_segments("a" * 306).segments == 2
    assert sms_segments("a" * 307).segments == 3
    assert sms_segments("€" * 80).units == 160  # extension characters cost two septets
    emoji = sms_segments("Love them 😍")
    assert emoji.encoding == "UCS-2" and emoji.segments == 1
    assert sms_segments("😍" * 36).segments == 2  # 72 UTF-16 units > 70
    assert sms_segments("").segments == 0


def test_fit_to_segments_cuts_at_words() -> None:
    text = "Great pick. " + "These boots are waterproof and warm. " * 20
    cut = fit_to_segments(text, 2)
    assert sms_segments(cut).segments <= 2
    assert text.startswith(cut.removesuffix("..."))
    assert fit_to_segments("short", 1) == "short"
