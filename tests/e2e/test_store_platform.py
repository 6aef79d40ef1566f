"""The store platform and the people behind it, through the real server.

Shopify's webhooks are refused unsigned or forged, leaving nothing; signed, an order
answers "where's my order" in the TwiML reply. A hand-off reviewed by a person holds the
thread; the person answers through the hand-off routes (sent through Twilio, logged) and
hands the thread back.
"""

from __future__ import annotations

import json

import httpx
import pytest
from harness import (
    API_KEY,
    SHOPIFY_SECRET,
    Server,
    TwilioRecorder,
    log_of,
    message_text,
    new_phone,
    post_sms,
    wait_for,
    webhook_form,
)

from textcart.tools.shopify import sign_webhook
from textcart.tools.shopper_store import shopper_id_for_phone, thread_id_for

pytestmark = pytest.mark.e2e


def _order(phone: str, number: int) -> dict[str, object]:
    return {
        "id": number,
        "name": f"#{number}",
        "customer": {"phone": phone},
        "created_at": "2026-11-25T10:00:00-05:00",
        "updated_at": "2026-11-26T09:00:00-05:00",
        "fulfillment_status": "fulfilled",
        "fulfillments": [{"tracking_company": "UPS", "tracking_number": f"1Z{number}"}],
        "line_items": [{"id": 1, "sku": "TH-RIDGE-TR-W-BLU", "product_id": 1}],
    }


async def _shopify(server: Server, payload: object, signature: str | None) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = {"X-Shopify-Topic": "orders/create", "Content-Type": "application/json"}
    if signature is not None:
        headers["X-Shopify-Hmac-Sha256"] = signature
    async with httpx.AsyncClient(timeout=30) as client:
        return await client.post(f"{server.url}/shopify/webhooks", content=body, headers=headers)


@pytest.mark.parametrize("forgery", ["unsigned", "garbage", "other-secret", "tampered"])
async def test_forged_shopify_webhooks_leave_nothing_and_signed_ones_answer(
    server: Server, forgery: str
) -> None:
    phone = new_phone()
    number = 7000 + ["unsigned", "garbage", "other-secret", "tampered"].index(forgery)
    order = _order(phone, number)
    body = json.dumps(order).encode()
    signature = {
        "unsigned": None,
        "garbage": "bm90IGEgc2lnbmF0dXJl",
        "other-secret": sign_webhook("guessed", body),
        "tampered": sign_webhook(SHOPIFY_SECRET, json.dumps(_order(phone, 1)).encode()),
    }[forgery]
    refused = await _shopify(server, order, signature)
    assert refused.status_code == 401
    client = server.client()
    shopper = ["shoppers", shopper_id_for_phone(phone)]
    for namespace in (shopper, [*shopper, "orders"], [*shopper, "events"]):
        assert (await client.store.search_items(namespace, limit=10))["items"] == []

    accepted = await _shopify(server, order, sign_webhook(SHOPIFY_SECRET, body))
    assert accepted.status_code == 200 and accepted.json()["order"] == f"#{number}"
    reply = await post_sms(server, webhook_form(phone, "hi where's my order?"))
    text = message_text(reply.text) or ""
    assert f"#{number}" in text and f"1Z{number}" in text


async def test_a_person_answers_a_held_thread_and_hands_it_back(
    server: Server, twilio: TwilioRecorder
) -> None:
    phone = new_phone()
    sid = shopper_id_for_phone(phone)
    key = {"X-Api-Key": API_KEY}
    await post_sms(
        server, webhook_form(phone, "this is ridiculous, I want to talk to a real person now")
    )
    client = server.client()
    await client.runs.wait(
        thread_id_for(sid), "textcart", command={"resume": {"action": "send", "reviewer": "sam"}}
    )
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        assert (await http.get("/handoffs")).status_code == 401
        held = (await http.get("/handoffs", headers=key)).json()["handoffs"]
        assert sid in [h["shopper_id"] for h in held]
        # While held, the agent answers nothing.
        quiet = await post_sms(server, webhook_form(phone, "hello?"))
        assert message_text(quiet.text) is None
        answer = "Hi, Sam here. I can help with that now."
        sent = await http.post(f"/handoffs/{sid}/reply", json={"text": answer, "by": "sam"},
                               headers=key)  # fmt: skip
        assert sent.status_code == 200, sent.text
        delivered = await wait_for(lambda: _sent(twilio, phone, answer), timeout_s=20)
        assert delivered
        assert any(m.get("by_person") == "sam" for m in await log_of(server, phone))
        released = await http.post(f"/handoffs/{sid}/release", headers=key)
        assert released.status_code == 200 and released.json()["released"] is True
    back = await post_sms(server, webhook_form(phone, "do you have trail runners in a 9?"))
    assert message_text(back.text)


async def _sent(twilio: TwilioRecorder, phone: str, text: str) -> bool:
    return any(m["Body"] == text for m in twilio.sent_to(phone))
