"""Draining the proactive queue: the one drain, and the server's scheduler on top of it."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from langgraph.store.memory import InMemoryStore

from textcart.server.inbox import TurnRunner
from textcart.server.scheduler import ProactiveScheduler
from textcart.tools.shopper_store import ShopperStore, now_utc, shopper_id_for_phone

T0 = datetime(2026, 6, 1, 13, 0, tzinfo=UTC)
A = shopper_id_for_phone("+12125550142")
B = shopper_id_for_phone("+14155550177")


async def test_each_due_send_is_taken_once_and_a_send_queued_again_survives() -> None:
    store = ShopperStore(InMemoryStore())
    await store.queue_proactive(A, "browse_abandonment", T0)
    await store.queue_proactive(B, "cart_abandonment", T0 + timedelta(hours=3))
    taken = []
    async for due in store.take_due_proactive(T0):
        taken.append(due)
        # What the gate does in quiet hours: queue the same trigger again, for later.
        await store.queue_proactive(due.shopper_id, due.trigger, T0 + timedelta(hours=12))
    assert [(d.shopper_id, d.trigger, d.not_before) for d in taken] == [
        (A, "browse_abandonment", T0.isoformat())
    ]
    expected = hashlib.sha256(f"{A}:browse_abandonment:{T0.isoformat()}".encode()).hexdigest()
    assert taken[0].key == expected
    assert [(e["shopper_id"], e["not_before"]) for e in await store.queued_proactive()] == [
        (B, (T0 + timedelta(hours=3)).isoformat()),
        (A, (T0 + timedelta(hours=12)).isoformat()),
    ]
    assert [d async for d in store.take_due_proactive(T0 + timedelta(hours=1))] == []


class RecordingRunner(TurnRunner):
    """Stands in for the LangGraph runs API: records each turn, delivers or fails it."""

    def __init__(self, fail_for: str | None = None, undelivered: bool = False) -> None:
        super().__init__("textcart")
        self.turns: list[tuple[str, dict[str, Any]]] = []
        self.fail_for, self.undelivered = fail_for, undelivered

    async def run(
        self, shopper_id: str, turn: dict[str, Any], *, reply_in_response: bool = False
    ) -> dict[str, Any]:
        self.turns.append((shopper_id, turn))
        if shopper_id == self.fail_for:
            raise ConnectionError("the runs API is down")
        if self.undelivered:
            return {"delivery": {"status": "failed", "error": "carrier refused"}}
        return {"delivery": {"status": "sent"}}


async def test_the_scheduler_runs_due_sends_under_their_queue_key() -> None:
    store = ShopperStore(InMemoryStore())
    await store.queue_proactive(A, "browse_abandonment", T0)
    await store.queue_proactive(B, "cart_abandonment", T0 + timedelta(hours=3))
    runner = RecordingRunner()
    scheduler = ProactiveScheduler(store, runner, interval_s=60)
    assert await scheduler.run_due(T0) == 1
    key = hashlib.sha256(f"{A}:browse_abandonment:{T0.isoformat()}".encode()).hexdigest()
    assert runner.turns == [
        (
            A,
            {
                "text": None,
                "trigger": "browse_abandonment",
                "message_id": f"browse_abandonment-{key[:16]}",
            },
        )
    ]
    assert await scheduler.run_due(T0) == 0  # taken off the queue: not run twice
    assert scheduler.stats() == {"sent_runs": 1, "stale": 0, "failed": 0, "send_failed": 0}


async def test_the_scheduler_drops_a_nudge_the_shopper_has_moved_past() -> None:
    store = ShopperStore(InMemoryStore())
    await store.queue_proactive(A, "cart_abandonment", T0)
    await store.queue_proactive(B, "browse_abandonment", T0)
    # After queuing: A bought; B texted the store. Both nudges would be stale.
    later = now_utc() + timedelta(minutes=1)
    await store.add_event(A, "purchased", at=later)
    await store.log_message(
        B,
        "in-1",
        {"message_id": "in-1", "direction": "inbound", "text": "hi", "at": later.isoformat()},
    )
    runner = RecordingRunner()
    scheduler = ProactiveScheduler(store, runner, interval_s=60)
    assert await scheduler.run_due(T0) == 0
    assert runner.turns == []
    assert scheduler.stats()["stale"] == 2
    assert await store.queued_proactive() == []


async def test_one_failing_shopper_does_not_stop_the_others() -> None:
    store = ShopperStore(InMemoryStore())
    await store.queue_proactive(A, "browse_abandonment", T0)
    await store.queue_proactive(B, "browse_abandonment", T0 + timedelta(minutes=1))
    runner = RecordingRunner(fail_for=A)
    scheduler = ProactiveScheduler(store, runner, interval_s=60)
    assert await scheduler.run_due(T0 + timedelta(hours=1)) == 1
    assert [shopper for shopper, _ in runner.turns] == [A, B]
    assert scheduler.stats() == {"sent_runs": 1, "stale": 0, "failed": 1, "send_failed": 0}
    undelivered = ProactiveScheduler(store, RecordingRunner(undelivered=True), interval_s=60)
    await store.queue_proactive(A, "cart_abandonment", T0)
    assert await undelivered.run_due(T0) == 1
    assert undelivered.stats()["send_failed"] == 1
