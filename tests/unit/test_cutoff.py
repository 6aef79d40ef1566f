"""Whether an order placed now leaves today: the store's cutoff against the turn's clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from textcart.answers.cutoff import ASKS_TODAY, same_day

RULE = "Orders placed before 1pm MT on a business day leave the warehouse the same day."


@pytest.mark.parametrize(
    "now,verdict",
    [
        # Wednesday 10 June 2026: 18:00 UTC is noon in Denver, 20:00 UTC is 2 pm.
        (datetime(2026, 6, 10, 18, 0, tzinfo=UTC), "Yes: order before 1pm MT today"),
        (datetime(2026, 6, 10, 20, 0, tzinfo=UTC), "Not today: it's past the 1pm MT cutoff"),
        # Saturday morning: no business day.
        (datetime(2026, 6, 13, 15, 0, tzinfo=UTC), "Not today: orders leave the warehouse on"),
    ],
)
def test_the_cutoff_is_held_against_the_clock_in_its_own_zone(now: datetime, verdict: str) -> None:
    said = same_day(["Standard shipping takes 3-5 business days.", RULE], now)
    assert said is not None and said.startswith(verdict), said


def test_no_cutoff_in_the_documents_says_nothing() -> None:
    now = datetime(2026, 6, 10, 18, 0, tzinfo=UTC)
    assert same_day(["Standard shipping takes 3-5 business days."], now) is None
    assert same_day([RULE], None) is None


@pytest.mark.parametrize(
    "text,asks",
    [
        ("if i check out rn do they ship today?", True),
        ("will it go out today if i order now", True),
        ("how long does shipping take", False),
        ("i need it today", False),
    ],
)
def test_what_asks_whether_it_leaves_today(text: str, asks: bool) -> None:
    assert bool(ASKS_TODAY.search(text)) is asks
