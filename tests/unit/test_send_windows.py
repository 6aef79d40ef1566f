"""Send windows by law: the store's quiet hours narrowed by the shopper's state's rules.

Three stricter states (Florida, Oklahoma, Maryland: 8 am to 8 pm, 3 a day) and the
default (the store's own window and cap), each by the number's own zone at a pinned time.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from textcart.tools.send_windows import STATE_RULES, send_window

NEW_YORK, CHICAGO = ZoneInfo("America/New_York"), ZoneInfo("America/Chicago")
STORE_ZONE = "America/Los_Angeles"


def local(zone: ZoneInfo, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 6, 2, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(
    ("phone", "zone", "state"),
    [
        ("+13055550150", NEW_YORK, "FL"),  # Miami
        ("+14055550150", CHICAGO, "OK"),  # Oklahoma City
        ("+14105550150", NEW_YORK, "MD"),  # Baltimore
    ],
)
def test_stricter_states_allow_8_am_to_8_pm_and_three_a_day(
    phone: str, zone: ZoneInfo, state: str
) -> None:
    # The store's own quiet hours (9 pm to 9 am) would allow 8:30 pm; the state does not.
    window = send_window(phone, None, STORE_ZONE, 21, 9)
    assert window.state == state and window.rule is STATE_RULES[state]
    assert window.zones == (zone,)
    assert window.open_at(local(zone, 19, 59))
    assert not window.open_at(local(zone, 20, 0))
    assert not window.open_at(local(zone, 20, 30))
    # The later of the two openings: the store's 9 am.
    assert window.next_open(local(zone, 20, 30)) == local(zone, 9).replace(day=3)
    # A store without quiet hours still meets the state's 8 am.
    no_quiet = send_window(phone, None, STORE_ZONE, 0, 0)
    assert not no_quiet.open_at(local(zone, 7, 59)) and no_quiet.open_at(local(zone, 8))
    assert no_quiet.next_open(local(zone, 6, 10)) == local(zone, 8)
    assert window.cap(5) == 3 and window.cap(2) == 2
    assert state in window.describe() and "§" in window.describe()


def test_the_default_is_the_store_window_and_cap() -> None:
    window = send_window("+12125550150", None, STORE_ZONE, 21, 9)  # New York: no state rule
    assert window.state == "NY" and window.rule is None
    assert window.open_at(local(NEW_YORK, 20, 30)) and not window.open_at(local(NEW_YORK, 21))
    assert window.next_open(local(NEW_YORK, 23)) == local(NEW_YORK, 9).replace(day=3)
    assert window.cap(5) == 5


def test_the_profile_zone_wins_but_the_number_state_still_rules() -> None:
    # A Florida number whose owner lives in Chicago: Chicago hours, Florida's law.
    window = send_window("+13055550150", "America/Chicago", STORE_ZONE, 0, 0)
    assert window.zones == (CHICAGO,) and window.state == "FL"
    assert window.open_at(local(CHICAGO, 19)) and not window.open_at(local(CHICAGO, 20))


def test_a_number_in_two_zones_waits_for_both() -> None:
    # North Dakota's 701 spans Mountain and Central time in libphonenumber's metadata.
    window = send_window("+17015550150", None, STORE_ZONE, 21, 9)
    assert len(window.zones) == 2
    assert not window.open_at(local(CHICAGO, 9, 30)), "still 8:30 in the Mountain part"
    assert window.next_open(local(CHICAGO, 9, 30)) == local(CHICAGO, 10)


def test_a_number_without_a_zone_uses_the_store_zone() -> None:
    window = send_window("+18005550150", None, STORE_ZONE, 21, 9)
    assert [z.key for z in window.zones] == [STORE_ZONE] and window.rule is None
