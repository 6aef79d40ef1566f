"""One production instance killed mid-load: the others and its replacement finish the work.

Production mode only (`TEXTCART_E2E_MODE=production`): `langgraph dev` is one process, and
killing it is `test_crash_recovery`'s case. Twenty shoppers text at once through the
two-instance Aegra server; one instance is killed with SIGKILL while their turns run.
Aegra's reaper hands the runs it held to a live instance once their lease (10 s) runs
out, and the uvicorn supervisor starts a new instance. Every text the inbox accepted is
answered exactly once: in its webhook's TwiML when that response arrived, else through
the sender (the outbox file) by the inbox's recovery; each shopper's thread has one run
per text, and every run ends in success.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from harness import (
    Server,
    locked_env,
    message_text,
    new_phone,
    outbox_sender,
    post_sms,
    running_server,
    runs_of,
    wait_for,
    webhook_form,
)

from textcart.server.production_serve import instance_pids

# Collected in production mode only (see conftest.py): `langgraph dev` runs one process.
pytestmark = pytest.mark.e2e


def instances(server: Server) -> list[int]:
    """Pids of the Aegra instances (uvicorn workers) under `textcart serve --production`."""
    assert server.process is not None
    return instance_pids(server.process.pid)


@pytest.fixture(scope="module")
def two_instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A production server with two instances and the outbox file as its sender."""
    directory = tmp_path_factory.mktemp("textcart-instances")
    env = locked_env(
        # Texts whose webhook died are recovered after 30 s; the lease is 10 s.
        TEXTCART_INBOX_STALE_S="30",
        TEXTCART_RECOVERY_INTERVAL_S="2",
        TEXTCART_INBOUND_RATE="1000/minute",
    )
    with running_server(directory, outbox_sender(env)) as server:
        yield server


async def test_one_instance_killed_mid_run_every_text_answered_once(
    two_instances: Server,
) -> None:
    server = two_instances
    before = instances(server)
    assert len(before) == 2, "two instances serve the port"
    phones = [new_phone() for _ in range(20)]
    forms = {phone: webhook_form(phone, "do you have merino base layers?") for phone in phones}
    sids = {form["MessageSid"]: phone for phone, form in forms.items()}
    twiml: dict[str, str | None] = {}

    async def text(form: dict[str, str]) -> None:
        try:
            response = await post_sms(server, form)
        except httpx.HTTPError:
            return  # the connection died with its instance
        if response.status_code == 200:
            twiml[form["MessageSid"]] = message_text(response.text)

    client = server.client()

    async def inbox() -> dict[str, dict[str, Any]]:
        found = await client.store.search_items(["sms_inbox"], limit=500)
        return {i["key"]: i["value"] for i in found["items"] if i["key"] in sids}

    async def some_received() -> bool:
        return len(await inbox()) >= 5

    load = [asyncio.create_task(text(form)) for form in forms.values()]
    await wait_for(some_received, timeout_s=60)
    victim = before[0]
    os.kill(victim, signal.SIGKILL)
    await asyncio.gather(*load)

    accepted = await inbox()
    assert len(accepted) >= 5

    async def all_answered() -> dict[str, dict[str, Any]]:
        entries = await inbox()
        done = len(entries) == len(accepted)
        return entries if done and all(e["status"] == "answered" for e in entries.values()) else {}

    settled = await wait_for(all_answered, timeout_s=240)
    assert set(settled) == set(accepted), "no accepted text is dropped"

    outbox = server.directory / "outbox.jsonl"
    lines = outbox.read_text().splitlines() if outbox.exists() else []
    sent = [json.loads(line) for line in lines]
    recovered = 0
    for sid, phone in sids.items():
        if sid not in accepted:
            continue
        in_response = 1 if twiml.get(sid) else 0
        by_sender = sum(1 for entry in sent if entry["to"] == phone)
        assert in_response + by_sender == 1, f"{sid}: {in_response} in TwiML, {by_sender} sent"
        recovered += by_sender
        runs = await runs_of(server, phone)
        assert len(runs) == 1, f"{sid}: one run per text, not {len(runs)}"
        assert runs[0]["status"] == "success", runs[0]
    assert recovered, "the kill left some texts to the sender (else this test proves nothing)"

    after = instances(server)
    assert victim not in after and len(after) == 2, "the supervisor started a new instance"
    print(
        f"\nkill one of two instances mid-load: {len(forms)} texts, {len(accepted)} accepted, "
        f"{len(accepted) - recovered} answered in TwiML, {recovered} through the sender, "
        "0 lost, 0 duplicated"
    )
