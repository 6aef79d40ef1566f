"""The webhook waits a bounded time for a reply; a later reply goes by SMS, once.

Twilio gives a webhook 15 s. Behind a queue of other shoppers' turns a turn can take
longer: the webhook then answers empty and the reply follows through the sender when the
turn ends, never in a response nobody reads and never twice. A text the webhook stops
waiting for is in the inbox before the empty answer, so a crash after it loses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from langgraph.store.memory import InMemoryStore

from textcart.server.inbox import INBOX, Inbox, TurnRunner
from textcart.tools import sms
from textcart.tools.shopper_store import ShopperStore, shopper_id_for_phone

PHONE = "+14155550177"
SHOPPER = shopper_id_for_phone(PHONE)


class ListSender:
    """Keeps what it sends."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []

    async def send(self, to: str, text: str, *, idempotency_key: str) -> sms.SentMessage:
        self.sent.append((to, text, idempotency_key))
        return sms.SentMessage(to=to, text=text, provider_id="p1", channel="test")


class GatedRunner(TurnRunner):
    """A turn that ends when the test says so and logs its reply as the graph's send step does.

    With `reply_in_response` the graph logs the reply as going back in the webhook
    response (`channel: response`), without sending it.
    """

    def __init__(self, shoppers: ShopperStore) -> None:
        super().__init__("textcart")
        self.shoppers, self.runs = shoppers, 0
        self.release = asyncio.Event()
        self.turn_free = asyncio.Event()
        self.turn_free.set()

    @asynccontextmanager
    async def _held(self) -> AsyncIterator[None]:
        await self.turn_free.wait()
        yield

    def one_at_a_time(self, shopper_id: str) -> Any:
        return self._held()

    async def run(
        self, shopper_id: str, turn: dict[str, Any], *, reply_in_response: bool = False
    ) -> dict[str, Any]:
        self.runs += 1
        await self.release.wait()
        reply_id = f"{turn['message_id']}:reply"
        delivery = {"status": "sent", "channel": "response" if reply_in_response else "test"}
        outbound = {"text": f"Answer to {turn['text']}"}
        await self.shoppers.log_message(
            shopper_id,
            reply_id,
            {
                "message_id": reply_id,
                "direction": "outbound",
                "in_reply_to": turn["message_id"],
                "text": outbound["text"],
                "at": "x",
                "delivery": delivery,
            },
        )
        return {"delivery": delivery, "outbound": outbound}


def _inbox(monkeypatch: Any, reply_within_s: float) -> tuple[Inbox, GatedRunner, ListSender]:
    kv = InMemoryStore()
    shoppers = ShopperStore(kv)
    runner = GatedRunner(shoppers)
    sender = ListSender()
    inbox = Inbox(
        kv,
        shoppers,
        runner,
        sender,  # type: ignore[arg-type]
        reply_within=timedelta(seconds=reply_within_s),
    )
    return inbox, runner, sender


async def _settled(inbox: Inbox, sid: str) -> dict[str, Any]:
    for _ in range(200):
        item = await inbox.kv.aget(INBOX, sid)
        if item is not None and item.value["status"] != "received":
            return item.value
        await asyncio.sleep(0.01)
    raise AssertionError(f"{sid} was never settled")


async def test_a_quick_turn_answers_in_the_response_and_sends_nothing(monkeypatch: Any) -> None:
    inbox, runner, sender = _inbox(monkeypatch, reply_within_s=5)
    runner.release.set()
    reply = await inbox.answer("SM1", PHONE, SHOPPER, "boots?")
    assert reply == "Answer to boots?"
    assert sender.sent == []
    entry = await inbox.kv.aget(INBOX, "SM1")
    assert entry is not None and entry.value["status"] == "received", (
        "not answered until its response is about to be written"
    )
    assert await inbox.responding("SM1"), "the webhook may write the reply"
    entry = await _settled(inbox, "SM1")
    assert entry["status"] == "answered" and entry["reply"] == "Answer to boots?"


async def test_a_slow_turn_answers_empty_and_its_reply_goes_by_sms_once(monkeypatch: Any) -> None:
    inbox, runner, sender = _inbox(monkeypatch, reply_within_s=0.05)
    reply = await inbox.answer("SM2", PHONE, SHOPPER, "tents?")
    assert reply is None, "the webhook stops waiting and answers with an empty response"
    assert sender.sent == [], "nothing is sent before the turn ends"
    runner.release.set()
    entry = await _settled(inbox, "SM2")
    assert entry["status"] == "answered" and entry["reply"] is None
    assert sender.sent == [(PHONE, "Answer to tents?", "SM2:reply")]
    logged = await inbox.shoppers.get_message(SHOPPER, "SM2:reply")
    assert logged is not None and logged["delivery"]["channel"] == "test"
    # The carrier retries the same text: answered from the inbox, nothing sent or run again.
    assert await inbox.answer("SM2", PHONE, SHOPPER, "tents?") is None
    assert len(sender.sent) == 1 and runner.runs == 1


async def test_a_retry_while_the_slow_turn_runs_gets_no_second_reply(monkeypatch: Any) -> None:
    inbox, runner, sender = _inbox(monkeypatch, reply_within_s=0.05)
    assert await inbox.answer("SM3", PHONE, SHOPPER, "socks?") is None
    assert await inbox.answer("SM3", PHONE, SHOPPER, "socks?") is None
    runner.release.set()
    await _settled(inbox, "SM3")
    assert runner.runs == 1 and len(sender.sent) == 1


async def test_a_text_still_waiting_for_the_shoppers_turn_is_kept_before_the_empty_answer(
    monkeypatch: Any,
) -> None:
    inbox, runner, sender = _inbox(monkeypatch, reply_within_s=0.05)
    runner.turn_free.clear()  # another turn of this shopper holds it
    assert await inbox.answer("SM4", PHONE, SHOPPER, "jackets?") is None
    entry = await inbox.kv.aget(INBOX, "SM4")
    assert entry is not None and entry.value["status"] == "received"
    assert entry.value["body"] == "jackets?", "recovery can answer it if this process dies"
    assert await inbox.shoppers.get_profile(SHOPPER) is not None, "and knows the number"
    assert runner.runs == 0
    runner.turn_free.set()
    runner.release.set()
    await _settled(inbox, "SM4")
    assert sender.sent == [(PHONE, "Answer to jackets?", "SM4:reply")]


async def test_a_reply_whose_response_is_never_written_goes_by_sms_once(monkeypatch: Any) -> None:
    inbox, runner, sender = _inbox(monkeypatch, reply_within_s=5)
    inbox.stale_after = timedelta(0)
    runner.release.set()
    assert await inbox.answer("SM5", PHONE, SHOPPER, "gloves?") == "Answer to gloves?"
    # The webhook is about to write the response: recovery leaves the text to it.
    inbox.stale_after = timedelta(minutes=1)
    assert await inbox.recover() == 0
    # The request died before its response was written (no `responding`): once the claim
    # is stale, recovery sends the logged reply by SMS.
    inbox.stale_after = timedelta(0)
    assert await inbox.recover() == 1
    assert sender.sent == [(PHONE, "Answer to gloves?", "SM5:reply")]
    entry = await _settled(inbox, "SM5")
    assert entry["status"] == "answered"
    assert await inbox.recover() == 0 and len(sender.sent) == 1


class RefusingStore(InMemoryStore):
    """A store that goes away after the turn: writes to the inbox fail."""

    refuse = False

    async def aput(self, namespace: tuple[str, ...], *args: Any, **kwargs: Any) -> None:
        if self.refuse and namespace == INBOX:
            raise ConnectionError("the database went away")
        await super().aput(namespace, *args, **kwargs)


async def test_a_reply_that_cannot_be_marked_is_not_written(monkeypatch: Any) -> None:
    kv = RefusingStore()
    shoppers = ShopperStore(kv)
    runner, sender = GatedRunner(shoppers), ListSender()
    inbox = Inbox(kv, shoppers, runner, sender, reply_within=timedelta(seconds=5))  # type: ignore[arg-type]
    runner.release.set()
    assert await inbox.answer("SM6", PHONE, SHOPPER, "hats?") == "Answer to hats?"
    kv.refuse = True
    assert not await inbox.responding("SM6"), "an unmarked reply would be sent twice"
    kv.refuse = False
    inbox.stale_after = timedelta(0)
    assert await inbox.recover() == 1
    assert sender.sent == [(PHONE, "Answer to hats?", "SM6:reply")]
