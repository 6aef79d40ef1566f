"""Load on the real server: many shoppers texting at once through the SMS webhook.

    .venv/bin/python benchmarks/load.py [--mode dev|production] [--instances 2] [--kill-one]
        [--shoppers 50] [--turns 5] [--in-process-turns 100] [--url URL]

Without `--url` it starts every service it needs in a temporary directory and stops them
at the end: the embedded Weaviate with the demo catalog (classic deciders), then
- `--mode dev`: `textcart serve` (`langgraph dev`, SQLite);
- `--mode production`: `textcart serve --production --instances N` (Aegra with its own
  PostgreSQL and Redis).
Each simulated shopper sends its texts one after another, waiting for each reply as a
phone would; all shoppers run at once. Every request goes over loopback to
`POST /sms/inbound`, signed with `--auth-token` (default: the server's TWILIO_AUTH_TOKEN);
the accounting reads the store with `--api-key` (default: the first of TEXTCART_API_KEYS).
A server this script starts gets a fresh token and key of its own.

In the same run, before the load, the same graph answers `--in-process-turns` texts in this
process, one after another, on the same Weaviate and the same kind of database (SQLite in
dev mode, the server's PostgreSQL in production mode): the turn's own cost, without HTTP
or a server's queue.

`--kill-one` (production) kills one server instance with SIGKILL once a third of the texts
are sent; the supervisor starts a new one. Texts whose webhook request died with it are
answered through the sender (the outbox file) by the inbox's recovery, so the accounting
waits until every text the inbox accepted is answered.

Prints throughput (turns/s), webhook latency p50/p95/p99, and the reply accounting read
back from each shopper's message log through the server's store API, then as its last line
one JSON object with every figure:
- lost: a text that got no reply at all (no TwiML reply and nothing sent), is missing from
  the log, or whose TwiML reply is not the one logged;
- duplicated: a text answered twice (in TwiML and by the sender, or by the sender twice),
  with more than one logged reply, or with a second run.
Both must be 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from typing import Any

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
# How long the accounting waits for the inbox to answer every accepted text.
SETTLE_TIMEOUT_S = 300


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


@dataclass
class Accounting:
    """What the server kept, text by text."""

    lost: int = 0
    duplicated: int = 0
    silent: int = 0
    by_sender: int = 0
    out_of_order: int = 0


def reply_text(twiml: str) -> str | None:
    """The message inside a TwiML answer (unescaped), or None for an empty one."""
    if "<Message>" not in twiml:
        return None
    inner = twiml.split("<Message>", 1)[1].split("</Message>", 1)[0]
    return inner.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def converse(
    client: httpx.AsyncClient,
    url: str,
    token: str | None,
    shopper: Shopper,
    turns: int,
    seed: int,
    sent: list[int] | None = None,
) -> None:
    """Send one shopper's texts in order, each after the previous reply."""
    rng = random.Random(seed)
    for text in rng.sample(TEXTS, k=min(turns, len(TEXTS))):
        sid = f"SM{uuid.uuid4().hex}"
        form = {"MessageSid": sid, "From": shopper.phone, "To": "+15005550006", "Body": text}
        headers = {"X-Twilio-Signature": sms.sign(token, url, form)} if token else {}
        if sent is not None:
            sent[0] += 1
        start = time.perf_counter()
        try:
            response = await client.post(url, data=form, headers=headers)
            status, reply = response.status_code, reply_text(response.text)
        except httpx.HTTPError:
            status, reply = 0, None
        shopper.turns.append(Turn(sid, status, reply, time.perf_counter() - start))


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


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Launch:
    """A server this script started, and the ports of its own PostgreSQL and Redis."""

    process: subprocess.Popen[bytes]
    directory: Path
    mode: str
    pg_port: int
    redis_port: int


def start_server(
    directory: Path, port: int, token: str, api_key: str, mode: str, instances: int, kill_one: bool
) -> Launch:
    """`textcart serve` in `directory` with every door locked, returned once it answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "TEXTCART_"))}
    env.pop("REDIS_URL", None)
    env.update(
        TWILIO_AUTH_TOKEN=token,
        TEXTCART_API_KEYS=api_key,
        TEXTCART_EVENTS_SECRET=secrets.token_hex(16),
        # Every shopper texts 5 times within a minute or two.
        TEXTCART_INBOUND_RATE="1000/minute",
    )
    if kill_one:
        # Texts of the killed instance are recovered after 45 s (the lease is 10 s).
        env.update(TEXTCART_INBOX_STALE_S="45", TEXTCART_RECOVERY_INTERVAL_S="5")
    command = [sys.executable, "-m", "textcart.cli", "serve", "--port", str(port)]
    command += ["--data-dir", str(directory), "--log-file", str(directory / "server.log")]
    pg_port, redis_port = free_port(), free_port()
    if mode == "production":
        command += ["--production", "--instances", str(instances)]
        command += ["--services-ports", f"{pg_port},{redis_port}"]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("textcart serve exited; see its log in " + str(directory))
        try:
            if httpx.get(f"http://127.0.0.1:{port}/ok", timeout=1).status_code == 200:
                return Launch(process, directory, mode, pg_port, redis_port)
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError("server not ready in 400 s")


def stop_server(launch: Launch) -> None:
    """SIGTERM the server, then stop the Weaviate, PostgreSQL and Redis it started."""
    launch.process.send_signal(signal.SIGTERM)
    try:
        launch.process.wait(timeout=90)
    except subprocess.TimeoutExpired:
        os.killpg(launch.process.pid, signal.SIGKILL)
        launch.process.wait()
    subprocess.run(
        [sys.executable, "-m", "textcart.cli", "stop", "--data-dir", str(launch.directory)],
        check=False,
        stdout=subprocess.DEVNULL,
    )


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def engine_instances(launch: Launch) -> list[int]:
    """Pids of the server instances (uvicorn's worker processes) under `textcart serve`."""
    instances = []
    for engine in _children(launch.process.pid):
        for child in _children(engine):
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            if b"multiprocessing.spawn" in cmdline:
                instances.append(child)
    return instances


async def kill_one_when(launch: Launch, sent: list[int], at: int) -> int | None:
    """SIGKILL one instance once `at` texts have been sent; returns its pid."""
    while sent[0] < at:
        await asyncio.sleep(0.05)
    instances = engine_instances(launch)
    if not instances:
        print("no instance to kill", file=sys.stderr)
        return None
    victim = instances[0]
    os.kill(victim, signal.SIGKILL)
    print(f"killed instance {victim} after {sent[0]} texts", file=sys.stderr)
    return victim


async def in_process_turns(turns: int, seed: int) -> tuple[float, list[float]]:
    """Answer `turns` texts in this process, one after another: (turns/s, latencies in ms).

    The same graph, catalog and kind of database as the server: the turn's own cost.
    """
    from textcart.agent import Agent
    from textcart.graph.context import Context

    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="textcart-inproc-") as sqlite_dir:
        async with Agent.open(Path(sqlite_dir), Context(model=None)) as agent:
            phones = [f"+1415{300 + seed % 600:03d}{8000 + i:04d}" for i in range(10)]
            for i in range(5):  # warm-up: model loading and connections are not counted
                await agent.receive(phones[i % len(phones)], rng.choice(TEXTS))
            latencies = []
            start = time.perf_counter()
            for i in range(turns):
                began = time.perf_counter()
                await agent.receive(phones[i % len(phones)], rng.choice(TEXTS))
                latencies.append((time.perf_counter() - began) * 1000)
            wall = time.perf_counter() - start
    from textcart.graph.services import default_services

    await (await default_services()).drop_catalog_connection()
    return turns / wall, latencies


async def run(
    base_url: str,
    token: str | None,
    api_key: str | None,
    args: argparse.Namespace,
    launch: Launch | None = None,
) -> dict[str, Any]:
    """Drive the load, print the figures and return them."""
    in_rate, in_latencies = 0.0, [0.0]
    if args.in_process_turns:
        in_rate, in_latencies = await in_process_turns(args.in_process_turns, args.seed)
        print(
            f"in process: {args.in_process_turns} turns one after another, {in_rate:.2f} turns/s,"
            f" p50 {percentile(in_latencies, 50):.0f} ms"
        )
    url = f"{base_url}/sms/inbound"
    # Valid North American numbers (area code 415, an exchange from 200 to 999).
    exchange = 200 + args.seed % 800
    shoppers = [Shopper(f"+1415{exchange:03d}{i:04d}") for i in range(args.shoppers)]
    limits = httpx.Limits(max_connections=args.shoppers)
    sent = [0]
    victim = None
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        # One warm-up turn so model loading is not counted as latency.
        await converse(client, url, token, Shopper(f"+1415{exchange:03d}9999"), 1, args.seed)
        killer = None
        if args.kill_one and launch is not None:
            total_texts = args.shoppers * min(args.turns, len(TEXTS))
            killer = asyncio.create_task(kill_one_when(launch, sent, total_texts // 3))
        start = time.perf_counter()
        await asyncio.gather(
            *(
                converse(client, url, token, s, args.turns, args.seed + i, sent)
                for i, s in enumerate(shoppers)
            )
        )
        wall = time.perf_counter() - start
        if killer is not None:
            victim = await killer
    latencies = [t.seconds * 1000 for s in shoppers for t in s.turns]
    outbox = launch.directory / "outbox.jsonl" if launch is not None else None
    tally = await account(base_url, api_key, shoppers, outbox, wait_for_recovery=args.kill_one)
    total = len(latencies)
    print(f"{args.shoppers} shoppers x {args.turns} turns = {total} webhook turns in {wall:.1f} s")
    print(f"throughput: {total / wall:.2f} turns/s")
    print(
        f"latency ms: p50 {percentile(latencies, 50):.0f}  p95 {percentile(latencies, 95):.0f}"
        f"  p99 {percentile(latencies, 99):.0f}  mean {statistics.fmean(latencies):.0f}"
    )
    print(
        f"lost replies: {tally.lost}   duplicated replies: {tally.duplicated}   "
        f"no reply by decision: {tally.silent}   answered by the sender: {tally.by_sender}   "
        f"shoppers with replies out of order: {tally.out_of_order}"
    )
    return {
        "mode": args.mode,
        "instances": args.instances if args.mode == "production" else 1,
        "kill_one": bool(args.kill_one),
        "killed_pid": victim,
        "shoppers": args.shoppers,
        "texts": total,
        "cores": os.cpu_count(),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "turns_per_s": round(total / wall, 2),
        "latency_ms_p50": round(percentile(latencies, 50), 1),
        "latency_ms_p95": round(percentile(latencies, 95), 1),
        "latency_ms_p99": round(percentile(latencies, 99), 1),
        "lost": tally.lost,
        "duplicated": tally.duplicated,
        "out_of_order": tally.out_of_order,
        "answered_by_sender": tally.by_sender,
        "no_reply_by_decision": tally.silent,
        "in_process_turns_per_s": round(in_rate, 2),
        "in_process_latency_ms_p50": round(percentile(in_latencies, 50), 1),
    }


def main() -> None:
    """Parse arguments, start the services if no server was given, run the load."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["dev", "production"], default="dev")
    parser.add_argument("--instances", type=int, default=2, help="server instances (production)")
    parser.add_argument("--kill-one", action="store_true", help="SIGKILL one instance mid-run")
    parser.add_argument("--shoppers", type=int, default=50)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--in-process-turns", type=int, default=100)
    parser.add_argument("--url", help="a running server; default: start one for this run")
    parser.add_argument("--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN"))
    keys = os.environ.get("TEXTCART_API_KEYS", "").split(",")
    parser.add_argument("--api-key", default=keys[0].strip() or None)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.kill_one and (args.mode != "production" or args.url):
        parser.error("--kill-one needs --mode production and a server this script starts")
    if args.url:
        figures = asyncio.run(run(args.url.rstrip("/"), args.auth_token, args.api_key, args))
        print(json.dumps(figures))
        return
    with tempfile.TemporaryDirectory(prefix="textcart-load-") as tmp:
        directory, port = Path(tmp), free_port()
        token, api_key = secrets.token_hex(16), secrets.token_hex(16)
        launch = start_server(
            directory, port, token, api_key, args.mode, args.instances, args.kill_one
        )
        # The in-process turns use the server's Weaviate (and its PostgreSQL in production).
        os.environ["TEXTCART_DATA_DIR"] = str(directory)
        os.environ.pop("WEAVIATE_URL", None)
        if args.mode == "production":
            os.environ["TEXTCART_DATABASE_URL"] = (
                f"postgresql://postgres@127.0.0.1:{launch.pg_port}/postgres"
            )
        else:
            os.environ.pop("TEXTCART_DATABASE_URL", None)
        try:
            figures = asyncio.run(run(f"http://127.0.0.1:{port}", token, api_key, args, launch))
        finally:
            stop_server(launch)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
