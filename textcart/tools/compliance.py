"""Deterministic messaging rules: consent keywords, quiet hours, frequency caps, SMS segments.

Nothing here calls a model. These rules run before any decider and again on the way out,
so no model output can text a shopper who opted out.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

KeywordAction = Literal["opt_out", "opt_in", "help"]

OPT_OUT_KEYWORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT", "OPT OUT"}
)
OPT_IN_KEYWORDS = frozenset({"START", "UNSTOP", "YES", "SUBSCRIBE"})
HELP_KEYWORDS = frozenset({"HELP", "INFO"})

# Plain-language revocations. Each needs a "texting/messages/list" object or a "me" so that
# "stop the order" or "cancel my order" never reads as an opt-out.
_REVOCATION = re.compile(
    r"\b("
    r"(stop|quit|no more)\s+(texting|messaging|txting|sending|texts|messages|msgs|txts|sms)"
    r"|stop\s+(the|these|your|all)\s+(texts|messages|msgs|txts|sms)"
    r"|(don'?t|do not|never)\s+(text|message|txt|contact)\s+me"
    r"|remove\s+me|take\s+me\s+off|unsubscribe\s+me|opt\s*me\s+out|leave\s+me\s+alone"
    r")\b",
    re.IGNORECASE,
)
_NOT_WORD = re.compile(r"[^A-Z ]+")


def _keyword_form(text: str) -> str:
    """Upper-case letters and single spaces only: what a keyword match compares."""
    folded = unicodedata.normalize("NFKD", text).upper()
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def keyword_action(text: str) -> KeywordAction | None:
    """Return the consent action a text asks for, or None for an ordinary message.

    Keywords count only as the whole message (with any punctuation or emoji around them),
    as carriers do; plain-language revocations count anywhere in the text.
    """
    form = _keyword_form(text)
    if form in OPT_OUT_KEYWORDS or form.replace(" ", "") in OPT_OUT_KEYWORDS:
        return "opt_out"
    if form in OPT_IN_KEYWORDS:
        return "opt_in"
    if form in HELP_KEYWORDS:
        return "help"
    if _REVOCATION.search(text):
        return "opt_out"
    return None


def opt_out_confirmation(store_name: str) -> str:
    """The single confirmation a shopper gets after opting out."""
    return f"{store_name}: You're unsubscribed and won't get more texts. Reply START to rejoin."


def opt_in_confirmation(store_name: str) -> str:
    """The reply to START/UNSTOP."""
    return f"{store_name}: You're subscribed again. Reply STOP to opt out, HELP for help."


def help_text(store_name: str) -> str:
    """The reply to HELP/INFO."""
    return (
        f"{store_name}: Ask us anything about products or orders. "
        "Msg&data rates may apply. Reply STOP to opt out."
    )


def shopper_zone(timezone: str | None, fallback: str) -> ZoneInfo:
    """The shopper's time zone, else the store's."""
    for name in (timezone, fallback):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def in_quiet_hours(now: datetime, zone: ZoneInfo, start_hour: int, end_hour: int) -> bool:
    """True when `now` falls in [start_hour, end_hour) local time (wrapping midnight)."""
    hour = now.astimezone(zone).hour
    if start_hour == end_hour:
        return False
    if start_hour < end_hour:
        return start_hour <= hour < end_hour
    return hour >= start_hour or hour < end_hour


# GSM 03.38 basic set plus the extension table (which costs two septets per character).
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


# Typographic characters that force a whole message into UCS-2 (70 characters a segment)
# and have a plain GSM-7 equivalent a reader would not miss.
_GSM_LOOKALIKES = str.maketrans(
    {
        "\u2014": "-",
        "\u2013": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u00a0": " ",
        "\u2022": "-",
    }
)


def gsm_friendly(text: str) -> str:
    """Replace dashes, curly quotes and ellipses with GSM-7 characters (emoji are kept)."""
    return text.translate(_GSM_LOOKALIKES)


@dataclass(frozen=True)
class SegmentInfo:
    """How an SMS text is encoded and how many segments it costs."""

    encoding: Literal["GSM-7", "UCS-2"]
    units: int
    segments: int


def sms_segments(text: str) -> SegmentInfo:
    """Count SMS segments the way carriers do (GSM-7 160/153, UCS-2 70/67 code units)."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        units = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        single, multi = 160, 153
        encoding: Literal["GSM-7", "UCS-2"] = "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
        encoding = "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SegmentInfo(encoding=encoding, units=units, segments=segments if text else 0)


def fit_to_segments(text: str, max_segments: int) -> str:
    """Shorten a text to at most `max_segments`, cutting at a sentence or word boundary."""
    if sms_segments(text).segments <= max_segments:
        return text
    words = text.split(" ")
    while words and sms_segments(" ".join(words) + "...").segments > max_segments:
        words.pop()
    cut = " ".join(words)
    sentence_end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if sentence_end > len(cut) // 2:
        return cut[: sentence_end + 1]
    return cut + "..."
