"""Whether an order placed now leaves the warehouse today, from the store's own cutoff.

"if i check out rn do they ship today?" is answered from the shipping section's sentence
("Orders placed before 1pm MT on a business day leave the warehouse the same day") held
against the turn's clock in the cutoff's own time zone: yes before the cutoff on a
business day, else the next business day. Nothing is said when the store's documents give
no cutoff in that form.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

_CUTOFF = re.compile(r"\bbefore ((\d{1,2})(?::(\d\d))?\s*(am|pm)\s+(ET|CT|MT|PT))\b", re.IGNORECASE)
_ZONES = {
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
    "PT": "America/Los_Angeles",
}
# "do they ship today?", "if i order rn will it go out today"
ASKS_TODAY = re.compile(
    r"\b(ship|go out|leave|send|sent|dispatch)\w*\b[^.?!]{0,20}\b(today|tonight|same[- ]day)\b",
    re.IGNORECASE,
)


def same_day(sentences: list[str], now: datetime | None) -> str | None:
    """The verdict for an order placed at `now`, from the first sentence giving a cutoff."""
    if now is None:
        return None
    for sentence in sentences:
        found = _CUTOFF.search(sentence)
        if found is None:
            continue
        label, hour, minute, half, zone = found.groups()
        local = now.astimezone(ZoneInfo(_ZONES[zone.upper()]))
        cutoff = (int(hour) % 12 + (12 if half.lower() == "pm" else 0), int(minute or 0))
        if local.weekday() >= 5:
            return (
                "Not today: orders leave the warehouse on business days, so one placed now "
                "leaves on the next business day."
            )
        if (local.hour, local.minute) < cutoff:
            return f"Yes: order before {label} today and it leaves the warehouse today."
        return (
            f"Not today: it's past the {label} cutoff, so an order placed now leaves the "
            "warehouse on the next business day."
        )
    return None
