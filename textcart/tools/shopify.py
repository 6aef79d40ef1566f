"""Shopify: its webhooks (verified, read into behaviour events and orders) and its Admin API.

Webhooks: Shopify signs each body with the app's secret (`X-Shopify-Hmac-Sha256`, base64
of HMAC-SHA256 over the raw body); `verify_webhook` checks it before anything is read.
`orders/create` and `orders/updated` give the order book its orders (and a purchase event
per product on create); `checkouts/create` and `checkouts/update` give `checkout_started`
events and tie the checkout's cart token to the shopper's phone; `carts/update` gives
`added_to_cart` events for a cart whose token a checkout tied to a phone (Shopify's cart
payload names no customer). Orders are kept per shopper in the LangGraph store, so "where's
my order" answers from them. Lines name the catalog's products by way of
`textcart.tools.shopify_lines`.

Admin API: with `SHOPIFY_SHOP_DOMAIN` and `SHOPIFY_ADMIN_TOKEN`, an order the webhooks never
brought is looked up by the shopper's phone (customer search, then the customer's latest
order) over the REST Admin API; `SHOPIFY_API_BASE_URL` points it elsewhere (a test server).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from langgraph.store.base import BaseStore

from textcart import settings
from textcart.tools.orders import Order
from textcart.tools.shopper_store import normalize_phone, now_utc, shopper_id_for_phone

HMAC_HEADER = "X-Shopify-Hmac-Sha256"
TOPIC_HEADER = "X-Shopify-Topic"
TOPICS = ("orders/create", "orders/updated", "checkouts/create", "checkouts/update", "carts/update")
API_VERSION = "2025-01"
_CARTS = ("shopify_carts",)


def verify_webhook(secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is Shopify's signature of `body` with `secret`."""
    if not secret or not header:
        return False
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(base64.b64encode(digest).decode(), header.strip())


def sign_webhook(secret: str, body: bytes) -> str:
    """The header Shopify would send with `body` (for tests and local tools)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def payload_phone(payload: dict[str, Any]) -> str | None:
    """The shopper's phone in an order or checkout (E.164), or None."""
    customer = payload.get("customer") or {}
    candidates = [
        payload.get("phone"),
        customer.get("phone") if isinstance(customer, dict) else None,
        (payload.get("shipping_address") or {}).get("phone"),
        (payload.get("billing_address") or {}).get("phone"),
    ]
    for raw in candidates:
        if isinstance(raw, str) and raw.strip():
            try:
                return normalize_phone(raw)
            except ValueError:
                continue
    return None


def _status(order: dict[str, Any]) -> str:
    if order.get("cancelled_at"):
        return "cancelled"
    fulfilled = order.get("fulfillment_status") == "fulfilled"
    shipments = [f.get("shipment_status") for f in order.get("fulfillments") or []]
    if "delivered" in shipments:
        return "delivered"
    return "shipped" if fulfilled or shipments else "processing"


def order_record(order: dict[str, Any], item_ids: Sequence[str]) -> dict[str, Any]:
    """What the order book keeps of a Shopify order.

    `item_ids` are its lines as the catalog's product ids (`textcart.tools.shopify_lines`),
    which the answers look up: a Shopify SKU names one size, Shopify's numbers nothing.
    """
    fulfillments = [f for f in order.get("fulfillments") or [] if isinstance(f, dict)]
    last = fulfillments[-1] if fulfillments else {}
    status = _status(order)
    return {
        "order_id": str(order.get("name") or order.get("order_number") or order.get("id")),
        "shopify_id": order.get("id"),
        "status": status,
        "item_ids": list(item_ids),
        "carrier": last.get("tracking_company"),
        "tracking": last.get("tracking_number"),
        "placed_at": order.get("created_at"),
        "delivered_at": last.get("updated_at") if status == "delivered" else None,
        "updated_at": order.get("updated_at") or order.get("created_at"),
    }


def order_from_record(shopper_id: str, record: dict[str, Any], now: datetime) -> Order:
    """The agent's view of a kept order."""
    delivered_ago = None
    if record.get("delivered_at"):
        delivered_ago = max((now - datetime.fromisoformat(record["delivered_at"])).days, 0)
    return Order(
        order_id=record["order_id"],
        shopper_id=shopper_id,
        status=record["status"],
        item_ids=tuple(record.get("item_ids") or ()),
        carrier=record.get("carrier"),
        tracking=record.get("tracking"),
        eta_days=None,
        delivered_days_ago=delivered_ago,
    )


class WebhookOrders:
    """The order book the webhooks fill, in the LangGraph store (one namespace per shopper)."""

    def __init__(self, store: BaseStore) -> None:
        """Keep orders in `store`."""
        self.store = store

    @staticmethod
    def _ns(shopper_id: str) -> tuple[str, ...]:
        return ("shoppers", shopper_id, "orders")

    async def save(self, shopper_id: str, record: dict[str, Any]) -> None:
        """Keep (or replace) one order; an older update never overwrites a newer one."""
        key = str(record.get("shopify_id") or record["order_id"])
        current = await self.store.aget(self._ns(shopper_id), key)
        if current is not None and str(current.value.get("updated_at") or "") > str(
            record.get("updated_at") or ""
        ):
            return
        await self.store.aput(self._ns(shopper_id), key, record)

    async def latest(self, shopper_id: str, now: datetime | None = None) -> Order | None:
        """The shopper's most recently placed order, or None."""
        items = await self.store.asearch(self._ns(shopper_id), limit=100)
        if not items:
            return None
        newest = max(items, key=lambda i: str(i.value.get("placed_at") or ""))
        return order_from_record(shopper_id, newest.value, now or now_utc())

    async def every(self, shopper_id: str, now: datetime | None = None) -> list[Order]:
        """Every order kept for the shopper, the most recently placed first."""
        items = await self.store.asearch(self._ns(shopper_id), limit=100)
        items.sort(key=lambda i: str(i.value.get("placed_at") or ""), reverse=True)
        return [order_from_record(shopper_id, i.value, now or now_utc()) for i in items]

    async def remember_cart(self, cart_token: str, phone: str) -> None:
        """Tie a cart to a phone (checkouts carry both; cart webhooks only the token)."""
        await self.store.aput(_CARTS, cart_token, {"phone": phone})

    async def cart_phone(self, cart_token: str) -> str | None:
        """The phone a checkout tied to this cart, if any."""
        item = await self.store.aget(_CARTS, cart_token)
        return str(item.value["phone"]) if item is not None else None


@dataclass(frozen=True)
class ShopifyAdmin:
    """Order lookups over Shopify's REST Admin API."""

    base_url: str
    token: str
    version: str = API_VERSION

    @classmethod
    def from_env(cls) -> ShopifyAdmin | None:
        """Configured from SHOPIFY_SHOP_DOMAIN and SHOPIFY_ADMIN_TOKEN, else None."""
        configured = settings.current()
        token, base = configured.shopify_admin_token, configured.shopify_api_base_url
        domain = configured.shopify_shop_domain
        if not token or not (base or domain):
            return None
        version = configured.shopify_api_version or API_VERSION
        return cls((base or f"https://{domain}").rstrip("/"), token, version)

    async def latest_order(self, phone: str, timeout_s: float = 5.0) -> dict[str, Any] | None:
        """The latest order of the customer with this phone, as Shopify returns it."""
        headers = {"X-Shopify-Access-Token": self.token}
        root = f"{self.base_url}/admin/api/{self.version}"
        async with httpx.AsyncClient(timeout=timeout_s, headers=headers) as client:
            found = await client.get(
                f"{root}/customers/search.json", params={"query": f"phone:{phone}", "limit": 1}
            )
            found.raise_for_status()
            customers = found.json().get("customers") or []
            if not customers:
                return None
            orders = await client.get(
                f"{root}/customers/{customers[0]['id']}/orders.json",
                params={"status": "any", "limit": 1},
            )
            orders.raise_for_status()
            listed = orders.json().get("orders") or []
            return listed[0] if listed else None


def shopper_of(payload: dict[str, Any]) -> tuple[str, str] | None:
    """(shopper id, phone) of an order or checkout payload, or None without a phone."""
    phone = payload_phone(payload)
    return (shopper_id_for_phone(phone), phone) if phone else None
