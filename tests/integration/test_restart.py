"""Kill the process after two turns; the third turn, in a new process, sees everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from textcart.agent import Agent
from textcart.graph.context import Context

PHONE = "+16175550199"
pytestmark = pytest.mark.usefixtures("demo_catalog")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "textcart.cli", *args]


async def test_no_committed_turn_is_lost_across_a_kill(services_dir: Path) -> None:
    # The session's data dir: its Weaviate already holds the demo catalog.
    env = {**os.environ, "TEXTCART_MODEL": "", "PYTHONUNBUFFERED": "1"}
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

    async with Agent.open(services_dir, Context(model=None)) as agent:
        state = await agent.state(PHONE)
        said = [line["text"] for line in state["transcript"] if line["role"] == "shopper"]
        assert said == [
            "hi! do you sell merino base layers?",
            "what about in a medium?",
            "ok which one would you pick for winter hikes?",
        ]
        replies = [ln["text"] for ln in state["transcript"] if ln["role"] == "store"]
        log = await agent.shoppers.messages(agent._shopper_id(PHONE))
        assert [m["text"] for m in log if m["direction"] == "inbound"] == said
        # Every reply the thread remembers is in the message log, and vice versa.
        assert [m["text"] for m in log if m["direction"] == "outbound"] == replies
        assert replies and replies[-1] == turn["reply"]
        assert all(
            m["deciders"]["intent"]["decider"] == "classic"
            for m in log
            if m["direction"] == "outbound"
        )
        context = await agent.shoppers.context(agent._shopper_id(PHONE))
        assert context["turns_so_far"] == 3
