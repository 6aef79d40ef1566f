"""Outcomes written into the message log, and the attribution summary read back from it.

The rule itself is `textcart.rules.attribution`; this module applies it to a shopper
store, for the server (`/events`, replies and STOPs), the simulator and the report alike.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from langgraph.store.base import BaseStore

from textcart import settings
from textcart.rules.attribution import (
    Arm,
    Windows,
    answered_message,
    attribute,
    compare_arms,
    converted_after,
    delivered,
    difference_interval,
    final_outcome,
    parse_time,
)
from textcart.rules.holdout import VARIANTS, wording_variant
from textcart.tools.shopper_store import ShopperStore

# Each window and the setting that sets it (textcart.settings names the variables).
_WINDOW_SETTINGS = {
    "click_days": "attribution_click_days",
    "message_hours": "attribution_message_h",
    "offer_days": "attribution_offer_days",
    "reply_hours": "reply_window_h",
    "holdout_days": "holdout_window_days",
    "skew_s": "clock_skew_s",
}


def windows_from_env() -> Windows:
    """The attribution windows, each from its setting when set (see `_WINDOW_SETTINGS`)."""
    configured = settings.current()
    values: dict[str, float] = {}
    for name, setting in _WINDOW_SETTINGS.items():
        value: float | None = getattr(configured, setting)
        if value is not None:
            if value < 0:
                raise ValueError(f"{settings.variable(setting)} must not be negative")
            values[name] = value
    return Windows(**values)


@dataclass(frozen=True)
class PurchaseOutcome:
    """What the attribution rule made of one purchase."""

    message_id: str | None
    rule: str | None
    rule_text: str | None

    def as_json(self) -> dict[str, Any]:
        """For the `/events` answer."""
        return {"message_id": self.message_id, "rule": self.rule, "rule_text": self.rule_text}


async def record_purchase(
    shoppers: ShopperStore,
    shopper_id: str,
    *,
    at: datetime,
    event_id: str,
    windows: Windows,
    value: float | None = None,
    offer_code: str | None = None,
    product_id: str | None = None,
) -> PurchaseOutcome:
    """Attribute a recorded purchase and write the outcome, with its rule, on the message.

    Only messages sent before the purchase (plus the clock-skew slack) can earn it, so a
    purchase that arrives after a later text is never credited to that text. A replay of
    the same event adds nothing.
    """
    messages = await shoppers.messages(shopper_id)
    found = attribute(at, messages, windows, offer_code)
    if found is None:
        return PurchaseOutcome(None, None, None)
    await shoppers.record_outcome(
        shopper_id,
        found.message_id,
        "purchased",
        at=at,
        source=f"event:{event_id}",
        rule=found.rule,
        rule_text=found.rule_text,
        value=value,
        offer_code=offer_code,
        product_id=product_id,
    )
    return PurchaseOutcome(found.message_id, found.rule, found.rule_text)


async def record_response(
    shoppers: ShopperStore,
    shopper_id: str,
    *,
    at: datetime,
    inbound_id: str,
    opted_out: bool,
    windows: Windows,
) -> str | None:
    """Attach a shopper's text (a reply, or an opt-out) to the text it answers, if any."""
    messages = await shoppers.messages(shopper_id)
    answered = answered_message(
        [m for m in messages if m.get("message_id") != f"{inbound_id}:reply"], at, windows
    )
    if answered is None:
        return None
    outcome = "opted_out" if opted_out else "replied"
    await shoppers.record_outcome(
        shopper_id, answered["message_id"], outcome, at=at, source=f"text:{inbound_id}"
    )
    return str(answered["message_id"])


# --- the summary -------------------------------------------------------------------------


async def shopper_ids(store: BaseStore) -> list[str]:
    """Every shopper with a namespace in the store."""
    ids: list[str] = []
    offset = 0
    while True:
        page = await store.alist_namespaces(
            prefix=("shoppers",), max_depth=2, limit=1000, offset=offset
        )
        ids += [ns[1] for ns in page if len(ns) == 2]
        if len(page) < 1000:
            return sorted(set(ids))
        offset += len(page)


@dataclass
class _Tally:
    triggers: int = 0
    conversions: int = 0
    revenue: float = 0.0

    def arm(self) -> Arm:
        return Arm(self.triggers, self.conversions, self.revenue)


def _purchases(events: list[dict[str, Any]]) -> list[tuple[datetime, float]]:
    return [
        (t, float(e.get("value") or 0.0))
        for e in events
        if e.get("type") == "purchased" and (t := parse_time(e.get("at"))) is not None
    ]


@dataclass
class _WordingTally:
    """What was recorded for a wording test, to be summed per message type and arm."""

    # (message type, arm, writer) -> [texts, clicked, purchased]
    texts: dict[tuple[str, str, str], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0, 0])
    )
    # message type -> the trigger kinds whose sent texts were of that type
    kinds: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # every trigger: (shopper, kind, arm, converted, revenue)
    triggers: list[tuple[str, str, str, bool, float]] = field(default_factory=list)

    def add_text(self, message: dict[str, Any]) -> None:
        """Count a delivered text written in a wording test's arm, with its outcomes."""
        found = {o.get("outcome") for o in message.get("outcomes", [])}
        key = (
            str(message.get("message_type")),
            str(message["variant"]),
            str(message.get("variant_by") or "template"),
        )
        cell = self.texts[key]
        cell[0] += 1
        cell[1] += "clicked" in found
        cell[2] += "purchased" in found

    def summary(self) -> dict[str, Any]:
        """Per message type under test: each arm's texts and outcomes, and its holdout."""
        tests: dict[str, Any] = {}
        for message_type in sorted({t for t, _, _ in self.texts}):
            tests[message_type] = self._one(message_type)
        return tests

    def _one(self, message_type: str) -> dict[str, Any]:
        writers = sorted({w for t, _, w in self.texts if t == message_type})
        arms = {
            v: [sum(self.texts[message_type, v, w][i] for w in writers) for i in range(3)]
            for v in VARIANTS
        }
        block: dict[str, Any] = {v: _wording_arm(*arms[v]) for v in VARIANTS}
        (n_a, c_a, p_a), (n_b, c_b, p_b) = arms["A"], arms["B"]
        for what, a, b in (("click", c_a, c_b), ("purchase", p_a, p_b)):
            interval = difference_interval(b, n_b, a, n_a)
            block[f"{what}_rate_b_minus_a"] = (
                None if interval is None else round(b / n_b - a / n_a, 4)
            )
            block[f"{what}_rate_b_minus_a_ci95"] = (
                None if interval is None else [round(x, 4) for x in interval]
            )
        block["by_writer"] = {
            w: {v: _wording_arm(*self.texts[message_type, v, w]) for v in VARIANTS} for w in writers
        }
        # Each arm against the shoppers of the same arm who were held out: triggers of the
        # kinds that sent this type, the arm being the shopper's (held out or not).
        kinds = self.kinds.get(message_type, set())
        tallies: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
        for shopper_id, kind, arm, bought, value in self.triggers:
            if kind in kinds:
                tally = tallies[wording_variant(shopper_id, message_type), arm]
                tally.triggers += 1
                tally.conversions += bought
                tally.revenue += value
        block["holdout_trigger_kinds"] = sorted(kinds)
        block["holdout"] = {
            v: compare_arms(tallies[v, "sent"].arm(), tallies[v, "held_out"].arm())
            for v in VARIANTS
        }
        return block


def _wording_arm(texts: int, clicked: int, purchased: int) -> dict[str, Any]:
    return {
        "texts": texts, "clicked": clicked, "purchased": purchased,
        "purchases_per_1000": round(1000 * purchased / texts, 2) if texts else None,
    }  # fmt: skip


async def attribution_summary(store: BaseStore, windows: Windows, now: datetime) -> dict[str, Any]:
    """Messages, clicks, conversions and attributed revenue, and the holdout comparison.

    The holdout compares triggers, not messages: every proactive trigger that passed the
    gate was either sent to the policy (which may still have chosen to send nothing) or
    held out, and each counts as converted when the shopper bought within
    `holdout_days` after it. Triggers whose window is still open count as not (yet)
    converted in both arms alike. A wording test's arms are compared the same way, each
    against the held-out shoppers of its own arm.
    """
    shoppers = ShopperStore(store)
    totals: defaultdict[str, int] = defaultdict(int)
    revenue = 0.0
    by_rule: dict[str, int] = defaultdict(int)
    outcomes: dict[str, int] = defaultdict(int)
    arms: dict[tuple[str, str, str], _Tally] = defaultdict(_Tally)
    wording = _WordingTally()
    for shopper_id in await shopper_ids(store):
        messages = await shoppers.messages(shopper_id)
        types = {str(m.get("message_id")): str(m.get("message_type")) for m in messages}
        for message in messages:
            if not delivered(message):
                continue
            totals["messages"] += 1
            totals["proactive_messages"] += bool(message.get("proactive"))
            clicks = [o for o in message.get("outcomes", []) if o.get("outcome") == "clicked"]
            totals["clicks"] += len(clicks)
            outcomes[final_outcome(message, now, windows)] += 1
            if message.get("variant"):
                wording.add_text(message)
            for o in message.get("outcomes", []):
                if o.get("outcome") == "purchased":
                    totals["conversions"] += 1
                    revenue += float(o.get("value") or 0.0)
                    by_rule[str(o.get("rule"))] += 1
        purchases = _purchases(await shoppers.events(shopper_id))
        totals["purchases"] += len(purchases)
        for trigger in await shoppers.triggers(shopper_id):
            at = parse_time(trigger.get("at"))
            if at is None or trigger.get("arm") not in ("sent", "held_out"):
                continue
            bought, value = converted_after(at, purchases, windows)
            kind = str(trigger.get("trigger"))
            wording.triggers.append((shopper_id, kind, trigger["arm"], bought, value))
            sent_type = types.get(str(trigger.get("message_id")))
            if trigger["arm"] == "sent" and sent_type is not None:
                wording.kinds[sent_type].add(kind)
            for key in (
                ("all", "all", trigger["arm"]),
                ("trigger", str(trigger.get("trigger")), trigger["arm"]),
                ("policy", str(trigger.get("policy")), trigger["arm"]),
            ):
                tally = arms[key]
                tally.triggers += 1
                tally.conversions += bought
                tally.revenue += value
    holdout = compare_arms(arms["all", "all", "sent"].arm(), arms["all", "all", "held_out"].arm())
    for kind in ("trigger", "policy"):
        names = sorted({name for k, name, _ in arms if k == kind})
        holdout[f"by_{kind}"] = {
            name: compare_arms(arms[kind, name, "sent"].arm(), arms[kind, name, "held_out"].arm())
            for name in names
        }
    return {
        "messages": totals["messages"],
        "proactive_messages": totals["proactive_messages"],
        "clicks": totals["clicks"],
        "purchases": totals["purchases"],
        "conversions": totals["conversions"],
        "attributed_revenue": round(revenue, 2),
        "conversions_by_rule": dict(sorted(by_rule.items())),
        "message_outcomes": dict(sorted(outcomes.items())),
        "holdout": holdout,
        "wording_tests": wording.summary(),
        "windows": {
            "click_days": windows.click_days,
            "message_hours": windows.message_hours,
            "offer_days": windows.offer_days,
            "reply_hours": windows.reply_hours,
            "holdout_days": windows.holdout_days,
            "clock_skew_s": windows.skew_s,
        },
    }
