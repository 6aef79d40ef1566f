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

A reply comes in the webhook's TwiML, or, when the turn takes longer than the webhook
waits (`TEXTCART_WEBHOOK_REPLY_S`, 10 s), by SMS through the sender after an empty
response: the shopper then waits for that text (the outbox file of a server this script
started) before sending the next one. Latency is the time until the reply reached the
phone, either way. A request whose connection fails (its instance was killed) is sent
again with the same MessageSid, as Twilio retries a webhook; the inbox answers it once.

In the same run, before the load, the same graph answers `--in-process-turns` texts in this
process, one after another, on the same Weaviate and the same kind of database (SQLite in
dev mode, the server's PostgreSQL in production mode): the turn's own cost, without HTTP
or a server's queue.

`--kill-one` (production) kills one server instance with SIGKILL once a third of the texts
are sent; the supervisor starts a new one. Texts whose webhook request died with it are
sent again (same MessageSid), or answered through the sender (the outbox file) by the
inbox's recovery, so the accounting waits until every text the inbox accepted is
answered.

The server's log is copied out of the temporary directory at the end (its path goes to
stderr): a lost text is explained there.

Throughput on two shared cores swings with whatever else runs; what each turn costs does
much less. Both windows (the in-process turns, the load) also count the CPU time the whole
machine was busy (`/proc/stat`: every process, this script's shoppers and the services
included), per turn: `cpu_ms_per_turn` against `in_process_cpu_ms_per_turn`.

Prints throughput (turns/s), reply latency p50/p95/p99, and the reply accounting read
back from each shopper's message log through the server's store API (`load_replies.py`:
lost and duplicated must both be 0), then as its last line one JSON object with every
figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from load_replies import SETTLE_TIMEOUT_S, OutboxWatch, Shopper, Turn, account

from textcart.evaluation.retrieval import percentile
from textcart.server.production_serve import instance_pids, local_database_url
from textcart.tools import sms

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
# Sends of one text whose connection failed (the carrier's retries of the webhook).
CONNECT_TRIES = 4


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
    outbox: OutboxWatch,
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
        status, reply, tries = 0, None, 0
        while tries < CONNECT_TRIES:
            tries += 1
            try:
                response = await client.post(url, data=form, headers=headers)
                status, reply = response.status_code, reply_text(response.text)
                break
            except httpx.TimeoutException:
                break  # the server may still be answering it: not sent twice
            except httpx.TransportError:
                await asyncio.sleep(1)  # the connection died with its instance: retry
        turn = Turn(sid, status, reply, time.perf_counter() - start, tries)
        if status == 200 and reply is None:
            arrived = await outbox.reply_to(sid, SETTLE_TIMEOUT_S)
            if arrived is not None:
                turn.seconds, turn.by_sms = arrived - start, True
        shopper.turns.append(turn)


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


async def kill_one_when(launch: Launch, sent: list[int], at: int) -> int | None:
    """SIGKILL one instance once `at` texts have been sent; returns its pid."""
    while sent[0] < at:
        await asyncio.sleep(0.05)
    instances = instance_pids(launch.process.pid)
    if not instances:
        print("no instance to kill", file=sys.stderr)
        return None
    victim = instances[0]
    os.kill(victim, signal.SIGKILL)
    print(f"killed instance {victim} after {sent[0]} texts", file=sys.stderr)
    return victim


def busy_cpu_s() -> float:
    """CPU seconds the machine has been busy since boot, over all cores (`/proc/stat`)."""
    with open("/proc/stat", encoding="ascii") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(
            int, stat.readline().split()[1:9]
        )
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


async def in_process_turns(turns: int, seed: int) -> tuple[float, list[float], float]:
    """Answer `turns` texts in this process, one after another.

    Returns turns/s, the latencies in ms and the machine's busy CPU ms per turn.

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
            start, cpu = time.perf_counter(), busy_cpu_s()
            for i in range(turns):
                began = time.perf_counter()
                await agent.receive(phones[i % len(phones)], rng.choice(TEXTS))
                latencies.append((time.perf_counter() - began) * 1000)
            wall, cpu = time.perf_counter() - start, busy_cpu_s() - cpu
    from textcart.graph.services import default_services

    await (await default_services()).drop_catalog_connection()
    return turns / wall, latencies, cpu * 1000 / turns


async def run(
    base_url: str,
    token: str | None,
    api_key: str | None,
    args: argparse.Namespace,
    launch: Launch | None = None,
) -> dict[str, Any]:
    """Drive the load, print the figures and return them."""
    in_rate, in_latencies, in_cpu = 0.0, [0.0], 0.0
    if args.in_process_turns:
        in_rate, in_latencies, in_cpu = await in_process_turns(args.in_process_turns, args.seed)
        print(
            f"in process: {args.in_process_turns} turns one after another, {in_rate:.2f} turns/s,"
            f" p50 {percentile(in_latencies, 50):.0f} ms, {in_cpu:.0f} CPU ms a turn"
        )
    url = f"{base_url}/sms/inbound"
    # Valid North American numbers (area code 415, an exchange from 200 to 999).
    exchange = 200 + args.seed % 800
    shoppers = [Shopper(f"+1415{exchange:03d}{i:04d}") for i in range(args.shoppers)]
    limits = httpx.Limits(max_connections=args.shoppers)
    sent = [0]
    victim = None
    outbox = OutboxWatch(launch.directory / "outbox.jsonl" if launch is not None else None)
    async with httpx.AsyncClient(timeout=300, limits=limits) as client:
        # One warm-up turn so model loading is not counted as latency.
        warm_up = Shopper(f"+1415{exchange:03d}9999")
        await converse(client, url, token, warm_up, 1, args.seed, outbox)
        killer = None
        if args.kill_one and launch is not None:
            total_texts = args.shoppers * min(args.turns, len(TEXTS))
            killer = asyncio.create_task(kill_one_when(launch, sent, total_texts // 3))
        start, cpu = time.perf_counter(), busy_cpu_s()
        await asyncio.gather(
            *(
                converse(client, url, token, s, args.turns, args.seed + i, outbox, sent)
                for i, s in enumerate(shoppers)
            )
        )
        wall, cpu = time.perf_counter() - start, busy_cpu_s() - cpu
        if killer is not None:
            victim = await killer
    latencies = [t.seconds * 1000 for s in shoppers for t in s.turns]
    tally = await account(base_url, api_key, shoppers, outbox.path, wait_for_recovery=args.kill_one)
    by_sms = sum(t.by_sms for s in shoppers for t in s.turns)
    retried = sum(t.tries > 1 for s in shoppers for t in s.turns)
    total = len(latencies)
    print(f"{args.shoppers} shoppers x {args.turns} turns = {total} webhook turns in {wall:.1f} s")
    print(f"throughput: {total / wall:.2f} turns/s, {cpu * 1000 / total:.0f} CPU ms a turn")
    print(
        f"latency ms: p50 {percentile(latencies, 50):.0f}  p95 {percentile(latencies, 95):.0f}"
        f"  p99 {percentile(latencies, 99):.0f}  mean {statistics.fmean(latencies):.0f}"
    )
    print(
        f"lost replies: {tally.lost}   duplicated replies: {tally.duplicated}   "
        f"no reply by decision: {tally.silent}   answered by the sender: {tally.by_sender}   "
        f"shoppers with replies out of order: {tally.out_of_order}   "
        f"replies by SMS after an empty webhook answer: {by_sms}   "
        f"texts sent again after a failed connection: {retried}"
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
        "late_replies_by_sms": by_sms,
        "retried_after_connection_error": retried,
        "no_reply_by_decision": tally.silent,
        "in_process_turns_per_s": round(in_rate, 2),
        "in_process_latency_ms_p50": round(percentile(in_latencies, 50), 1),
        "cpu_ms_per_turn": round(cpu * 1000 / total, 1),
        "in_process_cpu_ms_per_turn": round(in_cpu, 1),
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
            os.environ["TEXTCART_DATABASE_URL"] = local_database_url(launch.pg_port)
        else:
            os.environ.pop("TEXTCART_DATABASE_URL", None)
        try:
            figures = asyncio.run(run(f"http://127.0.0.1:{port}", token, api_key, args, launch))
        finally:
            stop_server(launch)
            if (directory / "server.log").exists():
                # The temporary directory goes; the server's log stays for a run to explain.
                kept = Path(tempfile.mkdtemp(prefix="textcart-load-log-")) / "server.log"
                shutil.copy(directory / "server.log", kept)
                print(f"server log: {kept}", file=sys.stderr)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
