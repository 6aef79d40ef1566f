"""Play scripted conversations through the real graph and check what each turn produced.

A script names a demo shopper or describes one inline, adds behaviour events, then runs
turns of shopper text or proactive triggers. Each turn's outcome is collected as a
`TurnRecord` (every decision with the decider that made it, the products retrieved, the
text that went out or why nothing did) and checked against the turn's expectations.
"""

from __future__ import annotations

import hashlib
import re
import time as timer
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from textcart.agent import Agent
from textcart.demo_store.loader import (
    BehaviourEvent,
    Conversation,
    DemoShopper,
    Expectation,
    ScriptShopper,
    load_shoppers,
)
from textcart.graph.state import TurnState, decision_value, decisions_of
from textcart.tools import compliance
from textcart.tools.handoffs import HandoffDesk
from textcart.tools.shopper_store import now_utc, shopper_id_for_phone
from textcart.vocabulary.labels import likelihood_band


@dataclass
class TurnRecord:
    """What happened in one turn, flattened for printing and checking."""

    shopper: str
    said: str | None
    trigger: str | None
    intent: str | None
    buy_likelihood: float | None
    tone: str | None
    products: list[dict[str, Any]]
    fit_reason: str | None
    next_message: str | None
    reply: str | None
    gate: str
    deciders: dict[str, str]
    notes: list[str]
    latency_ms: float
    failed_expectations: list[str] = field(default_factory=list)
    segments: int = 0
    consent_change: str | None = None
    checked: int = 0


def record_turn(
    shopper: str, said: str | None, trigger: str | None, state: TurnState, latency_ms: float
) -> TurnRecord:
    """Flatten a turn's final state into a record."""
    outbound = state.get("outbound")
    gate = state.get("gate")
    fit = state.get("fit")
    deciders = {
        str(name): decision["decider"] + (" (fallback)" if decision["fallback_reason"] else "")
        for name, decision in decisions_of(state).items()
    }
    notes = list(outbound["guard_notes"]) if outbound else []
    if state.get("retrieval_note"):
        notes.insert(0, str(state["retrieval_note"]))
    reply = outbound["text"] if outbound else None
    return TurnRecord(
        shopper=shopper,
        said=said,
        trigger=trigger,
        intent=decision_value(state, "intent"),
        buy_likelihood=decision_value(state, "buy_likelihood"),
        tone=decision_value(state, "tone"),
        products=[
            {
                "id": p["id"],
                "title": p["title"],
                "price": p["price"],
                "currency": p.get("currency", "USD"),
                "category": p["category"],
            }
            for p in state.get("products") or []
        ][:3],
        fit_reason=fit["rationale"] if fit else None,
        next_message=decision_value(state, "next_message")
        or (outbound["message_type"] if outbound else None),
        reply=reply,
        gate=f"{gate['action']}: {gate['reason']}" if gate else "",
        deciders=deciders,
        notes=notes,
        latency_ms=round(latency_ms, 1),
        segments=compliance.sms_segments(reply).segments if reply else 0,
        consent_change=gate["consent_change"] if gate else None,
    )


def check_expectations(record: TurnRecord, expect: Expectation | dict[str, Any]) -> list[str]:
    """Which of a turn's expectations the record does not meet (sets `record.checked`)."""
    e = expect if isinstance(expect, Expectation) else Expectation.model_validate(expect)
    reply = record.reply or ""
    said = reply.lower()
    checks: list[tuple[bool, str]] = []
    if e.intent is not None:
        checks.append((record.intent == e.intent, f"intent {record.intent} != {e.intent}"))
    if e.next_message is not None:
        checks.append(
            (
                record.next_message == e.next_message,
                f"next message {record.next_message} != {e.next_message}",
            )
        )
    checks += [
        (record.next_message != banned, f"next message is {banned}, which it must not be")
        for banned in e.not_next_message
    ]
    if e.no_message:
        checks.append((not reply, "a message was sent but none was expected"))
    if e.handoff is not None:
        handed = record.next_message == "handoff_to_human" and bool(reply)
        checks.append((handed == e.handoff, f"hand-off {'missing' if e.handoff else 'happened'}"))
    if e.category is not None:
        checks.append(
            (
                any(p["category"].startswith(e.category) for p in record.products),
                f"no product in category {e.category}",
            )
        )
    if e.tone is not None:
        checks.append((record.tone == e.tone, f"tone {record.tone} != {e.tone}"))
    if e.buy_likelihood_band is not None:
        band = likelihood_band(record.buy_likelihood or 0.0)
        checks.append((band == e.buy_likelihood_band, f"band {band} != {e.buy_likelihood_band}"))
    if e.has_products is not None:
        checks.append(
            (bool(record.products) == e.has_products, f"products found: {bool(record.products)}")
        )
    if e.max_chars is not None:
        checks.append((len(reply) <= e.max_chars, f"reply is {len(reply)} > {e.max_chars} chars"))
    if e.max_segments is not None:
        checks.append(
            (
                record.segments <= e.max_segments,
                f"reply is {record.segments} > {e.max_segments} segments",
            )
        )
    checks += [(m.lower() in said, f"reply does not mention {m!r}") for m in e.mentions]
    checks += [(m.lower() not in said, f"reply mentions {m!r}") for m in e.not_mentions]
    checks += [(bool(re.search(p, reply, re.I)), f"reply does not say /{p}/") for p in e.says]
    checks += [(not re.search(p, reply, re.I), f"reply says /{p}/") for p in e.not_says]
    if e.consent is not None:
        consent = record.consent_change or "unchanged"
        checks.append(
            (consent in (e.consent, "unchanged"), f"consent changed to {consent}, not {e.consent}")
        )
    record.checked = len(checks)
    return [message for ok, message in checks if not ok]


def _events(events: Iterable[BehaviourEvent]) -> list[dict[str, Any]]:
    return [e.model_dump(exclude_none=True) for e in events]


# Demo and simulation turns happen at this local time in each shopper's zone (a Wednesday
# afternoon in June: no holiday, no weekend, inside every send window), so what they show
# never depends on the hour they are run.
PINNED_DAY = date(2026, 6, 10)
PINNED_TIME = time(14, 0)
DEFAULT_ZONE = "America/New_York"


def pinned_clock(timezone: str | None) -> datetime:
    """The pinned turn time in the shopper's zone (the store's default zone if unknown)."""
    try:
        zone = ZoneInfo(timezone or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(DEFAULT_ZONE)
    return datetime.combine(PINNED_DAY, PINNED_TIME, tzinfo=zone)


def conversation_clock(conversation: Conversation) -> datetime:
    """The pinned clock of a conversation, in its shopper's zone."""
    shopper = conversation.shopper
    zone = load_shoppers()[shopper].timezone if isinstance(shopper, str) else shopper.timezone
    return pinned_clock(zone)


async def seed_demo_shoppers(
    agent: Agent,
    shoppers: dict[str, DemoShopper],
    now: datetime | None = None,
    *,
    pinned: bool = False,
) -> None:
    """Put the demo shoppers, their preferences and browsing histories into the store.

    Events happened `minutes_ago` before `now` (the real time by default), or before each
    shopper's own `pinned_clock` when `pinned`.
    """
    for shopper in shoppers.values():
        await agent.seed_shopper(
            shopper.phone,
            first_name=shopper.first_name,
            timezone=shopper.timezone,
            preferences=shopper.preferences.model_dump(exclude_none=True),
            consent=shopper.consent,
            consent_source="demo",
            events=_events(shopper.events),
            now=pinned_clock(shopper.timezone) if pinned else now,
        )


def script_phone(name: str) -> str:
    """A fictional number (NXX-555-01xx) of the script's own, stable across runs."""
    digest = int(hashlib.sha256(name.encode()).hexdigest(), 16)
    area = 200 + digest % 800
    return f"+1{area}55501{digest // 800 % 100:02d}"


async def prepare_shopper(
    agent: Agent, conversation: Conversation, seed_demo: bool, clock: datetime | None = None
) -> str:
    """Seed the script's shopper and events; returns the phone the turns come from.

    A demo shopper keeps their own number (the demo orders are filed under it) and is
    seeded only when `seed_demo` is set; an inline shopper is always seeded.
    """
    shopper = conversation.shopper
    if isinstance(shopper, str):
        demo = load_shoppers()[shopper]
        if seed_demo:
            await seed_demo_shoppers(agent, {shopper: demo}, clock)
        phone = demo.phone
    else:
        phone = shopper.phone or script_phone(conversation.name)
        await _seed_inline(agent, phone, shopper, clock)
    await _add_events(agent, phone, conversation.events, "script", clock)
    return phone


async def _seed_inline(
    agent: Agent, phone: str, shopper: ScriptShopper, clock: datetime | None
) -> None:
    await agent.seed_shopper(
        phone,
        first_name=shopper.first_name,
        timezone=shopper.timezone,
        preferences=shopper.preferences.model_dump(exclude_none=True),
        consent=shopper.consent,
        consent_source="script",
        events=_events(shopper.events),
        now=clock,
    )


async def _add_events(
    agent: Agent,
    phone: str,
    events: list[BehaviourEvent],
    tag: str,
    clock: datetime | None = None,
) -> None:
    shopper_id = shopper_id_for_phone(phone)
    now = clock or now_utc()
    for i, event in enumerate(events):
        await agent.shoppers.add_event(
            shopper_id,
            event.type,
            event.product_id,
            at=now - timedelta(minutes=event.minutes_ago),
            event_id=f"{tag}-{i}-{event.type}-{event.product_id}",
        )


def _label(conversation: Conversation) -> str:
    shopper = conversation.shopper
    return shopper if isinstance(shopper, str) else (shopper.first_name or conversation.name)


async def play(
    agent: Agent,
    conversation: Conversation,
    phone: str | None = None,
    on_turn: Callable[[TurnRecord], None] | None = None,
    clock: datetime | None = None,
) -> list[TurnRecord]:
    """Run one scripted conversation turn by turn and check every expectation.

    Besides each turn's own expectations, one rule holds for every script: once the
    shopper has opted out, nothing is sent until they text START again. With a `clock`
    the turns happen two minutes apart from it (see `pinned_clock`), else in real time.
    """
    if phone is None:
        phone = await prepare_shopper(agent, conversation, seed_demo=False, clock=clock)
    label = _label(conversation)
    opted_out = False
    records = []
    for n, turn in enumerate(conversation.turns):
        at = clock + timedelta(minutes=2 * n) if clock is not None else None
        await _add_events(agent, phone, turn.events, f"turn{n}", at)
        start = timer.perf_counter()
        if turn.trigger:
            state = await agent.trigger(phone, turn.trigger, at=at)
        else:
            message_id = f"in-{conversation.name}-{n}-{timer.time_ns()}"
            state = await agent.receive(phone, turn.text or "", message_id, at=at)
        record = record_turn(
            label, turn.text, turn.trigger, state, (timer.perf_counter() - start) * 1000
        )
        record.failed_expectations = check_expectations(record, turn.expect)
        if record.consent_change == "subscribed":
            opted_out = False
        elif opted_out and record.reply:
            record.failed_expectations.append("a message was sent after the shopper opted out")
        if record.consent_change == "opted_out":
            opted_out = True
        record.checked += 1
        records.append(record)
        if on_turn is not None:
            on_turn(record)
    # A person who took the thread over in a played conversation is gone when it ends:
    # the shopper's later conversations are answered again.
    await HandoffDesk(agent.store).release(agent.shopper_id(phone))
    return records
