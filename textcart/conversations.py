"""Play scripted conversations from the demo store through the real graph.

Each turn's outcome is collected as a `TurnRecord`: every decision with the decider that
made it, the products retrieved, and the text that went out (or why nothing did).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from textcart.agent import Agent
from textcart.demo_store.loader import Conversation, DemoShopper, load_shoppers
from textcart.graph.state import TurnState, decision_value, decisions_of


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
    return TurnRecord(
        shopper=shopper,
        said=said,
        trigger=trigger,
        intent=decision_value(state, "intent"),
        buy_likelihood=decision_value(state, "buy_likelihood"),
        tone=decision_value(state, "tone"),
        products=[
            {"id": p["id"], "title": p["title"], "price": p["price"], "category": p["category"]}
            for p in state.get("products") or []
        ][:3],
        fit_reason=fit["rationale"] if fit else None,
        next_message=decision_value(state, "next_message")
        or (outbound["message_type"] if outbound else None),
        reply=outbound["text"] if outbound else None,
        gate=f"{gate['action']}: {gate['reason']}" if gate else "",
        deciders=deciders,
        notes=notes,
        latency_ms=round(latency_ms, 1),
    )


def check_expectations(record: TurnRecord, expect: dict[str, Any]) -> list[str]:
    """Which of a turn's expectations the record does not meet."""
    failed = []
    if "intent" in expect and record.intent != expect["intent"]:
        failed.append(f"intent {record.intent} != {expect['intent']}")
    if "next_message" in expect and record.next_message != expect["next_message"]:
        failed.append(f"next message {record.next_message} != {expect['next_message']}")
    if expect.get("no_message") and record.reply:
        failed.append("a message was sent but none was expected")
    if "category" in expect and not any(
        p["category"].startswith(expect["category"]) for p in record.products
    ):
        failed.append(f"no product in category {expect['category']}")
    return failed


async def seed_demo_shoppers(agent: Agent, shoppers: dict[str, DemoShopper]) -> None:
    """Put the demo shoppers, their preferences and browsing histories into the store."""
    for shopper in shoppers.values():
        await agent.seed_shopper(
            shopper.phone,
            first_name=shopper.first_name,
            timezone=shopper.timezone,
            preferences=shopper.preferences.model_dump(exclude_none=True)
            if hasattr(shopper.preferences, "model_dump")
            else dict(shopper.preferences or {}),
            consent=shopper.consent,
            events=[
                e.model_dump() if hasattr(e, "model_dump") else dict(e) for e in shopper.events
            ],
        )


async def play(agent: Agent, conversation: Conversation) -> list[TurnRecord]:
    """Run one scripted conversation turn by turn."""
    shopper = load_shoppers()[conversation.shopper]
    records = []
    for turn in conversation.turns:
        start = time.perf_counter()
        if turn.trigger:
            state = await agent.trigger(shopper.phone, turn.trigger)  # type: ignore[arg-type]
        else:
            state = await agent.receive(shopper.phone, turn.text or "")
        record = record_turn(
            conversation.shopper,
            turn.text,
            turn.trigger,
            state,
            (time.perf_counter() - start) * 1000,
        )
        record.failed_expectations = check_expectations(
            record, turn.expect.model_dump(exclude_none=True)
        )
        records.append(record)
    return records
