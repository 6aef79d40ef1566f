"""'Where's my order' answered from what Shopify's webhooks said, through the real graph.

The webhook route runs in process on the agent's own SQLite store (the server shares its
store with the graph the same way); the turn runs on real Weaviate, MiniLM and classic
deciders.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from textcart.agent import Agent
from textcart.graph.context import Context
from textcart.server.app import app
from textcart.tools.shopify import WebhookOrders, sign_webhook
from textcart.tools.shopper_store import ShopperStore

pytestmark = pytest.mark.usefixtures("demo_catalog")
SECRET = "shpss_integration"
PHONE = "+12125550175"
ORDER = {
    "id": 5001,
    "name": "#5001",
    "customer": {"phone": PHONE},
    "created_at": "2026-11-25T10:00:00-05:00",
    "updated_at": "2026-11-26T09:00:00-05:00",
    "fulfillment_status": "fulfilled",
    "fulfillments": [{"tracking_company": "UPS", "tracking_number": "1Z999AA10123456784"}],
    "line_items": [{"id": 1, "sku": "TH-RIDGE-TR-W-BLU", "product_id": 1}],
}


async def _post(topic: str, payload: dict[str, object], secret: str) -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": sign_webhook(secret, body)}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://textcart.test"
    ) as client:
        return await client.post("/shopify/webhooks", content=body, headers=headers)


@pytest.fixture
async def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Agent]:
    """An agent whose store the webhook route writes to, with the secret set."""
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("TEXTCART_INSECURE_DEV", raising=False)
    async with Agent.open(tmp_path, replace(Context(model=None))) as opened:
        app.state.shoppers = ShopperStore(opened.store)
        app.state.services = opened.services
        app.state.scheduler = SimpleNamespace(wake=lambda: None, stats=lambda: {})
        yield opened


async def test_wheres_my_order_answers_from_shopify(agent: Agent) -> None:
    sid = agent.shopper_id(PHONE)
    forged = await _post("orders/updated", ORDER, "not-the-secret")
    assert forged.status_code == 401
    assert await WebhookOrders(agent.store).latest(sid) is None
    assert await ShopperStore(agent.store).events(sid) == []

    assert (await _post("orders/create", ORDER, SECRET)).status_code == 200
    after = await agent.receive(PHONE, "hi, where's my order?")
    text = after["outbound"]["text"]
    assert "#5001" in text and "UPS" in text and "1Z999AA10123456784" in text


async def test_a_shopify_order_after_a_text_is_attributed_to_it(agent: Agent) -> None:
    sent = await agent.receive(PHONE, "do the ridgeline trail runners come in a 9?")
    assert sent["outbound"]["text"]
    bought_at = datetime.now(UTC) + timedelta(minutes=5)
    order = {
        **ORDER,
        "id": 5002,
        "name": "#5002",
        "created_at": bought_at.isoformat(),
        "updated_at": bought_at.isoformat(),
        "total_price": "145.00",
    }
    answer = (await _post("orders/create", order, SECRET)).json()
    assert answer["recorded"] == 1
    assert answer["attributed_to"] is not None, answer
    assert answer["attributed_to"]["rule"] == "message", answer
    # The same order again (Shopify retries webhooks) credits nothing twice.
    again = (await _post("orders/create", order, SECRET)).json()
    assert again["recorded"] == 1
    summary = await ShopperStore(agent.store).events(agent.shopper_id(PHONE))
    assert sum(e["type"] == "purchased" for e in summary) == 1
