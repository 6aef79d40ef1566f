"""Consent through the real server: nobody gets a text they did not opt in to.

A cart event for a number that never opted in sends nothing on any path (the event, the
scheduler, a replayed event); after JOIN + Y, or a signed `opted_in` event, the same event
sends one text that names the store and says how to stop.
"""

from __future__ import annotations

from typing import Any

import pytest
from harness import (
    Server,
    TwilioRecorder,
    log_of,
    message_text,
    new_phone,
    opt_in,
    post_events,
    post_sms,
    queued_for,
    wait_for,
    webhook_form,
)

from textcart.tools.shopper_store import shopper_id_for_phone

pytestmark = pytest.mark.e2e
STORE = "Trailhead Outfitters"


def cart(phone: str, event_id: str) -> dict[str, Any]:
    return {
        "phone": phone,
        "type": "added_to_cart",
        "product_id": "TH-STORMWALL-M-BLK",
        "event_id": event_id,
    }


async def consent_of(server: Server, phone: str) -> dict[str, Any]:
    item = await server.client().store.get_item(
        ["shoppers", shopper_id_for_phone(phone)], "consent"
    )
    return dict(item["value"]) if item else {"status": "not_subscribed", "history": []}


async def test_a_number_that_never_opted_in_gets_nothing_on_any_path(
    server: Server, twilio: TwilioRecorder
) -> None:
    phone = new_phone()
    first = await post_events(server, cart(phone, "e-1"))
    assert first.status_code == 202 and first.json()["scheduled"] == []
    assert first.json()["not_scheduled"][0]["consent"] == "not_subscribed"
    # The shopper texts a question: answered, and still nothing proactive.
    answer = await post_sms(server, webhook_form(phone, "is the stormwall waterproof?"))
    assert message_text(answer.text)
    replayed = await post_events(server, cart(phone, "e-1"))
    assert replayed.status_code == 202 and replayed.json()["scheduled"] == []
    # Nothing queued is nothing the scheduler will ever send: no need to wait for its ticks.
    assert await queued_for(server, phone) == []
    assert twilio.sent_to(phone) == []
    assert [m for m in await log_of(server, phone) if m.get("proactive")] == []


async def test_join_then_y_in_twiml_then_one_nudge_with_store_and_stop(
    server: Server, twilio: TwilioRecorder
) -> None:
    phone = new_phone()
    join = message_text((await post_sms(server, webhook_form(phone, "JOIN"))).text) or ""
    for must in (STORE, "Reply Y", "Msg &amp; data rates may apply", "STOP", "HELP"):
        assert must in join, must
    yes = message_text((await post_sms(server, webhook_form(phone, "Y"))).text) or ""
    assert "subscribed" in yes
    consent = await consent_of(server, phone)
    assert consent["status"] == "subscribed"
    assert consent["history"][-1]["proof"]["requested_by"]
    assert (await post_events(server, cart(phone, "e-2"))).json()["scheduled"]

    async def sent() -> list[dict[str, str]]:
        return twilio.sent_to(phone)

    (text,) = await wait_for(sent)
    assert text["Body"].startswith(f"{STORE}:") and "Reply STOP to opt out." in text["Body"]


async def test_a_signed_opt_in_event_records_proof_and_sends_nothing_by_itself(
    server: Server, twilio: TwilioRecorder
) -> None:
    phone = new_phone()
    recorded = await opt_in(
        server, phone, at="2026-03-01T10:00:00+00:00", timezone="America/Chicago", event_id="o-1"
    )
    assert recorded.json()["opted_in"] == [{"event_id": "o-1", "consent": "subscribed"}]
    replay = await opt_in(server, phone, event_id="o-1")
    assert replay.json()["opted_in"][0]["consent"] == "already recorded"
    assert await queued_for(server, phone) == []  # an opt-in alone queues nothing
    assert twilio.sent_to(phone) == []
    consent = await consent_of(server, phone)
    (change,) = consent["history"]
    assert change["source"] == "event" and change["at"].startswith("2026-03-01T10:00")
    assert change["proof"]["disclosure"].startswith("Yes, text me")
    assert (await post_events(server, cart(phone, "e-3"))).json()["scheduled"]

    async def sent() -> list[dict[str, str]]:
        return twilio.sent_to(phone)

    (text,) = await wait_for(sent)
    assert text["Body"].startswith(f"{STORE}:") and "STOP" in text["Body"]
    # A STOP by text is not undone by the site's opt-in event.
    await post_sms(server, webhook_form(phone, "STOP"))
    again = await opt_in(server, phone, event_id="o-2")
    assert again.json()["opted_in"][0]["consent"].startswith("ignored")
    assert (await consent_of(server, phone))["status"] == "opted_out"
