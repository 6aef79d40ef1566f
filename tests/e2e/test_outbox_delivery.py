"""The default sender through the real server: the outbox file, with no SMS account.

A server started without Twilio credentials writes every text that does not go back in a
webhook response to `$TEXTCART_DATA_DIR/outbox.jsonl`. Through `textcart serve` (whose run
workers refuse blocking calls) a due proactive text and a reply recovered after a crash
must both land there, once each.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from harness import (
    Server,
    free_port,
    locked_env,
    log_of,
    message_text,
    new_phone,
    post_events,
    post_sms,
    wait_for,
    webhook_form,
)

from textcart.tools.weaviate_server import stop_embedded

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def outbox_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with the default sender: Twilio only checks signatures, nothing sends there."""
    directory = tmp_path_factory.mktemp("textcart-outbox-server")
    env = locked_env(
        TEXTCART_ABANDONMENT_DELAY_MINUTES="0",
        TEXTCART_SCHEDULER_INTERVAL_S="0.5",
        TEXTCART_QUIET_START="0",
        TEXTCART_QUIET_END="0",
        # A text unanswered for 5 s counts as lost; recovery looks every second.
        TEXTCART_INBOX_STALE_S="5",
        TEXTCART_RECOVERY_INTERVAL_S="1",
    )
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER"):
        env.pop(name, None)
    instance = Server(directory, free_port(), env, directory / "server.log")
    instance.start()
    yield instance
    instance.stop()
    stop_embedded(directory / "weaviate")


def outbox_lines(server: Server) -> list[dict[str, Any]]:
    path = Path(server.directory) / "outbox.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def test_a_due_proactive_text_is_written_to_the_outbox(outbox_server: Server) -> None:
    phone = new_phone()
    first = await post_sms(outbox_server, webhook_form(phone, "hi, any rain jackets?"))
    assert message_text(first.text)
    response = await post_events(
        outbox_server, {"phone": phone, "type": "added_to_cart", "product_id": "TH-STORMWALL-M-BLK"}
    )
    assert response.status_code == 202

    async def sent() -> list[dict[str, Any]]:
        return [line for line in outbox_lines(outbox_server) if line["to"] == phone]

    (line,) = await wait_for(sent, timeout_s=60)
    assert line["text"] and line["key"].startswith("cart_abandonment-")
    proactive = [m for m in await log_of(outbox_server, phone) if m.get("proactive")]
    assert [m["delivery"]["status"] for m in proactive] == ["sent"]
    assert proactive[0]["delivery"]["channel"] == "outbox"
    assert "BlockingError" not in outbox_server.log_tail(400)


async def test_texts_accepted_before_a_crash_are_answered_once_after_restart(
    outbox_server: Server,
) -> None:
    """Twenty shoppers text; the server is killed mid-load and started again."""
    phones = [new_phone() for _ in range(20)]
    forms = [webhook_form(phone, "do you have merino base layers?") for phone in phones]
    twiml: dict[str, str | None] = {}

    async def text(form: dict[str, str]) -> None:
        try:
            response = await post_sms(outbox_server, form)
        except httpx.HTTPError:
            return  # the connection died with the server: no answer in the response
        if response.status_code == 200:
            twiml[form["MessageSid"]] = message_text(response.text)

    load = [asyncio.create_task(text(form)) for form in forms]
    client = outbox_server.client()

    async def some_received() -> bool:
        found = await client.store.search_items(["sms_inbox"], limit=200)
        sids = {form["MessageSid"] for form in forms}
        return sum(item["key"] in sids for item in found["items"]) >= 5

    await wait_for(some_received, timeout_s=60)
    outbox_server.kill()
    await asyncio.gather(*load)
    outbox_server.start()

    client = outbox_server.client()
    sids = [form["MessageSid"] for form in forms]

    async def inbox() -> dict[str, dict[str, Any]]:
        found = await client.store.search_items(["sms_inbox"], limit=500)
        return {item["key"]: item["value"] for item in found["items"] if item["key"] in sids}

    accepted = await inbox()
    assert len(accepted) >= 5

    async def all_settled() -> dict[str, dict[str, Any]]:
        entries = await inbox()
        return entries if all(e["status"] == "answered" for e in entries.values()) else {}

    settled = await wait_for(all_settled, timeout_s=180)
    assert set(settled) == set(accepted), "no accepted text is dropped"
    sent = outbox_lines(outbox_server)
    for sid in accepted:
        in_response = 1 if twiml.get(sid) else 0
        by_sender = sum(line["key"] == f"{sid}:reply" for line in sent)
        assert in_response + by_sender == 1, f"{sid}: {in_response} in TwiML, {by_sender} sent"
    recovered = [sid for sid in accepted if sid not in twiml]
    assert recovered, "the kill left some texts unanswered (else this test proves nothing)"
    # The figures for the README's reliability table (shown with pytest -s).
    print(
        f"\nkill mid-load: {len(forms)} texts, {len(accepted)} accepted, "
        f"{len(accepted) - len(recovered)} answered in TwiML, {len(recovered)} recovered "
        f"through the outbox, 0 lost, 0 duplicated"
    )
    for line in sent:
        if line["key"].removesuffix(":reply") in recovered:
            assert line["text"] and line["to"] in phones
