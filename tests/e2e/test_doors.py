"""Every door of the real server is locked: forged, unsigned, tampered and stale requests.

Each refused request must leave no trace: nothing in the inbox or the shopper's store,
no run on the shopper's thread, nothing sent. The same requests signed or keyed go through.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from harness import (
    API_KEY,
    AUTH_TOKEN,
    EVENTS_SECRET,
    Server,
    TwilioRecorder,
    message_text,
    new_phone,
    post_events,
    post_sms,
    runs_of,
    webhook_form,
)

from textcart.server.security import sign_events
from textcart.tools import sms
from textcart.tools.shopper_store import shopper_id_for_phone, thread_id_for

pytestmark = pytest.mark.e2e


async def traces_of(server: Server, phone: str, sid: str | None = None) -> dict[str, Any]:
    """Everything the server could have kept about a number (read with an operator key)."""
    client = server.client()
    shopper = ["shoppers", shopper_id_for_phone(phone)]
    found: dict[str, Any] = {
        "profile": (await client.store.search_items(shopper, limit=10))["items"],
        "events": (await client.store.search_items([*shopper, "events"], limit=10))["items"],
        "messages": (await client.store.search_items([*shopper, "messages"], limit=10))["items"],
        "runs": await runs_of(server, phone),
    }
    if sid is not None:
        inbox = await client.store.search_items(["sms_inbox"], limit=1000)
        found["inbox"] = [item for item in inbox["items"] if item["key"] == sid]
    queue = await client.store.search_items(["proactive_queue"], limit=1000)
    found["queued"] = [
        item for item in queue["items"] if item["key"].startswith(shopper_id_for_phone(phone))
    ]
    return found


def nothing(found: dict[str, Any]) -> bool:
    return not any(found.values())


@pytest.mark.parametrize("forgery", ["unsigned", "garbage", "tampered", "other-token", "stop"])
async def test_forged_texts_are_refused_and_leave_no_trace(
    server: Server, twilio: TwilioRecorder, forgery: str
) -> None:
    phone = new_phone()
    form = webhook_form(phone, "STOP" if forgery == "stop" else "any trail shoes?")
    url = f"{server.url}/sms/inbound"
    signature = {
        "unsigned": None,
        "garbage": "bm90IGEgc2lnbmF0dXJl",
        "tampered": sms.sign(AUTH_TOKEN, url, {**form, "Body": "something else"}),
        "other-token": sms.sign("not-the-token", url, form),
        "stop": sms.sign("not-the-token", url, form),  # a forged STOP for someone's number
    }[forgery]
    response = await post_sms(server, form, signature=signature)
    assert response.status_code == 403 and response.json()["error"]
    # An accepted text is in the inbox before its response: a refused one left nothing.
    assert nothing(await traces_of(server, phone, form["MessageSid"]))
    assert twilio.sent_to(phone) == []
    # The same text, signed by Twilio, goes through.
    signed = await post_sms(server, form)
    assert signed.status_code == 200 and message_text(signed.text)


@pytest.mark.parametrize("forgery", ["unsigned", "garbage", "tampered", "other-secret", "stale"])
async def test_forged_events_are_refused_and_schedule_nothing(
    server: Server, twilio: TwilioRecorder, forgery: str
) -> None:
    phone = new_phone()
    event = {"phone": phone, "type": "added_to_cart", "product_id": "TH-STORMWALL-M-BLK"}
    if forgery == "unsigned":
        response = await post_events(server, event, secret=None)
    elif forgery == "garbage":
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{server.url}/events", json=event, headers={"X-Textcart-Signature": "t=1,v1=00"}
            )
    elif forgery == "tampered":
        response = await _signed_then_changed(server, event)
    elif forgery == "other-secret":
        response = await post_events(server, event, secret="guessed-secret")
    else:
        response = await post_events(server, event, at=int(time.time()) - 6 * 60)
    assert response.status_code == 401 and response.json()["error"]
    # An accepted event is queued before its response; nothing queued, nothing ever sent.
    assert nothing(await traces_of(server, phone))
    assert twilio.sent_to(phone) == []
    accepted = await post_events(server, event)
    assert accepted.status_code == 202 and accepted.json()["recorded"] == 1


async def _signed_then_changed(server: Server, event: dict[str, Any]) -> httpx.Response:
    """A request signed for one body and sent with another (another phone number)."""
    raw = json.dumps({**event, "phone": "+14155550100"}).encode()
    async with httpx.AsyncClient() as client:
        return await client.post(
            f"{server.url}/events",
            content=json.dumps(event).encode(),
            headers={
                "X-Textcart-Signature": sign_events(EVENTS_SECRET, raw),
                "Content-Type": "application/json",
            },
        )


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Api-Key": "wrong-key"},
        {"Authorization": f"Bearer {API_KEY}"},
        # The dev server's Studio shortcut, closed by disable_studio_auth.
        {"x-auth-scheme": "langsmith"},
        {"x-auth-scheme": "langsmith", "X-Api-Key": "wrong-key"},
    ],
)
async def test_the_langgraph_api_needs_an_operator_key(
    server: Server, twilio: TwilioRecorder, headers: dict[str, str]
) -> None:
    phone = new_phone()
    thread_id = thread_id_for(shopper_id_for_phone(phone))
    run = {
        "assistant_id": "textcart",
        "input": {"shopper_id": shopper_id_for_phone(phone), "text": "hi", "message_id": "m1"},
        "if_not_exists": "create",
    }
    async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as client:
        refused = [
            await client.post("/threads/search", json={}),
            await client.post("/store/items/search", json={"namespace_prefix": ["shoppers"]}),
            await client.post("/assistants/search", json={}),
            await client.post(f"/threads/{thread_id}/runs/wait", json=run),
            await client.post("/runs/wait", json=run),
        ]
    assert [r.status_code for r in refused] == [401] * 5, [
        (r.request.url.path, r.status_code, r.text) for r in refused
    ]
    # Refused before any run was created: nothing to wait for.
    assert nothing(await traces_of(server, phone))
    # With the key the same run goes through.
    async with httpx.AsyncClient(
        base_url=server.url, headers={"X-Api-Key": API_KEY}, timeout=120
    ) as client:
        ok = await client.post(f"/threads/{thread_id}/runs/wait", json=run)
    assert ok.status_code == 200, ok.text


async def test_open_routes_stay_open(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/ok")).status_code == 200
        assert (await client.get("/healthz")).status_code == 200


async def test_texts_over_the_rate_get_429_but_stop_always_gets_through(server: Server) -> None:
    phone = new_phone()
    # The session server allows 6 texts a minute per number.
    answered = await asyncio.gather(
        *(post_sms(server, webhook_form(phone, f"question {i} about boots")) for i in range(6))
    )
    assert [r.status_code for r in answered] == [200] * 6
    over = webhook_form(phone, "one more question")
    limited = await post_sms(server, over)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
    assert "too many" in limited.json()["error"]
    found = await traces_of(server, phone, over["MessageSid"])
    assert found["inbox"] == [], "a refused text is not stored"
    stop = await post_sms(server, webhook_form(phone, "STOP"))
    assert stop.status_code == 200 and "unsubscribed" in (message_text(stop.text) or "").lower()
