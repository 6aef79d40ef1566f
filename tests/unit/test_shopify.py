"""Shopify's webhooks and Admin API: only signed webhooks count, and orders come back out.

The webhook route runs in process (ASGI) on an in-memory LangGraph store; the Admin API
is a local HTTP server answering Shopify's REST shapes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from langgraph.store.memory import InMemoryStore
from product_list_catalog import ProductListCatalog

from textcart.graph.services import Services
from textcart.server.app import app
from textcart.tools.catalog_files import read_products
from textcart.tools.orders import NoOrders
from textcart.tools.shopify import WebhookOrders, sign_webhook, verify_webhook
from textcart.tools.shopper_store import ShopperStore, shopper_id_for_phone

KURTAS = Path(__file__).resolve().parents[1] / "fixtures" / "shopify_products.csv"
SECRET = "shpss_test_secret"
PHONE = "+12125550173"
SID = shopper_id_for_phone(PHONE)

ORDER = {
    "id": 820982911946154508,
    "name": "#1001",
    "phone": None,
    "customer": {"id": 115310627314723954, "phone": "(212) 555-0173"},
    "created_at": "2026-11-20T10:00:00+05:30",
    "updated_at": "2026-11-20T10:00:00+05:30",
    "cancelled_at": None,
    "fulfillment_status": None,
    "fulfillments": [],
    "line_items": [
        {"id": 1, "sku": "block-print-kurta-indigo", "product_id": 632910392, "quantity": 1},
        # No SKU: named by its title. A gift card is no catalog product: left out.
        {"id": 2, "sku": "", "product_id": 921728736, "title": "Handloom Cotton Dohar"},
        {"id": 3, "sku": "GIFT-50", "product_id": 5, "title": "Gift Card", "quantity": 1},
    ],
}
SHIPPED = {
    **ORDER,
    "updated_at": "2026-11-22T09:00:00+05:30",
    "fulfillment_status": "fulfilled",
    "fulfillments": [
        {"tracking_company": "Delhivery", "tracking_number": "DL123456", "shipment_status": None}
    ],
}
CHECKOUT = {
    "token": "chk-1",
    "cart_token": "cart-77",
    "phone": PHONE,
    "updated_at": "2026-11-21T10:00:00+05:30",
    "line_items": [{"sku": "handloom-dohar", "product_id": 1, "variant_id": 2}],
}
CART = {"token": "cart-77", "updated_at": "2026-11-21T10:05:00+05:30",
        "line_items": [{"sku": "block-print-kurta-rust", "product_id": 3}]}  # fmt: skip


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, services: Services) -> ProductListCatalog:
    """The services' catalog is the kurta store's Shopify export."""
    loaded = ProductListCatalog(read_products(KURTAS))

    async def catalog(collection: str) -> ProductListCatalog:
        return loaded

    monkeypatch.setattr(services, "catalog", catalog)
    return loaded


@pytest.fixture
def kv(
    monkeypatch: pytest.MonkeyPatch,
    services: Services,
    no_weaviate: None,
    catalog: ProductListCatalog,
) -> InMemoryStore:
    store = InMemoryStore()
    app.state.services = services
    app.state.shoppers = ShopperStore(store)
    app.state.scheduler = SimpleNamespace(wake=lambda: None, stats=lambda: {})
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRET", SECRET)
    monkeypatch.delenv("TEXTCART_INSECURE_DEV", raising=False)
    return store


async def post(topic: str, payload: Any, signature: str | None = "valid") -> httpx.Response:
    body = json.dumps(payload).encode()
    headers = {"X-Shopify-Topic": topic, "Content-Type": "application/json"}
    if signature == "valid":
        headers["X-Shopify-Hmac-Sha256"] = sign_webhook(SECRET, body)
    elif signature is not None:
        headers["X-Shopify-Hmac-Sha256"] = signature
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://textcart.test"
    ) as client:
        return await client.post("/shopify/webhooks", content=body, headers=headers)


def test_signature_is_shopifys() -> None:
    body = b'{"id": 1}'
    assert verify_webhook(SECRET, body, sign_webhook(SECRET, body))
    assert not verify_webhook(SECRET, body + b" ", sign_webhook(SECRET, body))
    assert not verify_webhook(SECRET, body, sign_webhook("another", body))
    assert not verify_webhook("", body, sign_webhook("", body))


@pytest.mark.parametrize(
    "signature", [None, "", "garbage", sign_webhook("another-secret", json.dumps(ORDER).encode())]
)
async def test_a_bad_hmac_is_refused_and_nothing_is_stored(
    kv: InMemoryStore, signature: str | None
) -> None:
    for topic, payload in (("orders/create", ORDER), ("checkouts/create", CHECKOUT)):
        response = await post(topic, payload, signature)
        assert response.status_code == 401
    assert await kv.asearch(("shoppers",), limit=10) == []
    assert await kv.asearch(("shopify_carts",), limit=10) == []


async def test_no_secret_configured_refuses_everything(
    kv: InMemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHOPIFY_WEBHOOK_SECRET")
    assert (await post("orders/create", ORDER)).status_code == 401
    assert await kv.asearch(("shoppers",), limit=10) == []


async def test_orders_fill_the_order_book_and_the_events(kv: InMemoryStore) -> None:
    created = await post("orders/create", ORDER)
    assert created.status_code == 200
    assert (created.json()["recorded"], created.json()["unmatched"]) == (2, 1)
    order = await WebhookOrders(kv).latest(SID)
    assert order is not None and (order.order_id, order.status) == ("#1001", "processing")
    assert order.item_ids == ("block-print-kurta-indigo", "handloom-dohar")
    events = await ShopperStore(kv).events(SID)
    assert sorted(e["type"] for e in events) == ["purchased", "purchased"]
    # Shopify retries: the same webhook again stores nothing new.
    await post("orders/create", ORDER)
    assert len(await ShopperStore(kv).events(SID)) == 2
    assert (await post("orders/updated", SHIPPED)).status_code == 200
    shipped = await WebhookOrders(kv).latest(SID)
    assert shipped is not None and shipped.status == "shipped"
    assert (shipped.carrier, shipped.tracking) == ("Delhivery", "DL123456")
    assert "with Delhivery (tracking DL123456)" in shipped.status_line()
    # A late, older update does not undo the newer one.
    await post("orders/updated", ORDER)
    latest = await WebhookOrders(kv).latest(SID)
    assert latest is not None and latest.status == "shipped"


async def test_checkouts_and_carts_become_behaviour(kv: InMemoryStore) -> None:
    unknown = await post("carts/update", CART)
    assert unknown.status_code == 200 and "no phone" in unknown.json()["ignored"]
    assert (await post("checkouts/create", CHECKOUT)).json()["recorded"] == 1
    await ShopperStore(kv).set_consent(SID, "subscribed", "test", proof={"source": "test"})
    cart = await post("carts/update", CART)
    assert cart.status_code == 200 and cart.json()["recorded"] == 1
    assert cart.json()["scheduled"] is not None  # a subscribed shopper's cart is followed up
    kinds = sorted(e["type"] for e in await ShopperStore(kv).events(SID))
    assert kinds == ["added_to_cart", "checkout_started"]


async def test_a_cart_of_a_shopify_export_names_the_catalogs_product(kv: InMemoryStore) -> None:
    """The store's own SKU on a cart line is a size's; the shopper's cart holds the colourway."""
    products = {p.id: p for p in read_products(KURTAS)}
    assert "NS-KUR-RST-M" in {v.sku for v in products["block-print-kurta-rust"].variants}
    checkout = {**CHECKOUT, "line_items": [{"sku": "NS-DOH-01", "product_id": 1, "variant_id": 2}]}
    assert (await post("checkouts/create", checkout)).json()["recorded"] == 1
    cart = {
        **CART,
        "line_items": [
            {
                "sku": "NS-KUR-RST-M",
                "product_id": 7709120512,
                "variant_id": 42301,
                "title": "Block Print Cotton Kurta",
                "variant_title": "Rust / M",
            }
        ],
    }
    assert (await post("carts/update", cart)).json()["recorded"] == 1
    context = await ShopperStore(kv).context(SID)
    assert context["cart_ids"] == ["block-print-kurta-rust"]
    events = {e["type"]: e["product_id"] for e in await ShopperStore(kv).events(SID)}
    assert events == {
        "checkout_started": "handloom-dohar",
        "added_to_cart": "block-print-kurta-rust",
    }


async def test_without_the_catalog_lines_are_deferred_not_guessed(
    kv: InMemoryStore, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(collection: str) -> None:
        raise ConnectionError("weaviate is down")

    monkeypatch.setattr(services, "catalog", unreachable)
    for topic, payload in (("orders/create", ORDER), ("checkouts/create", CHECKOUT)):
        response = await post(topic, payload)
        assert response.status_code == 503  # Shopify sends it again later
    assert await kv.asearch(("shoppers",), limit=10) == []
    assert await kv.asearch(("shopify_carts",), limit=10) == []
    # A payload without lines needs no catalog.
    assert (await post("orders/updated", {**SHIPPED, "line_items": []})).status_code == 200


async def test_unknown_topics_and_phoneless_orders_are_acknowledged(kv: InMemoryStore) -> None:
    assert "ignored" in (await post("products/update", {"id": 1})).json()
    no_phone = {**ORDER, "customer": {"id": 1}}
    response = await post("orders/create", no_phone)
    assert response.status_code == 200 and "no phone" in response.json()["ignored"]


class FakeAdmin:
    """Shopify's REST Admin API for customer search and a customer's orders."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None]] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                seen.append((url.path, self.headers.get("X-Shopify-Access-Token")))
                if url.path.endswith("/customers/search.json"):
                    query = parse_qs(url.query)["query"][0]
                    body: dict[str, Any] = {
                        "customers": [{"id": 115310627314723954}] if PHONE in query else []
                    }
                elif url.path.endswith("/customers/115310627314723954/orders.json"):
                    body = {"orders": [SHIPPED]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAdmin]:
    server = FakeAdmin()
    monkeypatch.setenv("SHOPIFY_API_BASE_URL", server.url)
    monkeypatch.setenv("SHOPIFY_ADMIN_TOKEN", "shpat_test")
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


async def test_an_order_no_webhook_brought_is_asked_of_the_admin_api(
    services: Services,
    admin: FakeAdmin,
    no_weaviate: None,
    catalog: ProductListCatalog,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = InMemoryStore()
    await ShopperStore(store).upsert_profile(SID, phone=PHONE)
    book = replace(services, orders=NoOrders())
    monkeypatch.setattr(book, "catalog", services.catalog)  # `replace` made a new object
    order = await book.order_for(store, SID)
    assert order is not None and (order.order_id, order.status) == ("#1001", "shipped")
    assert order.item_ids == ("block-print-kurta-indigo", "handloom-dohar")
    assert admin.seen[0] == ("/admin/api/2025-01/customers/search.json", "shpat_test")
    # A shopper the store platform does not know has no order.
    other = shopper_id_for_phone("+12125550174")
    await ShopperStore(store).upsert_profile(other, phone="+12125550174")
    assert await book.order_for(store, other) is None
