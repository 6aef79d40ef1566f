"""When a marketing text may go out: the store's quiet hours and the shopper's state's law.

A proactive text goes out only inside the send window in the shopper's time zone at the
turn's own time (never the wall clock inside a turn, so tests and simulations can pin
it): the store's setting, narrowed by the rules of the state the number belongs to, and
at most as many per 24 hours as the stricter cap allows. The zone is the profile's, else
every zone the number may be in (the window must be open in all of them), else the
store's. Outside the window the text waits for it to open (the gate queues it).

Replies to the shopper's own texts are not telephone solicitations and go out any time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from textcart.tools.phone_numbers import subdivision_of, zones_of


@dataclass(frozen=True)
class StateRule:
    """A state's limits on marketing texts: local hours [start, end) and a 24-hour cap."""

    start_hour: int
    end_hour: int
    per_24h: int
    law: str


# States whose law is stricter than the usual 9 pm end and the store's cap. Each row was
# checked against the enacted bill and the statute's section as named (the subsection
# letters were not verified here; re-check before relying on them). All three apply to
# "telephonic sales calls", which include text messages, and presume that a number with
# the state's area code belongs to a resident.
STATE_RULES: dict[str, StateRule] = {
    # Florida Telephone Solicitation Act, Fla. Stat. § 501.616 as amended by
    # Laws of Fla. ch. 2021-185 (SB 1120): 8 a.m. to 8 p.m. local time (it was 9 p.m.),
    # at most 3 commercial telephone solicitations on the same subject in 24 hours.
    "FL": StateRule(8, 20, 3, "Fla. Stat. § 501.616 (ch. 2021-185)"),
    # Oklahoma Telephone Solicitation Act of 2022, Okla. Stat. tit. 15, § 775C.1 et seq.
    # (HB 3168, in force 1 Nov 2022): 8 a.m. to 8 p.m., at most 3 in 24 hours.
    "OK": StateRule(8, 20, 3, "Okla. Stat. tit. 15, § 775C.1 et seq. (HB 3168, 2022)"),
    # Maryland Stop the Spam Calls Act of 2023, Md. Code, Com. Law § 14-4501 et seq.
    # (SB 90, in force 1 Jan 2024): 8 a.m. to 8 p.m., at most 3 in 24 hours.
    "MD": StateRule(8, 20, 3, "Md. Code, Com. Law § 14-4501 et seq. (SB 90, 2023)"),
}
# A whole day is searched in these steps for the window to open (half-hour zones exist).
_STEP = timedelta(minutes=15)


def _allowed(hour: int, quiet_start: int, quiet_end: int) -> bool:
    """True when `hour` is outside the store's quiet hours [quiet_start, quiet_end)."""
    if quiet_start == quiet_end:
        return True
    if quiet_start < quiet_end:
        return not quiet_start <= hour < quiet_end
    return quiet_end <= hour < quiet_start


@dataclass(frozen=True)
class SendWindow:
    """The window and cap for one shopper's proactive texts."""

    zones: tuple[ZoneInfo, ...]
    quiet_start: int
    quiet_end: int
    state: str | None
    rule: StateRule | None

    def open_at(self, at: datetime) -> bool:
        """True when a marketing text may go out at `at` in every one of the zones."""
        for zone in self.zones:
            hour = at.astimezone(zone).hour
            if not _allowed(hour, self.quiet_start, self.quiet_end):
                return False
            if self.rule and not self.rule.start_hour <= hour < self.rule.end_hour:
                return False
        return True

    def next_open(self, at: datetime) -> datetime:
        """The first moment (UTC) from `at` at which the window is open."""
        if self.open_at(at):
            return at.astimezone(UTC)
        # From the next quarter hour, so the window opens on the hour (or half hour).
        start = at.astimezone(UTC).replace(second=0, microsecond=0)
        start += timedelta(minutes=15 - start.minute % 15)
        for step in range(2 * 24 * 4):
            candidate = start + step * _STEP
            if self.open_at(candidate):
                return candidate
        raise ValueError("the store's quiet hours and the state's window never overlap")

    def cap(self, store_cap: int) -> int:
        """The most proactive texts per 24 hours: the store's cap or the state's, if lower."""
        return min(store_cap, self.rule.per_24h) if self.rule else store_cap

    def describe(self) -> str:
        """For the gate's reason: zones, hours and the law that narrowed them."""
        zones = ", ".join(z.key for z in self.zones)
        law = f"; {self.state}: {self.rule.law}" if self.rule and self.state else ""
        return f"{zones}, store quiet {self.quiet_start}-{self.quiet_end} h{law}"


def _zones(names: Iterable[str | None]) -> tuple[ZoneInfo, ...]:
    found = []
    for name in names:
        if not name:
            continue
        try:
            found.append(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return tuple(found)


def send_window(
    phone: str | None,
    profile_zone: str | None,
    store_zone: str,
    quiet_start: int,
    quiet_end: int,
) -> SendWindow:
    """The send window for a shopper: profile zone, else the number's zones, else the store's."""
    zones = _zones([profile_zone]) or _zones(zones_of(phone) if phone else ())
    zones = zones or _zones([store_zone]) or (ZoneInfo("UTC"),)
    state = subdivision_of(phone) if phone else None
    return SendWindow(zones, quiet_start, quiet_end, state, STATE_RULES.get(state or ""))
