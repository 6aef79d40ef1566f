"""A durable inbox for inbound texts: each processed at least once, answered at most once.

Every inbound text is written to the store (namespace `sms_inbox`, key = Twilio's
`MessageSid`) before its turn runs, and marked answered with its reply afterwards. A
carrier retry of the same `MessageSid` gets the recorded reply without a second run; a
retry that arrives while the first is still running waits for it. Texts whose turn never
finished (the process died, the database was down) are found by `recover` and answered
through the sender, unless the message log shows a reply already went out.

An entry is `received` until its turn finishes, then `answered` (the reply went out, in
the webhook response or through the sender, or the turn decided to send nothing) or
`failed` (the sender refused the reply after its retries). Recovery sends a failed reply
again on later passes, up to `MAX_RECOVERY_TRIES`; one that never goes stays `failed` with
its error, visible to an operator, never `answered`.

A reply that goes back in the webhook response is marked answered by `responding`, which
the webhook calls just before it writes the response: nothing else happens between the two,
so a process killed in between loses as little as it can. A reply whose response is never
written (the request failed after its turn) stays `received`, and recovery sends it by SMS.
Exactly once cannot be promised over a webhook: a kill between the mark and the write still
loses that one reply (at most once, never twice).

The webhook waits for the reply `reply_within` (`TEXTCART_WEBHOOK_REPLY_S`, 10 s: Twilio
gives a webhook 15 s). A turn that takes longer, behind a queue of other shoppers' turns,
is not dropped: the webhook answers with an empty response, and the reply goes through
the sender as soon as the turn ends. A response nobody waits for any more never carries
a reply.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

from langgraph.store.base import BaseStore, Item
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from textcart import settings
from textcart.server.security import api_keys
from textcart.server.thread_turns import ThreadTurns
from textcart.tools.delivery import redeliver
from textcart.tools.shopper_store import ShopperStore, now_utc, thread_id_for
from textcart.tools.sms import Sender

log = logging.getLogger("textcart.inbox")

INBOX: tuple[str, ...] = ("sms_inbox",)
# Answered entries are kept this long to recognise late carrier retries.
KEEP_ANSWERED = timedelta(days=7)
# A received text older than this with no answer is treated as lost by its process.
STALE_AFTER = timedelta(minutes=2)
# How many recovery passes try to deliver a reply whose sending failed.
MAX_RECOVERY_TRIES = 5
# How long the webhook waits for a reply before it answers empty and lets the sender send it.
REPLY_WITHIN = timedelta(seconds=10)


def _age(now: datetime, then: datetime) -> timedelta:
    # The SQLite store hands back naive UTC times; PostgreSQL aware ones.
    return now - (then if then.tzinfo else then.replace(tzinfo=UTC))


class TurnRunner:
    """Runs turns through the LangGraph server's runs API (in process via ASGI)."""

    def __init__(self, assistant_id: str | None = None) -> None:
        """Use `assistant_id` (default `$TEXTCART_ASSISTANT` or the `textcart` graph)."""
        self.assistant_id = assistant_id or settings.current().assistant
        self._client: LangGraphClient | None = None
        # Set on the production server, which does not queue a thread's runs itself.
        self.thread_turns: ThreadTurns | None = None
        # Threads this process has made sure of: one round trip per shopper, not per text.
        self._threads: set[str] = set()

    @property
    def client(self) -> LangGraphClient:
        """The SDK client; created on first use, inside the server's event loop.

        Under `langgraph dev` it calls the server in process. The production server
        (Aegra) sets `TEXTCART_RUNS_URL` to its own address: the client goes there over
        loopback with the first operator key, and any instance may run the turn.
        """
        if self._client is None:
            url = settings.current().runs_url or None
            keys = api_keys()
            self._client = get_client(url=url, api_key=keys[0] if url and keys else None)
        return self._client

    def one_at_a_time(self, shopper_id: str) -> AbstractAsyncContextManager[None]:
        """Hold the shopper's turn lock on the production server (no-op under `langgraph dev`).

        The inbox checks a text and runs its turn inside it, so a text that reaches two
        instances at once is answered by one and found answered by the other.
        """
        if self.thread_turns is None:
            return nullcontext()
        return self.thread_turns.turn(thread_id_for(shopper_id))

    async def finish_unfinished(self, shopper_id: str) -> None:
        """Wait for runs a crashed instance left on the shopper's thread (production only).

        Called holding the shopper's turn: a run still pending or running then is one the
        engine took back from a dead worker, or one whose webhook died with its instance.
        """
        if self.thread_turns is None:
            return
        thread_id = thread_id_for(shopper_id)
        for run_id in await self.thread_turns.unfinished_runs(thread_id):
            log.warning("waiting for run %s left by a crashed instance", run_id)
            await self.client.runs.join(thread_id, run_id)

    async def run(
        self, shopper_id: str, turn: dict[str, Any], *, reply_in_response: bool = False
    ) -> dict[str, Any]:
        """Run one turn on the shopper's thread, queued behind any run already going."""
        thread_id = thread_id_for(shopper_id)
        if thread_id not in self._threads:
            # The run below creates a missing thread too; this one gives it the shopper's
            # metadata. A thread deleted later is made again by the run, without it.
            await self.client.threads.create(
                thread_id=thread_id, if_exists="do_nothing", metadata={"shopper_id": shopper_id}
            )
            if len(self._threads) >= _THREADS_KEPT:
                self._threads.clear()  # a bounded memory; the next text of each makes sure again
            self._threads.add(thread_id)
        if self.thread_turns is not None:
            return await self._streamed(thread_id, shopper_id, turn, reply_in_response)
        result = await self.client.runs.wait(
            thread_id,
            self.assistant_id,
            input={"shopper_id": shopper_id, "trigger": None, **turn},
            context={"reply_in_response": reply_in_response},
            multitask_strategy="enqueue",
            if_not_exists="create",
        )
        return result if isinstance(result, dict) else {}

    async def _streamed(
        self, thread_id: str, shopper_id: str, turn: dict[str, Any], reply_in_response: bool
    ) -> dict[str, Any]:
        """Run a turn on the production server and return its final state.

        Aegra's `runs.wait` looks for the end of a run every 2 s; its stream is pushed
        through Redis as the run goes, so the last state arrives as soon as it is written.
        The run goes on if this stream dies (Aegra's default is to cancel it): a turn
        half done when its webhook's instance is killed is finished, not redone.
        Only "values" is streamed: it carries the state after each step, an interrupt
        included, and every event costs the engine several Redis round trips.
        """
        state: dict[str, Any] = {}
        async for part in self.client.runs.stream(
            thread_id,
            self.assistant_id,
            input={"shopper_id": shopper_id, "trigger": None, **turn},
            context={"reply_in_response": reply_in_response},
            stream_mode="values",
            if_not_exists="create",
            on_disconnect="continue",
        ):
            if part.event == "values" and isinstance(part.data, dict):
                # The last chunk of an interrupted run is the state with `__interrupt__`.
                state = dict(part.data)
            elif part.event == "error":
                raise RuntimeError(f"the run failed: {part.data}")
        return state


_THREADS_KEPT = 100_000


def _reply_of(result: dict[str, Any]) -> str | None:
    """The text the webhook should answer with, from a finished run's state."""
    if result.get("__interrupt__"):
        return None  # a person reviews the reply; it is sent when they resume the run
    delivery, outbound = result.get("delivery") or {}, result.get("outbound") or {}
    if delivery.get("channel") == "response" and outbound.get("text"):
        return str(outbound["text"])
    return None


class Inbox:
    """Inbound texts, recorded before their turn and answered once."""

    def __init__(
        self,
        kv: BaseStore,
        shoppers: ShopperStore,
        runner: TurnRunner,
        sender: Sender,
        stale_after: timedelta = STALE_AFTER,
        reply_within: timedelta = REPLY_WITHIN,
    ) -> None:
        """Keep the inbox in `kv`; a text unanswered for `stale_after` counts as lost.

        The webhook waits `reply_within` for a reply; after that the sender sends it.
        `sender` re-sends a reply that was written but never left.
        """
        self.kv, self.shoppers, self.runner, self.sender = kv, shoppers, runner, sender
        self.stale_after, self.reply_within = stale_after, reply_within
        self._running: dict[str, asyncio.Task[str | None]] = {}
        # Texts whose webhook stopped waiting (their reply goes through the sender), and
        # texts whose reply is being written into the webhook response: one or the other.
        # A response claim holds the shopper, the reply and when it was claimed, until
        # `responding` marks it answered.
        self._by_sender: set[str] = set()
        self._in_response: dict[str, tuple[str, str | None, datetime]] = {}

    async def answer(self, message_sid: str, phone: str, shopper_id: str, body: str) -> str | None:
        """The reply to one inbound text (None: answer with nothing).

        None also when the turn takes longer than `reply_within`: the reply then follows
        through the sender. The caller writes the reply into its response only if
        `responding` says so, right before writing it.
        """
        task = self._running.get(message_sid)
        if task is None:
            task = asyncio.create_task(self._answer_once(message_sid, phone, shopper_id, body))
            self._running[message_sid] = task
            task.add_done_callback(lambda done: self._finished(message_sid, done))
        done, _ = await asyncio.wait({task}, timeout=self.reply_within.total_seconds())
        if task in done or message_sid in self._in_response:
            return await asyncio.shield(task)
        # No await between the check and this line: the task either puts its reply in
        # this response (it has already claimed it) or sees this and uses the sender.
        self._by_sender.add(message_sid)
        log.info("%s not answered within %s: the reply goes by SMS", message_sid, self.reply_within)
        # The carrier hears "received" only once the text is kept: a text still waiting
        # for the shopper's previous turn is recovered if this process dies.
        await self._accept(message_sid, phone, shopper_id, body)
        return None

    async def responding(self, message_sid: str) -> bool:
        """Mark a reply claimed for the webhook response answered; call just before writing it.

        Returns False when the reply must not be written: the store refused the mark, so
        recovery will send it by SMS instead. True when there is nothing to mark (the reply
        is a carrier retry's recorded one, or goes by SMS).
        """
        claim = self._in_response.pop(message_sid, None)
        if claim is None:
            return True
        shopper_id, reply, _ = claim
        try:
            await self._mark_answered(message_sid, shopper_id, reply)
        except Exception as exc:  # noqa: BLE001 - the entry stays received; recovery sends it
            log.warning("%s not marked answered: %s", message_sid, type(exc).__name__)
            return False
        return True

    def _finished(self, message_sid: str, task: asyncio.Task[str | None]) -> None:
        self._running.pop(message_sid, None)
        self._by_sender.discard(message_sid)
        if task.cancelled() or task.exception() is not None:
            self._in_response.pop(message_sid, None)
        if not task.cancelled() and task.exception() is not None:
            # Seen by the webhook if it still waits; the entry stays for recovery either way.
            log.warning("turn for %s failed: %s", message_sid, type(task.exception()).__name__)

    async def _accept(
        self, message_sid: str, phone: str, shopper_id: str, body: str
    ) -> Item | None:
        """Keep the text as `received` unless the inbox has it; returns the entry it had.

        The number first: a text the inbox holds can always be answered by SMS, even when
        the process dies right after accepting it.
        """
        item = await self.kv.aget(INBOX, message_sid)
        if item is not None:
            return item
        if await self.shoppers.get_profile(shopper_id) is None:
            await self.shoppers.upsert_profile(shopper_id, phone=phone)
        await self.kv.aput(
            INBOX,
            message_sid,
            {
                "status": "received",
                "shopper_id": shopper_id,
                "body": body,
                "received_at": now_utc().isoformat(),
            },
        )
        return None

    async def _answer_once(
        self, message_sid: str, phone: str, shopper_id: str, body: str
    ) -> str | None:
        # The shopper's turn first, so texts are answered in the order they arrived.
        async with self.runner.one_at_a_time(shopper_id):
            item = await self._accept(message_sid, phone, shopper_id, body)
            if item is not None and item.value.get("status") == "answered":
                log.info("retry of %s answered from the inbox", message_sid)
                return item.value.get("reply")  # type: ignore[no-any-return]
            return await self._answer_locked(message_sid, shopper_id, body)

    async def _answer_locked(self, message_sid: str, shopper_id: str, body: str) -> str | None:
        reply = await self._reply(message_sid, shopper_id, body, in_response=True)
        if message_sid in self._by_sender:
            await self._send_logged_reply(
                message_sid, {"status": "received", "shopper_id": shopper_id, "body": body}
            )
            return None
        self._in_response[message_sid] = (shopper_id, reply, now_utc())
        return reply

    async def _reply(
        self, message_sid: str, shopper_id: str, body: str, *, in_response: bool
    ) -> str | None:
        # A run a crashed instance started for this shopper finishes first (it may be this
        # very text's): two runs never share the thread, and none is started twice.
        await self.runner.finish_unfinished(shopper_id)
        logged = await self.shoppers.get_message(shopper_id, f"{message_sid}:reply")
        if logged is not None and (logged.get("delivery") or {}).get("status") == "sent":
            # The turn finished before; its answer may not have reached the carrier.
            channel = logged["delivery"].get("channel")
            return logged["text"] if channel == "response" and in_response else None
        result = await self.runner.run(
            shopper_id,
            {
                "text": body,
                "message_id": message_sid,
                "received_at": now_utc().isoformat(),
            },
            reply_in_response=in_response,
        )
        return _reply_of(result) if in_response else None

    async def _recover_locked(self, sid: str, value: dict[str, Any]) -> bool:
        """Recover one text under the shopper's turn lock, if no one answered it meanwhile."""
        async with self.runner.one_at_a_time(value["shopper_id"]):
            current = await self.kv.aget(INBOX, sid)
            if current is None or current.value.get("status") == "answered":
                return False
            return await self._recover_one(sid, current.value)

    async def _recover_one(self, sid: str, value: dict[str, Any]) -> bool:
        """Answer one text whose turn never finished (or whose reply failed to send).

        Returns True when the reply went out (or the turn chose to send nothing).
        """
        shopper_id = value["shopper_id"]
        await self.runner.finish_unfinished(shopper_id)
        logged = await self.shoppers.get_message(shopper_id, f"{sid}:reply")
        delivery = (logged or {}).get("delivery") or {}
        unsent = delivery.get("status") == "failed" or delivery.get("channel") == "response"
        if logged is not None and unsent:
            return await self._send_logged_reply(sid, value)
        # The turn's own send step uses the sender (with its retries).
        await self._reply(sid, shopper_id, value["body"], in_response=False)
        return await self._record_delivery(sid, value)

    async def _send_logged_reply(self, sid: str, value: dict[str, Any]) -> bool:
        """Send the turn's logged reply through the sender, and record what became of it.

        For a reply that never left: its sending failed, or it was meant for a webhook
        response that died with its process or stopped waiting (an entry is marked
        answered before its response is written, so this one was not). Returns True when
        the reply went out, or the turn chose to send nothing.
        """
        await redeliver(self.shoppers, self.sender, value["shopper_id"], f"{sid}:reply")
        return await self._record_delivery(sid, value)

    async def _record_delivery(self, sid: str, value: dict[str, Any]) -> bool:
        """Mark the text answered, or failed when its logged reply could not be sent."""
        shopper_id = value["shopper_id"]
        logged = await self.shoppers.get_message(shopper_id, f"{sid}:reply")
        delivery = (logged or {}).get("delivery") or {}
        if delivery.get("status") == "failed":
            tries = int(value.get("tries", 0)) + 1
            gave_up = tries >= MAX_RECOVERY_TRIES
            await self.kv.aput(
                INBOX,
                sid,
                {
                    **value,
                    "status": "failed",
                    "error": delivery.get("error"),
                    "tries": tries,
                    "gave_up": gave_up,
                    "failed_at": now_utc().isoformat(),
                },
            )
            level = logging.ERROR if gave_up else logging.WARNING
            log.log(
                level,
                "reply to %s not delivered (recovery try %d): %s",
                sid,
                tries,
                delivery.get("error"),
            )
            return False
        await self._mark_answered(sid, shopper_id, None)
        log.info("answered %s through the sender", sid)
        return True

    async def _mark_answered(self, message_sid: str, shopper_id: str, reply: str | None) -> None:
        await self.kv.aput(
            INBOX,
            message_sid,
            {
                "status": "answered",
                "shopper_id": shopper_id,
                "reply": reply,
                "answered_at": now_utc().isoformat(),
            },
        )

    async def recover_forever(self, interval_s: float) -> None:
        """Run `recover` now and then every `interval_s` seconds; failures wait a round."""
        while True:
            try:
                await self.recover()
            except Exception as exc:  # noqa: BLE001 - the store may be down; try next round
                log.warning("inbox recovery failed: %s", type(exc).__name__)
            await asyncio.sleep(interval_s)

    async def recover(self) -> int:
        """Answer texts whose turn never finished; drop old answered entries.

        Their webhook request is gone, so the reply goes through the sender. Returns how
        many texts were recovered.
        """
        now = now_utc()
        recovered = 0
        offset = 0
        while True:
            items = await self.kv.asearch(INBOX, limit=200, offset=offset)
            if not items:
                return recovered
            offset += len(items)
            for item in items:
                value, sid = item.value, item.key
                if value.get("status") == "answered":
                    if _age(now, item.updated_at) > KEEP_ANSWERED:
                        await self.kv.adelete(INBOX, sid)
                        offset -= 1
                    continue
                if sid in self._running or _age(now, item.updated_at) < self.stale_after:
                    continue
                claim = self._in_response.get(sid)
                if claim is not None and _age(now, claim[2]) < self.stale_after:
                    continue  # its response is being written
                if value.get("status") == "failed" and value.get("gave_up"):
                    continue
                try:
                    if await self._recover_locked(sid, value):
                        recovered += 1
                except Exception as exc:  # noqa: BLE001 - left for the next recovery pass
                    log.warning("recovering %s failed: %s", sid, type(exc).__name__)
