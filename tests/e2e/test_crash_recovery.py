"""A crash mid-load, for both senders: every accepted text is answered exactly once.

Twenty shoppers text at once; the server (`textcart serve` and its `langgraph dev`) is
killed with SIGKILL while their turns run, then started again. Each text the inbox had
accepted is answered once: in its webhook's TwiML if that response arrived, else by the
recovery pass through the sender (the outbox file, or Twilio's API played by a local
server), never both and never neither.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import (
    Server,
    TwilioRecorder,
    free_port,
    locked_env,
    message_text,
    new_phone,
    outbox_sender,
    post_sms,
    running_server,
    twilio_sender,
    wait_for,
    webhook_form,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["outbox", "twilio"])
def crashing(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Callable[[str], list[str]]]]:
    """A server with one sender, and how to read what that sender sent to a number."""
    directory = tmp_path_factory.mktemp(f"textcart-crash-{request.param}")
    env = locked_env(
        # A text unanswered for 5 s counts as lost; recovery looks every second.
        TEXTCART_INBOX_STALE_S="5",
        TEXTCART_RECOVERY_INTERVAL_S="1",
        TEXTCART_INBOUND_RATE="1000/minute",
    )
    recorder = None
    if request.param == "twilio":
        recorder = TwilioRecorder(free_port())
        recorder.start()
        env.update(twilio_sender(recorder))
    else:
        env = outbox_sender(env)

    def sent_to(phone: str) -> list[str]:
        if recorder is not None:
            return [m["Body"] for m in recorder.sent_to(phone)]
        path = Path(directory) / "outbox.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [e["text"] for e in map(json.loads, lines) if e["to"] == phone]

    with running_server(directory, env) as instance:
        yield instance, sent_to
    if recorder is not None:
        recorder.stop()


async def test_texts_accepted_before_a_crash_are_answered_once_after_restart(
    crashing: tuple[Server, Callable[[str], list[str]]],
) -> None:
    server, sent_to = crashing
    forms = {new_phone(): None for _ in range(20)}
    by_phone = {phone: webhook_form(phone, "do you have merino base layers?") for phone in forms}
    sids = {form["MessageSid"]: phone for phone, form in by_phone.items()}
    twiml: dict[str, str | None] = {}

    async def text(form: dict[str, str]) -> None:
        try:
            response = await post_sms(server, form)
        except httpx.HTTPError:
            return  # the connection died with the server: no answer in the response
        if response.status_code == 200:
            twiml[form["MessageSid"]] = message_text(response.text)

    load = [asyncio.create_task(text(form)) for form in by_phone.values()]
    client = server.client()

    async def inbox() -> dict[str, dict[str, Any]]:
        found = await client.store.search_items(["sms_inbox"], limit=500)
        return {i["key"]: i["value"] for i in found["items"] if i["key"] in sids}

    async def some_received() -> bool:
        return len(await inbox()) >= 5

    await wait_for(some_received, timeout_s=60)
    server.kill()
    await asyncio.gather(*load)
    server.start()
    client = server.client()

    accepted = await inbox()
    assert len(accepted) >= 5

    async def all_answered() -> dict[str, dict[str, Any]]:
        entries = await inbox()
        return entries if all(e["status"] == "answered" for e in entries.values()) else {}

    settled = await wait_for(all_answered, timeout_s=180)
    assert set(settled) == set(accepted), "no accepted text is dropped"
    recovered = 0
    for sid in accepted:
        phone = sids[sid]
        in_response = 1 if twiml.get(sid) else 0
        by_sender = len(sent_to(phone))
        said = [line for line in server.log_tail(2000).splitlines() if sid in line]
        assert in_response + by_sender == 1, (
            f"{sid}: {in_response} in TwiML, {by_sender} sent; inbox {settled[sid]}; log {said}"
        )
        recovered += by_sender
    assert recovered, "the kill left some texts unanswered (else this test proves nothing)"
    # The figures for the README's reliability table (shown with pytest -s).
    print(
        f"\nkill mid-load ({server.env.get('TWILIO_API_BASE_URL') and 'twilio' or 'outbox'}): "
        f"{len(by_phone)} texts, {len(accepted)} accepted, {len(accepted) - recovered} answered "
        f"in TwiML, {recovered} recovered through the sender, 0 lost, 0 duplicated"
    )
