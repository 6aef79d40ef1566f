"""Sending without blocking the event loop, retries with backoff, and failures kept visible.

The LangGraph server refuses blocking calls on its event loop (blockbuster); the outbox
sender must write from a worker thread. A send that keeps failing is recorded as failed in
the message log and the inbox, never as answered.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from blockbuster import blockbuster_ctx
from langgraph.store.memory import InMemoryStore
from twilio.base.exceptions import TwilioRestException

from textcart.server.inbox import INBOX, MAX_RECOVERY_TRIES, Inbox, TurnRunner
from textcart.tools import sms
from textcart.tools.delivery import deliver
from textcart.tools.shopper_store import ShopperStore, shopper_id_for_phone

PHONE = "+14155550142"


class FlakySender:
    """Fails the first `failures` sends with `error`, then writes to a list."""

    def __init__(self, failures: int, error: Exception | None = None) -> None:
        self.failures, self.error = failures, error or ConnectionError("carrier unreachable")
        self.calls = 0
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, to: str, text: str, *, idempotency_key: str) -> sms.SentMessage:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        self.sent.append((to, text, idempotency_key))
        return sms.SentMessage(to=to, text=text, provider_id=f"p{self.calls}", channel="test")


async def test_outbox_sender_does_not_block_the_event_loop(tmp_path: Path) -> None:
    outbox = sms.OutboxSender(tmp_path / "outbox.jsonl")
    # What the server's run workers enforce: a blocking file write here would raise.
    with blockbuster_ctx():
        await outbox.send(PHONE, "Your cart is waiting", idempotency_key="k1")
        await outbox.send(PHONE, "Second", idempotency_key="k2")
    lines = [json.loads(x) for x in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    assert [(x["to"], x["text"], x["key"]) for x in lines] == [
        (PHONE, "Your cart is waiting", "k1"),
        (PHONE, "Second", "k2"),
    ]


async def test_a_transient_failure_is_retried_with_backoff() -> None:
    sender = FlakySender(failures=2)
    sent, attempts = await sms.send_with_retry(
        sender, PHONE, "hi", idempotency_key="k", attempts=4, backoff_s=0.01
    )
    assert attempts == 3 and sender.calls == 3 and sent.provider_id == "p3"


async def test_a_send_that_keeps_failing_raises_send_failed_after_every_try() -> None:
    sender = FlakySender(failures=10)
    with pytest.raises(sms.SendFailed) as failed:
        await sms.send_with_retry(sender, PHONE, "hi", idempotency_key="k", attempts=3, backoff_s=0)
    assert failed.value.attempts == 3 and sender.calls == 3
    assert "carrier unreachable" in str(failed.value)


async def test_a_refused_number_is_not_retried() -> None:
    refused = TwilioRestException(400, "/Messages.json", "not a mobile number", code=21614)
    sender = FlakySender(failures=10, error=refused)
    with pytest.raises(sms.SendFailed) as failed:
        await sms.send_with_retry(sender, PHONE, "hi", idempotency_key="k", attempts=4, backoff_s=0)
    assert failed.value.attempts == 1 and sender.calls == 1


async def test_deliver_records_the_failure_with_its_tries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTCART_SEND_ATTEMPTS", "2")
    monkeypatch.setenv("TEXTCART_SEND_BACKOFF_S", "0")
    shoppers = ShopperStore(InMemoryStore())
    shopper_id = shopper_id_for_phone(PHONE)
    await shoppers.upsert_profile(shopper_id, phone=PHONE)
    delivery = await deliver(shoppers, FlakySender(failures=5), shopper_id, "hi", "m:reply")
    assert delivery["status"] == "failed" and delivery["attempts"] == 2
    assert "ConnectionError" in delivery["error"]


class FailingRunner(TurnRunner):
    """Stands in for the server's runs API: the turn runs and its sending fails."""

    def __init__(self, shoppers: ShopperStore) -> None:
        super().__init__("textcart")
        self.shoppers, self.runs = shoppers, 0

    async def run(self, shopper_id: str, turn: dict[str, Any], **_: Any) -> dict[str, Any]:
        self.runs += 1
        reply_id = f"{turn['message_id']}:reply"
        failed = {"status": "failed", "channel": None, "error": "BlockingError", "attempts": 4}
        await self.shoppers.log_message(
            shopper_id,
            reply_id,
            {
                "message_id": reply_id,
                "direction": "outbound",
                "text": "Here you go",
                "at": "x",
                "delivery": failed,
            },
        )
        return {"delivery": failed}


async def test_recovery_marks_an_undelivered_reply_failed_never_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import timedelta

    kv = InMemoryStore()
    shoppers = ShopperStore(kv)
    shopper_id = shopper_id_for_phone(PHONE)
    await shoppers.upsert_profile(shopper_id, phone=PHONE)
    runner = FailingRunner(shoppers)
    # Recovery re-sends the logged reply through the sender; make that fail too.
    sender = FlakySender(failures=100)
    inbox = Inbox(kv, shoppers, runner, sender, stale_after=timedelta(0))  # type: ignore[arg-type]
    await kv.aput(
        INBOX,
        "SM1",
        {"status": "received", "shopper_id": shopper_id, "body": "hi?", "received_at": "x"},
    )
    monkeypatch.setenv("TEXTCART_SEND_BACKOFF_S", "0")
    assert await inbox.recover() == 0
    entry = (await kv.aget(INBOX, "SM1")).value  # type: ignore[union-attr]
    assert entry["status"] == "failed" and entry["tries"] == 1 and not entry["gave_up"]
    assert entry["body"] == "hi?", "the text is kept for the next try"
    for _ in range(MAX_RECOVERY_TRIES):
        await inbox.recover()
    entry = (await kv.aget(INBOX, "SM1")).value  # type: ignore[union-attr]
    assert entry["status"] == "failed" and entry["gave_up"]
    assert runner.runs == 1, "later passes re-send the logged reply, not a new turn"
    # Once the carrier is back a failed entry that has not given up is sent and answered.
    await kv.aput(INBOX, "SM2", {**entry, "gave_up": False, "tries": 1})
    await shoppers.log_message(
        shopper_id,
        "SM2:reply",
        {
            "message_id": "SM2:reply",
            "direction": "outbound",
            "text": "Back",
            "at": "y",
            "delivery": {"status": "failed"},
        },
    )
    sender.failures = 0
    assert await inbox.recover() == 1
    assert (await kv.aget(INBOX, "SM2")).value["status"] == "answered"  # type: ignore[union-attr]
    assert sender.sent[-1] == (PHONE, "Back", "SM2:reply")
    logged = await shoppers.get_message(shopper_id, "SM2:reply")
    assert logged is not None and logged["delivery"]["status"] == "sent"


async def test_a_reply_whose_webhook_response_died_is_sent_by_recovery(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The turn finished and logged its TwiML reply, then the process died before answering."""
    from datetime import timedelta

    kv = InMemoryStore()
    shoppers = ShopperStore(kv)
    shopper_id = shopper_id_for_phone(PHONE)
    await shoppers.upsert_profile(shopper_id, phone=PHONE)
    await kv.aput(INBOX, "SM9", {"status": "received", "shopper_id": shopper_id, "body": "hi?"})
    reply = {"status": "sent", "channel": "response", "provider_id": None}
    await shoppers.log_message(
        shopper_id,
        "SM9:reply",
        {
            "message_id": "SM9:reply",
            "direction": "outbound",
            "text": "Hello!",
            "at": "x",
            "delivery": reply,
        },
    )
    sender = FlakySender(failures=0)
    runner = FailingRunner(shoppers)
    inbox = Inbox(kv, shoppers, runner, sender, stale_after=timedelta(0))  # type: ignore[arg-type]
    assert await inbox.recover() == 1
    assert sender.sent == [(PHONE, "Hello!", "SM9:reply")] and runner.runs == 0
    assert (await kv.aget(INBOX, "SM9")).value["status"] == "answered"  # type: ignore[union-attr]
    # A later pass finds it answered and sends nothing again.
    assert await inbox.recover() == 0 and len(sender.sent) == 1
