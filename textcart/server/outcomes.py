"""Outcome routes and helpers: tracked-link redirects and purchase attribution.

- `GET /l/{code}`: the tracked link in a text. Records the click on that message (once
  per click window; bots and link previews are not counted) and redirects (302) to the
  product page with UTM parameters. An unknown or expired code gets a plain 404 page.
- `attribute_purchase`: called by `POST /events` for each `purchased` event, so the
  purchase is credited to the message that earned it (`textcart.rules.attribution`).
"""

from __future__ import annotations

import html
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from textcart.graph.context import Context
from textcart.graph.services import Services
from textcart.tools import links
from textcart.tools.outcomes import record_purchase, windows_from_env
from textcart.tools.shopper_store import ShopperStore, now_utc

log = logging.getLogger("textcart.server")

_NOT_FOUND = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Link not found</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto; padding: 0 1em">
<h1>This link has expired or does not exist</h1>
<p>Links in our texts work for {days:g} days. Visit {store} from its website, or reply
to our text and we will send a fresh link.</p></body></html>
"""


def _not_found(days: float) -> HTMLResponse:
    store = html.escape(Context().store_name)
    return HTMLResponse(_NOT_FOUND.format(days=days, store=store), status_code=404)


async def follow_link(request: Request) -> Response:
    """Redirect a tracked link to its page, recording a person's click on the message."""
    settings = links.LinkSettings.from_env()
    ttl_days = settings.ttl_days if settings else 30.0
    code = request.path_params["code"]
    shoppers: ShopperStore = request.app.state.shoppers
    now = now_utc()
    link = await links.resolve(shoppers.store, code, now)
    if link is None:
        return _not_found(ttl_days)
    if links.is_person(request.headers.get("user-agent")):
        window_h = settings.click_window_h if settings else 24.0
        try:
            await links.record_click(shoppers, code, link, now, window_h)
        except Exception as exc:  # noqa: BLE001 - the shopper still gets their page
            log.warning("click on %s not recorded: %s", code, type(exc).__name__)
    target = links.with_utm(link["url"], link.get("campaign", "textcart"), link.get("content", ""))
    return RedirectResponse(target, status_code=302, headers={"Cache-Control": "no-store"})


async def _known_product(services: Services, product_id: str) -> bool | None:
    """Whether the catalog has the product; None when the catalog cannot be asked now."""
    try:
        catalog = await services.catalog(Context().catalog_collection)
        return product_id in await catalog.get_many([product_id])
    except Exception as exc:  # noqa: BLE001 - the purchase is recorded either way
        log.warning("catalog not reachable to check a purchase: %s", type(exc).__name__)
        return None


async def attribute_purchase(
    services: Services, shoppers: ShopperStore, event: dict[str, Any], event_id: str
) -> dict[str, Any]:
    """Credit a recorded purchase to the message that earned it; what the answer says."""
    answer: dict[str, Any] = {"event_id": event_id}
    if event.get("product_id"):
        known = await _known_product(services, event["product_id"])
        if known is False:
            answer["unknown_product"] = True
    found = await record_purchase(
        shoppers,
        event["shopper_id"],
        at=event["at"],
        event_id=event_id,
        windows=windows_from_env(),
        value=event.get("value"),
        offer_code=event.get("offer_code"),
        product_id=event.get("product_id"),
    )
    answer["attributed_to"] = found.as_json() if found.message_id else None
    return answer


# `path`: a code with a slash in it still gets the 404 page, not the API's JSON one.
ROUTES = [Route("/l/{code:path}", follow_link, methods=["GET"])]
