"""What each simulated shopper sent and got back, and the accounting of it (`load.py`).

- lost: a text that got no reply at all (no TwiML reply and nothing sent), is missing from
  the log, or whose TwiML reply is not the one logged;
- duplicated: a text answered twice (in TwiML and by the sender, or by the sender twice),
  with more than one logged reply, or with a second run;
- out of order: a shopper whose replies were logged in another order than their texts.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from textcart.tools.shopper_store import shopper_id_for_phone, thread_id_for

# How long the accounting waits for the inbox to answer every accepted text, and a phone
# for a reply by SMS.
SETTLE_TIMEOUT_S = 300


@dataclass
class Turn:
    """One text sent and what came back: `seconds` until the reply reached the phone."""

    sid: str
    status: int
    reply: str | None
    seconds: float
    tries: int = 1
    by_sms: bool = False


class OutboxWatch:
    """The texts the server's sender writes to its outbox file, read as they come."""

    def __init__(self, path: Path | None) -> None:
        """Watch `path` (None: no outbox to watch, replies come only in TwiML)."""
        self.path, self._offset, self._read_at = path, 0, 0.0
        self.arrived: dict[str, float] = {}  # message key -> when this script saw it

    def _read(self) -> None:
        # Every waiting shopper asks; the file is read at most every 0.1 s.
        if self.path is None or time.perf_counter() - self._read_at < 0.1:
            return
        self._read_at = time.perf_counter()
        if not self.path.exists():
            return
        with self.path.open("rb") as outbox:
            outbox.seek(self._offset)
            chunk = outbox.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode().splitlines():
            self.arrived.setdefault(json.loads(line)["key"], time.perf_counter())

    async def reply_to(self, sid: str, timeout_s: float) -> float | None:
        """When the reply to `sid` was sent by SMS (perf_counter), waiting up to `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.path is not None:
            self._read()
            if f"{sid}:reply" in self.arrived:
                return self.arrived[f"{sid}:reply"]
            await asyncio.sleep(0.05)
        return None


@dataclass
class Shopper:
    """A simulated phone and the turns it sent."""

    phone: str
    turns: list[Turn] = field(default_factory=list)


@dataclass
class Accounting:
    """What the server kept, text by text."""

    lost: int = 0
    duplicated: int = 0
    silent: int = 0
    by_sender: int = 0
    out_of_order: int = 0


def outbox_sends(outbox: Path | None) -> dict[str, list[dict[str, Any]]]:
    """Texts the sender wrote to the outbox file, by number."""
    sends: dict[str, list[dict[str, Any]]] = {}
    if outbox is None or not outbox.exists():
        return sends
    for line in outbox.read_text().splitlines():
        entry = json.loads(line)
        sends.setdefault(entry["to"], []).append(entry)
    return sends


async def settle(client: LangGraphClient, shoppers: list[Shopper], timeout_s: float) -> int:
    """Wait until the inbox has answered every text it accepted; returns those still open."""
    sids = {t.sid for s in shoppers for t in s.turns}
    deadline = time.monotonic() + timeout_s
    while True:
        open_ = 0
        offset = 0
        while True:
            found = await client.store.search_items(["sms_inbox"], limit=500, offset=offset)
            items = found["items"]
            open_ += sum(
                1 for i in items if i["key"] in sids and i["value"].get("status") != "answered"
            )
            if len(items) < 500:
                break
            offset += len(items)
        if open_ == 0 or time.monotonic() > deadline:
            return open_
        await asyncio.sleep(2)


async def account(
    base_url: str,
    api_key: str | None,
    shoppers: list[Shopper],
    outbox: Path | None,
    wait_for_recovery: bool,
) -> Accounting:
    """Lost, duplicated and silent texts, from the logs, runs and sends the server kept."""
    async with get_client(url=base_url, api_key=api_key) as client:
        if wait_for_recovery:
            still_open = await settle(client, shoppers, SETTLE_TIMEOUT_S)
            if still_open:
                print(f"{still_open} texts still unanswered after recovery", file=sys.stderr)
        return await _account(client, shoppers, outbox_sends(outbox))


async def _account(
    client: LangGraphClient, shoppers: list[Shopper], sends: dict[str, list[dict[str, Any]]]
) -> Accounting:
    tally = Accounting()
    for shopper in shoppers:
        shopper_id = shopper_id_for_phone(shopper.phone)
        found = await client.store.search_items(["shoppers", shopper_id, "messages"], limit=1000)
        log = {item["key"]: item["value"] for item in found["items"]}
        replies_to: dict[str, int] = {}
        for entry in log.values():
            if entry.get("direction") == "outbound" and entry.get("in_reply_to"):
                replies_to[entry["in_reply_to"]] = replies_to.get(entry["in_reply_to"], 0) + 1
        runs = await client.runs.list(thread_id_for(shopper_id), limit=1000)
        if len(runs) > len(shopper.turns):
            tally.duplicated += len(runs) - len(shopper.turns)
        sent_by_key: dict[str, int] = {}
        for entry in sends.get(shopper.phone, []):
            sent_by_key[entry["key"]] = sent_by_key.get(entry["key"], 0) + 1
        for turn in shopper.turns:
            logged_reply = log.get(f"{turn.sid}:reply")
            by_sender = sum(n for key, n in sent_by_key.items() if key.startswith(turn.sid))
            in_twiml = turn.status == 200 and turn.reply is not None
            tally.by_sender += by_sender
            if turn.sid not in log:
                tally.lost += 1
                print(f"lost: {turn.sid} (HTTP {turn.status}) is not in the log", file=sys.stderr)
            elif turn.status != 200 and not by_sender and logged_reply is not None:
                tally.lost += 1
                print(f"lost: {turn.sid} got HTTP {turn.status} and nothing sent", file=sys.stderr)
            elif in_twiml and (logged_reply is None or logged_reply["text"] != turn.reply):
                tally.lost += 1
                print(
                    f"lost: {turn.sid} answered {turn.reply!r}, logged {logged_reply!r}",
                    file=sys.stderr,
                )
            elif not in_twiml and not by_sender:
                tally.silent += 1
            if int(in_twiml) + by_sender > 1 or replies_to.get(turn.sid, 0) > 1:
                tally.duplicated += 1
                print(
                    f"duplicated: {turn.sid} answered {int(in_twiml) + by_sender} times",
                    file=sys.stderr,
                )
        # Replies in order: each text's reply is logged after the reply to the one before.
        reply_times = [
            str(log[f"{t.sid}:reply"].get("at")) for t in shopper.turns if f"{t.sid}:reply" in log
        ]
        if reply_times != sorted(reply_times):
            tally.out_of_order += 1
            print(f"out of order: replies to {shopper.phone}", file=sys.stderr)
    return tally
