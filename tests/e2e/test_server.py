"""textcart through the real LangGraph server: SDK, SMS webhook, events, review, restart.

Every test talks to the `server` subprocess over loopback, with `langgraph_sdk` or plain
HTTP, exactly as an operator, Studio or Twilio would.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from harness import (
    AUTH_TOKEN,
    FROM_NUMBER,
    Server,
    TwilioRecorder,
    log_of,
    message_text,
    new_phone,
    opt_in,
    post_events,
    post_sms,
    queued_for,
    runs_of,
    wait_for,
    webhook_form,
)

from textcart.tools import sms
from textcart.tools.shopper_store import shopper_id_for_phone, thread_id_for

pytestmark = pytest.mark.e2e


async def test_sdk_thread_per_shopper_state_history_stream_and_store(server: Server) -> None:
    client = server.client()
    phone = new_phone()
    shopper_id = shopper_id_for_phone(phone)
    thread_id = thread_id_for(shopper_id)
    await client.threads.create(thread_id=thread_id, if_exists="do_nothing")
    await client.store.put_item(
        ["shoppers", shopper_id], "profile", {"phone": phone, "first_name": "Ana"}
    )
    result = await client.runs.wait(
        thread_id,
        "textcart",
        input={
            "shopper_id": shopper_id,
            "text": "looking for a warm waterproof jacket for hiking",
            "message_id": "sdk-1",
        },
        context={"reply_in_response": True},
    )
    assert result["intent"]["value"] == "recommendation_request"
    assert result["intent"]["decider"] == "classic"
    assert result["intent"]["rationale"]
    assert result["outbound"]["text"]
    assert result["products"], "the embedded Weaviate served products"

    seen: set[str] = set()
    async for part in client.runs.stream(
        thread_id,
        "textcart",
        input={
            "shopper_id": shopper_id,
            "text": "what about something cheaper?",
            "message_id": "sdk-2",
        },
        stream_mode="updates",
    ):
        if part.event == "updates" and isinstance(part.data, dict):
            seen.update(part.data)
    assert {"load_context", "classify_intent", "choose_next_message", "send_and_log"} <= seen

    state = await client.threads.get_state(thread_id)
    transcript = state["values"]["transcript"]
    assert [line["role"] for line in transcript] == ["shopper", "store", "shopper", "store"]
    history = await client.threads.get_history(thread_id, limit=100)
    assert len(history) > 10, "every step of both turns was checkpointed"

    log = await log_of(server, phone)
    assert {m["message_id"] for m in log} >= {"sdk-1", "sdk-1:reply", "sdk-2", "sdk-2:reply"}
    # sdk-2 did not ask to answer in a response, so the sender delivered it (fake Twilio).
    reply_2 = next(m for m in log if m["message_id"] == "sdk-2:reply")
    assert reply_2["delivery"]["channel"] == "twilio"


async def test_signed_webhook_gets_twiml_reply(server: Server) -> None:
    phone = new_phone()
    response = await post_sms(server, webhook_form(phone, "do you have trail runners in size 10?"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    reply = message_text(response.text)
    assert reply and len(reply) <= 320
    log = await log_of(server, phone)
    assert sum(m["direction"] == "outbound" for m in log) == 1


@pytest.mark.parametrize("signature", [None, "bm90IGEgc2lnbmF0dXJl", "tampered"])
async def test_unsigned_or_badly_signed_webhook_is_refused(
    server: Server, signature: str | None
) -> None:
    phone = new_phone()
    form = webhook_form(phone, "hello")
    if signature == "tampered":
        url = f"{server.url}/sms/inbound"
        signature = sms.sign(AUTH_TOKEN, url, {**form, "Body": "something else"})
    response = await post_sms(server, form, signature=signature)
    assert response.status_code == 403
    assert await runs_of(server, phone) == []


async def test_replayed_message_sid_gets_same_reply_from_one_run(server: Server) -> None:
    phone = new_phone()
    form = webhook_form(phone, "any rain jackets under $120?")
    first, second = await asyncio.gather(post_sms(server, form), post_sms(server, form))
    third = await post_sms(server, form)
    assert first.status_code == second.status_code == third.status_code == 200
    assert first.text == second.text == third.text
    assert message_text(first.text)
    assert len(await runs_of(server, phone)) == 1
    outbound = [m for m in await log_of(server, phone) if m["direction"] == "outbound"]
    assert len(outbound) == 1


async def test_double_texting_processes_both_in_order(server: Server) -> None:
    phone = new_phone()
    first = webhook_form(phone, "do you sell hiking boots?")
    second = webhook_form(phone, "waterproof ones, size 9")
    task = asyncio.create_task(post_sms(server, first))
    await asyncio.sleep(0.2)  # the second text arrives while the first run is going
    replies = await asyncio.gather(task, post_sms(server, second))
    assert all(r.status_code == 200 and message_text(r.text) for r in replies)
    runs = await runs_of(server, phone)
    assert len(runs) == 2 and all(r["status"] == "success" for r in runs)
    state = await server.client().threads.get_state(thread_id_for(shopper_id_for_phone(phone)))
    said = [line["text"] for line in state["values"]["transcript"] if line["role"] == "shopper"]
    assert said == [first["Body"], second["Body"]]


async def test_stop_confirms_once_and_silences_marketing(server: Server) -> None:
    phone = new_phone()
    await post_sms(server, webhook_form(phone, "show me fleece jackets"))
    stop = await post_sms(server, webhook_form(phone, "STOP"))
    assert (
        "unsubscribed" in (message_text(stop.text) or "").lower()
        or "opted out" in (message_text(stop.text) or "").lower()
    )
    later = await post_sms(server, webhook_form(phone, "actually, any deals on fleece?"))
    assert later.status_code == 200 and message_text(later.text) is None
    viewed = await post_events(
        server, {"phone": phone, "type": "viewed", "product_id": "TH-STORMWALL-M-RED"}
    )
    # Nothing queued is nothing the scheduler will ever send: no need to wait for its ticks.
    assert viewed.json()["scheduled"] == []
    assert await queued_for(server, phone) == []
    outbound = [m for m in await log_of(server, phone) if m["direction"] == "outbound"]
    assert len(outbound) == 2  # the first reply and the one confirmation, nothing after


async def test_events_trigger_a_proactive_text_through_twilio(
    server: Server, twilio: TwilioRecorder
) -> None:
    phone = new_phone()
    await post_sms(server, webhook_form(phone, "hi, I was looking at rain jackets"))
    await opt_in(server, phone)
    catalog = await post_events(
        server, {"events": [{"phone": phone, "type": "viewed", "product_id": "TH-STORMWALL-M-BLK"}]}
    )
    assert catalog.status_code == 202
    assert catalog.json()["scheduled"][0]["trigger"] == "browse_abandonment"

    async def delivered() -> list[dict[str, str]]:
        return twilio.sent_to(phone)

    sent = await wait_for(delivered)
    assert len(sent) == 1
    assert sent[0]["From"] == FROM_NUMBER and sent[0]["Body"]
    assert sent[0]["_path"].endswith("/Messages.json")
    assert sent[0]["_auth"].startswith("Basic ")
    proactive = [m for m in await log_of(server, phone) if m.get("proactive")]
    assert proactive[0]["delivery"]["channel"] == "twilio"
    assert proactive[0]["delivery"]["provider_id"].startswith("SM")


async def test_handoff_is_reviewed_edited_and_sent(server: Server, twilio: TwilioRecorder) -> None:
    phone = new_phone()
    response = await post_sms(
        server, webhook_form(phone, "this is ridiculous, I want to talk to a real person now")
    )
    assert response.status_code == 200
    assert message_text(response.text) is None, "the reply waits for a person"
    client = server.client()
    thread_id = thread_id_for(shopper_id_for_phone(phone))
    state = await client.threads.get_state(thread_id)
    assert state["next"] == ["human_review"]
    interrupts = [i for task in state["tasks"] for i in task["interrupts"]]
    assert interrupts and interrupts[0]["value"]["draft"]

    edited = "Hi, this is Sam from the store. I'm sorry about this; calling you in 5 minutes."
    await client.runs.wait(
        thread_id,
        "textcart",
        command={"resume": {"action": "edit", "text": edited, "reviewer": "sam"}},
    )

    async def delivered() -> list[dict[str, str]]:
        return twilio.sent_to(phone)

    sent = await wait_for(delivered, timeout_s=20)
    assert [m["Body"] for m in sent] == [edited]
    reply = next(m for m in await log_of(server, phone) if m["direction"] == "outbound")
    assert reply["review"]["action"] == "edit" and reply["review"]["reviewer"] == "sam"


@pytest.mark.parametrize(
    ("form", "content_type", "status"),
    [
        ({"From": "+15551234567", "Body": "hi"}, None, 400),  # no MessageSid
        ({"MessageSid": "SM1", "From": "not a number", "Body": "hi"}, None, 400),
        ({"MessageSid": "SM<script>", "From": "+15551234567", "Body": "hi"}, None, 400),
        ({"MessageSid": "SM2", "From": "+15551234567", "Body": "x" * 1601}, None, 413),
        ({"MessageSid": "SM3", "From": "+15551234567", "Body": "hi"}, "application/json", 415),
    ],
)
async def test_malformed_webhooks_get_clear_errors(
    server: Server, form: dict[str, str], content_type: str | None, status: int
) -> None:
    url = f"{server.url}/sms/inbound"
    headers = {"X-Twilio-Signature": sms.sign(AUTH_TOKEN, url, form)}
    async with httpx.AsyncClient() as client:
        if content_type:
            response = await client.post(
                url, content=b"{}", headers={**headers, "Content-Type": content_type}
            )
        else:
            response = await client.post(url, data=form, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]


@pytest.mark.parametrize(
    "payload",
    [
        {"phone": "+15551234567", "type": "teleported"},
        {"type": "viewed", "product_id": "x"},
        {"phone": "12", "type": "viewed"},
        {"phone": "+15551234567", "type": "viewed", "at": "2026-01-01T10:00:00"},
        [],
        "viewed",
    ],
)
async def test_bad_events_are_refused(server: Server, payload: Any) -> None:
    response = await post_events(server, payload)
    assert response.status_code == 400
    assert response.json()["error"]


async def test_restart_keeps_conversations_and_shopper_store(server: Server) -> None:
    phone = new_phone()
    first = await post_sms(server, webhook_form(phone, "do you have merino base layers?"))
    assert message_text(first.text)
    client = server.client()
    thread_id = thread_id_for(shopper_id_for_phone(phone))
    before = await client.threads.get_state(thread_id)

    server.stop()
    server.start()

    client = server.client()
    after = await client.threads.get_state(thread_id)
    assert after["values"]["transcript"] == before["values"]["transcript"]
    assert len(await log_of(server, phone)) == 2
    second = await post_sms(server, webhook_form(phone, "which one is warmest?"))
    assert message_text(second.text)
    final = await client.threads.get_state(thread_id)
    assert len(final["values"]["transcript"]) == 4
