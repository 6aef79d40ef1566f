"""Load on the real server: many shoppers texting at once through the SMS webhook.

    .venv/bin/python benchmarks/load.py [--shoppers 50] [--turns 5] [--url URL]

Without `--url` it starts `textcart serve` (classic deciders, SQLite, embedded Weaviate
with the demo catalog) on a free port in a temporary directory and stops it at the end.
Each simulated shopper sends its texts one after another, waiting for each reply as a
phone would; all shoppers run at once. Every request goes over loopback to
`POST /sms/inbound`, signed with `--auth-token` (default: the server's TWILIO_AUTH_TOKEN);
the accounting reads the store with `--api-key` (default: the first of TEXTCART_API_KEYS).
A server this script starts gets a fresh token and key of its own.

Prints throughput (turns/s), webhook latency p50/p95/p99, and the reply accounting read
back from each shopper's message log through the server's store API:
- lost: a text that got an error, is missing from the log, or whose TwiML reply is not
  the one logged;
- duplicated: a text with more than one logged reply, or a second run for the same text.
Both must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient

from textcart.evaluation.retrieval import percentile
from textcart.tools import sms
from textcart.tools.shopper_store import shopper_id_for_phone, thread_id_for

# What shoppers text a store, none of them a hand-off or an opt-out (those end the run).
TEXTS = [
    "do you have waterproof hiking boots?",
    "anything under $120?",
    "what sizes do you have in the trail runners?",
    "is the rain jacket packable?",
    "how long does shipping take?",
    "I need a warm base layer for skiing",
    "which tent is lightest for two people?",
    "does the fleece come in blue?",
    "what's your return policy?",
    "can you recommend socks for long hikes?",
    "how warm is the down parka?",
    "I'm a size 10, what runs true to size?",
]


@dataclass
class Turn:
    """One text sent and what came back."""

    sid: str
    status: int
    reply: str | None
    seconds: float


@dataclass
class Shopper:
    """A simulated phone and the turns it sent."""

    phone: str
    turns: list[Turn] = field(default_factory=list)


def reply_text(twiml: str) -> str | None:
    """The message inside a TwiML answer (unescaped), or None for an empty one."""
    if "<Message>" not in twiml:
        return None
    inner = twiml.split("<Message>", 1)[1].split("</Message>", 1)[0]
    return inner.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def converse(
    client: httpx.AsyncClient, url: str, token: str | None, shopper: Shopper, turns: int, seed: int
) -> None:
    """Send one shopper's texts in order, each after the previous reply."""
    rng = random.Random(seed)
    for text in rng.sample(TEXTS, k=min(turns, len(TEXTS))):
        sid = f"SM{uuid.uuid4().hex}"
        form = {"MessageSid": sid, "From": shopper.phone, "To": "+15005550006", "Body": text}
        headers = {"X-Twilio-Signature": sms.sign(token, url, form)} if token else {}
        start = time.perf_counter()
        try:
            response = await client.post(url, data=form, headers=headers)
            status, reply = response.status_code, reply_text(response.text)
        except httpx.HTTPError:
            status, reply = 0, None
        shopper.turns.append(Turn(sid, status, reply, time.perf_counter() - start))


async def account(
    base_url: str, api_key: str | None, shoppers: list[Shopper]
) -> tuple[int, int, int]:
    """(lost, duplicated, silent by decision) from the logs and runs the server kept."""
    async with get_client(url=base_url, api_key=api_key) as client:
        return await _account(client, shoppers)


async def _account(client: LangGraphClient, shoppers: list[Shopper]) -> tuple[int, int, int]:
    lost = duplicated = silent = 0
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
            duplicated += len(runs) - len(shopper.turns)
        for turn in shopper.turns:
            logged_reply = log.get(f"{turn.sid}:reply")
            if turn.status != 200 or turn.sid not in log:
                lost += 1
                print(f"lost: {turn.sid} got HTTP {turn.status}", file=sys.stderr)
            elif turn.reply is not None and (
                logged_reply is None or logged_reply["text"] != turn.reply
            ):
                lost += 1
                print(
                    f"lost: {turn.sid} answered {turn.reply!r}, logged {logged_reply!r}",
                    file=sys.stderr,
                )
            elif turn.reply is None:
                silent += 1
            if replies_to.get(turn.sid, 0) > 1:
                duplicated += 1
    return lost, duplicated, silent


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(directory: Path, port: int, token: str, api_key: str) -> subprocess.Popen[bytes]:
    """`textcart serve` in `directory` with every door locked, returned once it answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TEXTCART_"))}
    env.update(
        TWILIO_AUTH_TOKEN=token,
        TEXTCART_API_KEYS=api_key,
        TEXTCART_EVENTS_SECRET=secrets.token_hex(16),
    )
    command = [sys.executable, "-m", "textcart.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(directory), "--log-file", str(directory / "server.log")]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("textcart serve exited; see its log in " + str(directory))
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ok", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError("server not ready in 300 s")


async def run(
    base_url: str, token: str | None, api_key: str | None, shoppers_n: int, turns: int, seed: int
) -> None:
    """Drive the load and print the figures."""
    url = f"{base_url}/sms/inbound"
    # Valid North American numbers (area code 415, an exchange from 200 to 999).
    exchange = 200 + seed % 800
    shoppers = [Shopper(f"+1415{exchange:03d}{i:04d}") for i in range(shoppers_n)]
    limits = httpx.Limits(max_connections=shoppers_n)
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        # One warm-up turn so model loading is not counted as latency.
        await converse(client, url, token, Shopper(f"+1415{exchange:03d}9999"), 1, seed)
        start = time.perf_counter()
        await asyncio.gather(
            *(converse(client, url, token, s, turns, seed + i) for i, s in enumerate(shoppers))
        )
        wall = time.perf_counter() - start
    latencies = [t.seconds * 1000 for s in shoppers for t in s.turns]
    lost, duplicated, silent = await account(base_url, api_key, shoppers)
    total = len(latencies)
    print(f"{shoppers_n} shoppers x {turns} turns = {total} webhook turns in {wall:.1f} s")
    print(f"throughput: {total / wall:.2f} turns/s")
    print(
        f"latency ms: p50 {percentile(latencies, 50):.0f}  p95 {percentile(latencies, 95):.0f}"
        f"  p99 {percentile(latencies, 99):.0f}  mean {statistics.fmean(latencies):.0f}"
    )
    print(
        f"lost replies: {lost}   duplicated replies: {duplicated}   no reply by decision: {silent}"
    )


def main() -> None:
    """Parse arguments, start a server if none was given, run the load."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--url", help="a running server; default: start one for this run")
    parser.add_argument("--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN"))
    keys = os.environ.get("TEXTCART_API_KEYS", "").split(",")
    parser.add_argument("--api-key", default=keys[0].strip() or None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.url:
        asyncio.run(
            run(
                args.url.rstrip("/"),
                args.auth_token,
                args.api_key,
                args.shoppers,
                args.turns,
                args.seed,
            )
        )
        return
    with tempfile.TemporaryDirectory(prefix="textcart-load-") as tmp:
        directory, port = Path(tmp), free_port()
        token, api_key = secrets.token_hex(16), secrets.token_hex(16)
        process = start_server(directory, port, token, api_key)
        try:
            asyncio.run(
                run(
                    f"http://127.0.0.1:{port}", token, api_key, args.shoppers, args.turns, args.seed
                )
            )
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
            subprocess.run(
                [sys.executable, "-m", "textcart.cli", "stop", "--data-dir", str(directory)],
                check=False,
                stdout=subprocess.DEVNULL,
            )


if __name__ == "__main__":
    main()
