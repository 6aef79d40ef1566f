"""Which message earned a purchase, and what texting added over the holdout.

One rule, used by the server (`/events`), the simulator and the report:

1. a click on a tracked link in a message within `click_days` (7) before the purchase;
2. else a message delivered within `message_hours` (24) before it;
3. else a message that carried the offer code the order used, within `offer_days` (30).

The latest qualifying message wins in each step (last touch). Times are compared with
`skew_s` of slack, so a store clock a few minutes behind ours does not lose a click made
just "after" the purchase. Held-out triggers carry no text and are never credited.

The holdout comparison counts, per arm, the triggers followed by a purchase within
`holdout_days`: an incremental lift, unlike attributed revenue, which credits texts for
purchases the shopper might have made anyway.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Rule = Literal["click", "message", "offer_code"]
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Windows:
    """How far back each rule looks, and how much clock skew is forgiven."""

    click_days: float = 7.0
    message_hours: float = 24.0
    offer_days: float = 30.0
    reply_hours: float = 24.0
    holdout_days: float = 7.0
    skew_s: float = 300.0

    def describe(self, rule: Rule) -> str:
        """The rule in words, as stored with the outcome."""
        return {
            "click": f"click within {self.click_days:g} d",
            "message": f"message within {self.message_hours:g} h",
            "offer_code": f"offer code within {self.offer_days:g} d",
        }[rule]


@dataclass(frozen=True)
class Attribution:
    """The message credited with a purchase, and by which rule."""

    message_id: str
    rule: Rule
    rule_text: str
    touch_at: str


def parse_time(value: Any) -> datetime | None:
    """An ISO time as an aware datetime (naive means UTC), or None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def delivered(message: dict[str, Any]) -> bool:
    """A text of ours that left (not held out, not failed, not blocked).

    Consent confirmations (STOP, HELP, JOIN answers) are not counted: they sell nothing.
    """
    if message.get("direction") != "outbound" or message.get("held_out"):
        return False
    if message.get("message_type") == "compliance":
        return False
    status = (message.get("delivery") or {}).get("status", "sent")
    return bool(message.get("text")) and status == "sent"


def _clicks(message: dict[str, Any]) -> list[datetime]:
    return [
        t
        for o in message.get("outcomes", [])
        if o.get("outcome") == "clicked" and (t := parse_time(o.get("at"))) is not None
    ]


def attribute(
    purchase_at: datetime,
    messages: Iterable[dict[str, Any]],
    windows: Windows,
    offer_code: str | None = None,
) -> Attribution | None:
    """The message that earned a purchase made at `purchase_at`, or None."""
    skew = timedelta(seconds=windows.skew_s)
    latest = purchase_at + skew
    sent = [(t, m) for m in messages if delivered(m) and (t := parse_time(m.get("at")))]
    clicked = [
        (c, m)
        for _, m in sent
        for c in _clicks(m)
        if purchase_at - timedelta(days=windows.click_days) <= c <= latest
    ]
    if clicked:
        at, message = max(clicked, key=lambda pair: pair[0])
        return Attribution(
            message["message_id"], "click", windows.describe("click"), at.isoformat()
        )
    recent = [
        (t, m)
        for t, m in sent
        if purchase_at - timedelta(hours=windows.message_hours) <= t <= latest
    ]
    if recent:
        at, message = max(recent, key=lambda pair: pair[0])
        return Attribution(
            message["message_id"], "message", windows.describe("message"), at.isoformat()
        )
    if offer_code:
        code = offer_code.strip().upper()
        offered = [
            (t, m)
            for t, m in sent
            if purchase_at - timedelta(days=windows.offer_days) <= t <= latest
            and code
            and code in str(m.get("text", "")).upper()
        ]
        if offered:
            at, message = max(offered, key=lambda pair: pair[0])
            return Attribution(
                message["message_id"], "offer_code", windows.describe("offer_code"), at.isoformat()
            )
    return None


def answered_message(
    messages: Sequence[dict[str, Any]], reply_at: datetime, windows: Windows
) -> dict[str, Any] | None:
    """The delivered text an inbound reply at `reply_at` answers: the latest in the window."""
    skew = timedelta(seconds=windows.skew_s)
    candidates = [
        (t, m)
        for m in messages
        if delivered(m)
        and (t := parse_time(m.get("at"))) is not None
        and reply_at - timedelta(hours=windows.reply_hours) <= t <= reply_at + skew
    ]
    return max(candidates, key=lambda pair: pair[0])[1] if candidates else None


OUTCOME_ORDER = ("opted_out", "purchased", "clicked", "replied")


def final_outcome(message: dict[str, Any], now: datetime, windows: Windows) -> str:
    """What came of a delivered text: its strongest outcome, or silence.

    `silence` once its reply window has passed with nothing; `pending` until then.
    """
    found = {o.get("outcome") for o in message.get("outcomes", [])}
    for outcome in OUTCOME_ORDER:
        if outcome in found:
            return outcome
    at = parse_time(message.get("at"))
    if at is not None and now - at < timedelta(hours=windows.reply_hours):
        return "pending"
    return "silence"


# --- the holdout -------------------------------------------------------------------------


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) when n is 0."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def difference_interval(
    successes_a: int, n_a: int, successes_b: int, n_b: int
) -> tuple[float, float] | None:
    """95% interval of p_a - p_b (Newcombe's hybrid score method); None if an arm is empty.

    Unlike the plain normal interval it stays inside [-1, 1] and keeps its width when a
    rate is 0, which small holdouts often have.
    """
    if n_a <= 0 or n_b <= 0:
        return None
    p_a, p_b = successes_a / n_a, successes_b / n_b
    lo_a, hi_a = wilson(successes_a, n_a)
    lo_b, hi_b = wilson(successes_b, n_b)
    d = p_a - p_b
    lower = d - math.sqrt((p_a - lo_a) ** 2 + (hi_b - p_b) ** 2)
    upper = d + math.sqrt((hi_a - p_a) ** 2 + (p_b - lo_b) ** 2)
    return (lower, upper)


@dataclass(frozen=True)
class Arm:
    """One arm of the holdout: triggers, those followed by a purchase, and the revenue."""

    triggers: int
    conversions: int
    revenue: float

    def per_1000(self) -> dict[str, float | None]:
        """Conversions and revenue per 1,000 triggers."""
        if not self.triggers:
            return {"conversions_per_1000": None, "revenue_per_1000": None}
        return {
            "conversions_per_1000": round(1000 * self.conversions / self.triggers, 2),
            "revenue_per_1000": round(1000 * self.revenue / self.triggers, 2),
        }


def converted_after(
    trigger_at: datetime, purchases: Iterable[tuple[datetime, float]], windows: Windows
) -> tuple[bool, float]:
    """Whether a purchase followed a trigger within `holdout_days`, and its revenue."""
    end = trigger_at + timedelta(days=windows.holdout_days)
    bought = [value for at, value in purchases if trigger_at <= at <= end]
    return bool(bought), sum(bought)


def compare_arms(sent: Arm, held_out: Arm) -> dict[str, Any]:
    """The holdout block of the attribution summary: both arms and the lift with its CI."""
    interval = difference_interval(
        sent.conversions, sent.triggers, held_out.conversions, held_out.triggers
    )
    block: dict[str, Any] = {
        "sent": {"triggers": sent.triggers, "conversions": sent.conversions,
                 "revenue": round(sent.revenue, 2), **sent.per_1000()},
        "held_out": {"triggers": held_out.triggers, "conversions": held_out.conversions,
                     "revenue": round(held_out.revenue, 2), **held_out.per_1000()},
    }  # fmt: skip
    if interval is None:
        block["difference_per_1000"] = None
        block["difference_ci95_per_1000"] = None
        return block
    diff = sent.conversions / sent.triggers - held_out.conversions / held_out.triggers
    block["difference_per_1000"] = round(1000 * diff, 2)
    block["difference_ci95_per_1000"] = [round(1000 * interval[0], 2), round(1000 * interval[1], 2)]
    return block
