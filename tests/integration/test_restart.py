"""Kill the process between turns, or in the middle of one: nothing committed is lost.

Both run on SQLite and on PostgreSQL (a real server started by scripts/postgres.sh).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from postgres_server import database_url, free_port, postgres_server  # noqa: F401

from textcart.agent import Agent
from textcart.graph.context import Context
from textcart.tools.shopper_store import shopper_id_for_phone

PHONE = "+16175550199"
pytestmark = pytest.mark.usefixtures("demo_catalog")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "textcart.cli", *args]


def _env(url: str | None, **extra: str) -> dict[str, str]:
    """The CLI's environment: classic deciders, on PostgreSQL when `url` is given."""
    env = {**os.environ, "TEXTCART_MODEL": "", "PYTHONUNBUFFERED": "1", **extra}
    env.pop("TEXTCART_DATABASE_URL", None)
    if url:
        env["TEXTCART_DATABASE_URL"] = url
    return env


async def test_no_committed_turn_is_lost_across_a_kill(
    services_dir: Path,
    database_url: str | None,  # noqa: F811
) -> None:
    # The session's data dir: its Weaviate already holds the demo catalog.
    env = _env(database_url)
    chat = subprocess.Popen(
        _cli("chat", "--phone", PHONE, "--data-dir", str(services_dir)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
        bufsize=1,
    )
    assert chat.stdin and chat.stdout
    replies = 0
    deadline = time.monotonic() + 180
    for line in ("hi! do you sell merino base layers?", "what about in a medium?"):
        chat.stdin.write(line + "\n")
        chat.stdin.flush()
        while time.monotonic() < deadline:
            out = chat.stdout.readline()
            assert out, "chat exited early"
            if out.startswith("store>"):
                replies += 1
                break
    assert replies == 2
    chat.send_signal(signal.SIGKILL)  # no clean shutdown: only committed work survives
    chat.wait(timeout=30)

    third = subprocess.run(
        _cli(
            "send",
            PHONE,
            "ok which one would you pick for winter hikes?",
            "--json",
            "--data-dir",
            str(services_dir),
        ),
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=True,
    )
    turn = json.loads(third.stdout.strip().splitlines()[-1])
    assert turn["reply"]

    async with Agent.open(services_dir, Context(model=None), database_url) as agent:
        state = await agent.state(PHONE)
        said = [line["text"] for line in state["transcript"] if line["role"] == "shopper"]
        assert said == [
            "hi! do you sell merino base layers?",
            "what about in a medium?",
            "ok which one would you pick for winter hikes?",
        ]
        replies = [ln["text"] for ln in state["transcript"] if ln["role"] == "store"]
        log = await agent.shoppers.messages(agent.shopper_id(PHONE))
        assert [m["text"] for m in log if m["direction"] == "inbound"] == said
        # Every reply the thread remembers is in the message log, and vice versa.
        assert [m["text"] for m in log if m["direction"] == "outbound"] == replies
        assert replies and replies[-1] == turn["reply"]
        assert all(
            m["deciders"]["intent"]["decider"] == "classic"
            for m in log
            if m["direction"] == "outbound"
        )
        context = await agent.shoppers.context(agent.shopper_id(PHONE))
        assert context["turns_so_far"] == 3


class StalledModelServer:
    """A TCP server that accepts requests and never answers: a model stuck mid-turn."""

    def __init__(self) -> None:
        self.port = free_port()
        self.sock = socket.create_server(("127.0.0.1", self.port))
        self.called = threading.Event()
        self.held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)
            self.called.set()

    def close(self) -> None:
        for conn in self.held:
            conn.close()
        self.sock.close()


async def test_a_turn_killed_midway_is_finished_once(
    services_dir: Path,
    database_url: str | None,  # noqa: F811
) -> None:
    phone, message_id = "+16175550188", f"SM-killed-{uuid.uuid4().hex[:8]}"
    text = "do you have a rain jacket that packs small?"
    send = _cli("send", phone, text, "--message-id", message_id, "--json")
    send += ["--data-dir", str(services_dir)]
    stalled = StalledModelServer()
    try:
        stuck = subprocess.Popen(
            send,
            env=_env(
                database_url,
                TEXTCART_MODEL="openai:stalled",
                TEXTCART_LLM_BASE_URL=f"http://127.0.0.1:{stalled.port}/v1",
                TEXTCART_LLM_TIMEOUT_S="600",
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # The first decision is waiting on the model: the turn is past load_context.
        assert await asyncio.to_thread(stalled.called.wait, 180), "the turn never reached the model"
        await asyncio.sleep(1.0)
        stuck.send_signal(signal.SIGKILL)
        stuck.wait(timeout=30)
    finally:
        stalled.close()

    shopper_id = shopper_id_for_phone(phone)
    async with Agent.open(services_dir, Context(model=None), database_url) as agent:
        log = await agent.shoppers.messages(shopper_id)
        assert [(m["direction"], m["text"]) for m in log] == [("inbound", text)]

    # The webhook delivers the same message again (at least once), twice.
    replies = []
    for _ in range(2):
        done = subprocess.run(
            send, capture_output=True, text=True, env=_env(database_url), timeout=180, check=True
        )
        replies.append(json.loads(done.stdout.strip().splitlines()[-1])["reply"])
    assert replies[0] and replies[0] == replies[1]

    async with Agent.open(services_dir, Context(model=None), database_url) as agent:
        log = await agent.shoppers.messages(shopper_id)
        assert [m["direction"] for m in log] == ["inbound", "outbound"]  # answered once
        assert log[1]["in_reply_to"] == message_id and log[1]["text"] == replies[0]
        transcript = (await agent.state(phone))["transcript"]
        assert [(line["role"], line["text"]) for line in transcript] == [
            ("shopper", text),
            ("store", replies[0]),
        ]
