"""`POST /shopify/webhooks`: Shopify's order, checkout and cart webhooks.

Every request is verified with `X-Shopify-Hmac-Sha256` against `SHOPIFY_WEBHOOK_SECRET`
before its body is parsed; a missing or wrong signature (or no secret configured) is
refused with 401 and nothing is stored. A verified webhook updates the order book and
the shopper's behaviour events (`textcart.tools.shopify`); a cart add by a subscribed
shopper queues a cart-abandonment check like a signed `/events` post does. Shopify
retries a webhook until it gets a 2xx, so a payload we cannot use (no phone) is answered
200 with the reason, and repeats are stored once (event ids derive from the payload).

Line items become the catalog's product ids (`textcart.tools.shopify_lines`); a line that
names no product is left out and counted in the answer's `unmatched`. When the catalog
cannot be read, a webhook with lines is answered 503 and nothing is stored: Shopify sends
it again later, when its lines can be named, instead of the shopper's events missing them.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from textcart import settings
from textcart.graph.context import Context
from textcart.graph.services import Services
from textcart.server import outcomes
from textcart.server.security import insecure_dev
from textcart.tools.shopify import (
    HMAC_HEADER,
    TOPIC_HEADER,
    TOPICS,
    WebhookOrders,
    order_record,
    payload_phone,
    shopper_of,
    verify_webhook,
)
from textcart.tools.shopify_lines import LineMatch, match_lines
from textcart.tools.shopper_store import ShopperStore, now_utc, shopper_id_for_phone

log = logging.getLogger("textcart.server.shopify")
MAX_BODY_BYTES = 1024 * 1024


def _at(payload: dict[str, Any]) -> datetime:
    raw = payload.get("updated_at") or payload.get("created_at")
    try:
        when = datetime.fromisoformat(str(raw)) if raw else now_utc()
    except ValueError:
        when = now_utc()
    return when if when.tzinfo else now_utc()


async def _events(
    shoppers: ShopperStore, shopper_id: str, phone: str, kind: str, ids: list[str], key: str,
    at: datetime,
) -> int:  # fmt: skip
    if await shoppers.get_profile(shopper_id) is None:
        await shoppers.upsert_profile(shopper_id, phone=phone)
    for n, product_id in enumerate(ids):
        await shoppers.add_event(shopper_id, kind, product_id, at, f"shopify-{key}-{n}")
    return len(ids)


async def shopify_webhook(request: Request) -> Response:
    """Verify, then record what the webhook says."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        return JSONResponse({"error": "body too large"}, status_code=413)
    secret = settings.current().shopify_webhook_secret
    if not insecure_dev() and not verify_webhook(secret, raw, request.headers.get(HMAC_HEADER)):
        log.warning("Shopify webhook refused: bad or missing %s", HMAC_HEADER)
        return JSONResponse({"error": f"a valid {HMAC_HEADER} is required"}, status_code=401)
    topic = request.headers.get(TOPIC_HEADER, "")
    if topic not in TOPICS:
        return JSONResponse({"ignored": f"topic {topic!r} is not handled"}, status_code=200)
    try:
        payload = json.loads(raw)
    except ValueError:
        return JSONResponse({"error": "expected a JSON body"}, status_code=400)
    if not isinstance(payload, dict):
        return JSONResponse({"error": "expected a JSON object"}, status_code=400)
    shoppers: ShopperStore = request.app.state.shoppers
    orders = WebhookOrders(shoppers.store)
    at = _at(payload)
    if topic == "carts/update":
        token = str(payload.get("token") or payload.get("id") or "")
        phone = await orders.cart_phone(token) if token else None
        if phone is None:
            return JSONResponse({"ignored": "no phone is known for this cart yet"})
        sid = shopper_id_for_phone(phone)
        lines = await _lines(request.app.state.services, payload)
        if lines is None:
            return _catalog_unavailable()
        key = f"cart-{token}-{payload.get('updated_at', '')}"
        recorded = await _events(shoppers, sid, phone, "added_to_cart", lines.ids, key, at)
        queued = await _queue_cart_check(shoppers, sid, at) if recorded else None
        return JSONResponse(
            {"recorded": recorded, "unmatched": len(lines.unmatched), "scheduled": queued}
        )
    found = shopper_of(payload)
    if found is None:
        return JSONResponse({"ignored": "the payload names no phone number"})
    sid, phone = found
    lines = await _lines(request.app.state.services, payload)
    if lines is None:
        return _catalog_unavailable()
    ids = lines.ids
    if topic.startswith("orders/"):
        record = order_record(payload, ids)
        await orders.save(sid, record)
        recorded, attributed = 0, None
        if topic == "orders/create":
            key = f"order-{payload.get('id')}"
            recorded = await _events(shoppers, sid, phone, "purchased", ids, key, at)
            # The same attribution as a purchase posted to /events: the text that earned it.
            attributed = await outcomes.attribute_purchase(
                request.app.state.services,
                shoppers,
                {
                    "shopper_id": sid,
                    "at": at,
                    "value": _total(payload),
                    "offer_code": _offer_code(payload),
                    "product_id": ids[0] if ids else None,
                },
                f"shopify-{key}",
            )
        return JSONResponse(
            {
                "order": record["order_id"],
                "recorded": recorded,
                "unmatched": len(lines.unmatched),
                "attributed_to": attributed["attributed_to"] if attributed else None,
            }
        )
    # checkouts/create, checkouts/update
    if payload.get("cart_token") and payload_phone(payload):
        await orders.remember_cart(str(payload["cart_token"]), phone)
    key = f"checkout-{payload.get('token') or payload.get('id')}"
    recorded = await _events(shoppers, sid, phone, "checkout_started", ids, key, at)
    return JSONResponse({"recorded": recorded, "unmatched": len(lines.unmatched)})


def _catalog_unavailable() -> Response:
    return JSONResponse(
        {"error": "the catalog cannot be read to name the line items; send it again later"},
        status_code=503,
    )


async def _lines(services: Services, payload: dict[str, Any]) -> LineMatch | None:
    """The catalog's products the payload's lines name; None when the catalog cannot say."""
    if not payload.get("line_items"):
        return LineMatch()
    try:
        catalog = await services.catalog(Context().catalog_collection)
        return await match_lines(catalog, payload)
    except Exception as exc:  # noqa: BLE001 - Shopify retries a webhook that is not a 2xx
        log.warning("Shopify webhook deferred, the catalog is unreachable: %s", type(exc).__name__)
        return None


def _total(payload: dict[str, Any]) -> float | None:
    """The order's total price (Shopify sends it as a string), None when absent or bad."""
    try:
        return float(payload["total_price"])
    except (KeyError, TypeError, ValueError):
        return None


def _offer_code(payload: dict[str, Any]) -> str | None:
    """The first discount code used on the order, if any."""
    codes = payload.get("discount_codes") or []
    first = codes[0] if isinstance(codes, list) and codes else None
    return str(first.get("code")) if isinstance(first, dict) and first.get("code") else None


async def _queue_cart_check(shoppers: ShopperStore, sid: str, at: datetime) -> Any:
    """Queue cart abandonment for a subscribed shopper, as a signed /events post does."""
    if (await shoppers.get_consent(sid))["status"] != "subscribed":
        return None
    delay = timedelta(minutes=settings.current().abandonment_delay_minutes)
    return await shoppers.queue_proactive(sid, "cart_abandonment", at + delay)


ROUTES = [Route("/shopify/webhooks", shopify_webhook, methods=["POST"])]
