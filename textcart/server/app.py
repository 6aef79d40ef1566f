"""The HTTP routes the LangGraph server mounts beside its own API (`http.app`).

- `POST /sms/inbound`: Twilio's inbound-message webhook (signed by Twilio). Answers with TwiML.
- `POST /events`: behaviour events from the store's site (signed with the events secret);
  can schedule a proactive text.
- `GET /healthz`: liveness plus the scheduler's counters.
- `GET /l/{code}`: tracked links in texts (`textcart.server.outcomes`).
- `/handoffs...`: a person answers held threads (`textcart.server.handoff_routes`).
- `POST /shopify/webhooks`: Shopify's order, checkout and cart webhooks, HMAC-verified
  (`textcart.server.shopify_routes`).

Both POST routes refuse unsigned requests before reading or storing anything, and are
rate-limited (`textcart.server.security`); the LangGraph API beside them needs an
operator key (`textcart.server.auth`).

Every turn runs through the server's own runs API (in process, through `langgraph_sdk`),
so webhook turns appear in Studio like any other run and share its queue: a shopper who
double-texts gets both texts processed in order (`multitask_strategy="enqueue"`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from textcart import settings
from textcart.graph.context import Context
from textcart.graph.services import default_services
from textcart.server import handoff_routes, outcomes, shopify_routes
from textcart.server.inbox import Inbox, TurnRunner
from textcart.server.persistence import store as open_store
from textcart.server.policy_refit import refit_forever, refit_interval_s
from textcart.server.scheduler import ProactiveScheduler
from textcart.server.security import (
    EVENTS_SIGNATURE_HEADER,
    Limited,
    RateLimits,
    events_signature_problem,
    insecure_dev,
)
from textcart.tools import consent as consent_rules
from textcart.tools import sms
from textcart.tools.outcomes import windows_from_env
from textcart.tools.shopper_store import (
    EVENT_TYPES,
    ShopperStore,
    now_utc,
    shopper_id_for_phone,
)

log = logging.getLogger("textcart.server")

MAX_BODY_CHARS = 1600
MAX_FORM_BYTES = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_EVENTS_PER_POST = 500
MAX_EVENTS_BYTES = 1024 * 1024
_MESSAGE_SID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Which behaviour event starts which proactive text, if the shopper goes quiet.
ABANDONMENT_TRIGGERS = {"viewed": "browse_abandonment", "added_to_cart": "cart_abandonment"}


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _too_many(limited: Limited, what: str) -> JSONResponse:
    return JSONResponse(
        {
            "error": f"too many {what} (limit {limited.limit}); nothing was recorded, "
            f"try again in {limited.retry_after_s} s"
        },
        status_code=429,
        headers={"Retry-After": str(limited.retry_after_s)},
    )


def _twiml(text: str | None) -> Response:
    return Response(sms.twiml_reply(text), media_type="text/xml")


class _InboxReply(Response):
    """The TwiML reply to an inbound text, marked answered in the inbox just before it is written.

    The mark is the last thing before the bytes go out, so a process killed between the
    two loses as little as it can. A reply the inbox could not mark is not written (an
    empty TwiML goes instead): recovery sends it by SMS, once.
    """

    def __init__(self, inbox: Inbox, message_sid: str, text: str | None) -> None:
        self.inbox, self.message_sid = inbox, message_sid
        super().__init__(sms.twiml_reply(text), media_type="text/xml")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self.inbox.responding(self.message_sid):
            await _twiml(None)(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def _signed_url(request: Request) -> str:
    """The URL Twilio signed: the public one when the server sits behind a proxy."""
    public = settings.current().public_url.rstrip("/")
    if public:
        query = f"?{request.url.query}" if request.url.query else ""
        return f"{public}{request.url.path}{query}"
    return str(request.url)


async def sms_inbound(request: Request) -> Response:
    """Answer one inbound SMS (Twilio form fields) with TwiML; retries get the same answer."""
    if not request.headers.get("content-type", "").startswith(FORM_TYPE):
        return _error(415, f"expected {FORM_TYPE}")
    raw = await request.body()
    if len(raw) > MAX_FORM_BYTES:
        return _error(413, f"the form is over {MAX_FORM_BYTES} bytes")
    try:
        params = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except (UnicodeDecodeError, ValueError):
        return _error(400, "the form is not UTF-8 url-encoded text")
    if not insecure_dev():
        token = settings.current().twilio_auth_token
        if not token:
            log.warning("inbound SMS refused: TWILIO_AUTH_TOKEN is not set")
            return _error(403, "signature checking is not configured (TWILIO_AUTH_TOKEN)")
        if not sms.valid_signature(
            token, _signed_url(request), params, request.headers.get("X-Twilio-Signature")
        ):
            log.warning("inbound SMS with a bad or missing signature rejected")
            return _error(403, "invalid X-Twilio-Signature")
    message_sid = params.get("MessageSid") or params.get("SmsSid") or ""
    if not _MESSAGE_SID.match(message_sid):
        return _error(400, "MessageSid is missing or malformed")
    body = params.get("Body", "")
    if len(body) > MAX_BODY_CHARS:
        return _error(413, f"Body is {len(body)} characters; the limit is {MAX_BODY_CHARS}")
    try:
        shopper_id = shopper_id_for_phone(params.get("From", ""))
    except ValueError:
        return _error(400, "From is not a phone number")
    limited = await request.app.state.limits.inbound_text(shopper_id, body)
    if limited is not None:
        log.warning("inbound text over the per-number rate refused")
        return _too_many(limited, "texts from this number")
    inbox: Inbox = request.app.state.inbox
    try:
        reply = await inbox.answer(message_sid, params["From"], shopper_id, body)
    except Exception as exc:  # noqa: BLE001 - the text is kept; recovery answers it later
        log.warning("inbound %s not answered now: %s", message_sid, type(exc).__name__)
        return JSONResponse(
            {"error": "the text is kept and will be answered by SMS shortly"},
            status_code=503,
            headers={"Retry-After": "30"},
        )
    return _InboxReply(inbox, message_sid, reply)


def _parse_events(payload: Any) -> list[dict[str, Any]]:
    """Validate a POST /events body: one event object, a list, or {"events": [...]}."""
    if isinstance(payload, dict) and "events" in payload:
        payload = payload["events"]
    events = payload if isinstance(payload, list) else [payload]
    if not events or len(events) > MAX_EVENTS_PER_POST:
        raise ValueError(f"send between 1 and {MAX_EVENTS_PER_POST} events")
    parsed: list[dict[str, Any]] = []
    for i, event in enumerate(events):
        if not isinstance(event, dict):
            raise ValueError(f"event {i} is not an object")
        if event.get("type") == "opted_in":
            parsed.append(_parse_opt_in(i, event))
            continue
        if event.get("type") not in EVENT_TYPES:
            kinds = ", ".join((*EVENT_TYPES, "opted_in"))
            raise ValueError(f"event {i}: type must be one of {kinds}")
        phone = event.get("phone")
        if not isinstance(phone, str):
            raise ValueError(f"event {i}: phone is required")
        try:
            shopper_id = shopper_id_for_phone(phone)
        except ValueError as exc:
            raise ValueError(f"event {i}: {exc}") from None
        at = event.get("at")
        try:
            when = datetime.fromisoformat(at) if isinstance(at, str) else now_utc()
        except ValueError:
            raise ValueError(f"event {i}: 'at' is not an ISO 8601 time") from None
        if when.tzinfo is None:
            raise ValueError(f"event {i}: 'at' needs a time zone")
        skewed = when - now_utc() > timedelta(seconds=windows_from_env().skew_s)
        if skewed:
            # A clock ahead of ours would put the purchase after texts not yet sent:
            # it happened no later than now.
            when = now_utc()
        product_id = event.get("product_id")
        if product_id is not None and not isinstance(product_id, str):
            raise ValueError(f"event {i}: product_id must be a string")
        event_id = event.get("event_id")
        if event_id is not None and not isinstance(event_id, str):
            raise ValueError(f"event {i}: event_id must be a string")
        parsed.append(
            {
                "shopper_id": shopper_id,
                "phone": phone,
                "type": event["type"],
                "product_id": product_id,
                "at": when,
                "event_id": event_id,
                "clock_skew": skewed,
                **_purchase_fields(i, event),
            }
        )
    return parsed


def _purchase_fields(i: int, event: dict[str, Any]) -> dict[str, Any]:
    """A purchase's optional `value` (order total, >= 0) and `offer_code`."""
    fields: dict[str, Any] = {}
    value = event.get("value")
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"event {i}: value must be a number >= 0")
        fields["value"] = float(value)
    code = event.get("offer_code")
    if code is not None:
        if not isinstance(code, str) or len(code) > 64:
            raise ValueError(f"event {i}: offer_code must be a string of at most 64 characters")
        fields["offer_code"] = code
    if fields and event.get("type") != "purchased":
        raise ValueError(f"event {i}: value and offer_code belong to purchased events")
    return fields


def _parse_opt_in(i: int, event: dict[str, Any]) -> dict[str, Any]:
    try:
        opt_in = consent_rules.parse_opt_in(event, now_utc())
    except ValueError as exc:
        raise ValueError(f"event {i}: {exc}") from None
    event_id = event.get("event_id")
    if event_id is not None and not isinstance(event_id, str):
        raise ValueError(f"event {i}: event_id must be a string")
    return {
        "shopper_id": shopper_id_for_phone(opt_in.phone),
        "phone": opt_in.phone,
        "type": "opted_in",
        "opt_in": opt_in,
        "event_id": event_id,
    }


async def post_events(request: Request) -> Response:
    """Record behaviour events; a view or cart add schedules an abandonment text."""
    raw = await request.body()
    if len(raw) > MAX_EVENTS_BYTES:
        return _error(413, f"the body is over {MAX_EVENTS_BYTES} bytes")
    if not insecure_dev():
        secret = settings.current().events_secret
        problem = (
            "signature checking is not configured (TEXTCART_EVENTS_SECRET)"
            if not secret
            else events_signature_problem(secret, request.headers.get(EVENTS_SIGNATURE_HEADER), raw)
        )
        if problem is not None:
            log.warning("events refused: %s", problem)
            return _error(401, problem)
    try:
        payload = json.loads(raw)
    except ValueError:
        return _error(400, "expected a JSON body")
    try:
        events = _parse_events(payload)
    except ValueError as exc:
        return _error(400, str(exc))
    source = request.client.host if request.client else "unknown"
    limited = await request.app.state.limits.event_post(source, len(events))
    if limited is not None:
        return _too_many(limited, "events from this source")
    shoppers: ShopperStore = request.app.state.shoppers
    delay = timedelta(minutes=settings.current().abandonment_delay_minutes)
    scheduled, not_scheduled, opt_ins, purchases = [], [], [], []
    for event in events:
        shopper_id = event["shopper_id"]
        if event["type"] == "opted_in":
            outcome = await consent_rules.record_opt_in(
                shoppers, event["opt_in"], via="event", reference=event["event_id"]
            )
            opt_ins.append({"event_id": event["event_id"], "consent": outcome})
            continue
        if await shoppers.get_profile(shopper_id) is None:
            await shoppers.upsert_profile(shopper_id, phone=event["phone"])
        details: dict[str, Any] = {k: event[k] for k in ("value", "offer_code") if k in event}
        if event["clock_skew"]:
            details["clock_skew"] = True
        event_id = await shoppers.add_event(
            shopper_id, event["type"], event["product_id"], event["at"], event["event_id"],
            details=details,
        )  # fmt: skip
        if event["type"] == "purchased":
            purchases.append(
                await outcomes.attribute_purchase(
                    request.app.state.services, shoppers, event, event_id
                )
            )
            continue
        trigger = ABANDONMENT_TRIGGERS.get(event["type"])
        if trigger is None:
            continue
        status = (await shoppers.get_consent(shopper_id))["status"]
        if status != "subscribed":
            # No text the shopper did not ask for without their opt-in.
            not_scheduled.append({"event_id": event_id, "trigger": trigger, "consent": status})
            continue
        entry = await shoppers.queue_proactive(shopper_id, trigger, event["at"] + delay)
        scheduled.append({"event_id": event_id, **entry})
    log.info("recorded %d events, scheduled %d proactive checks", len(events), len(scheduled))
    request.app.state.scheduler.wake()
    body: dict[str, Any] = {"recorded": len(events), "scheduled": scheduled}
    if not_scheduled:
        body["not_scheduled"] = not_scheduled
    if opt_ins:
        body["opted_in"] = opt_ins
    if purchases:
        body["purchases"] = purchases
    skewed = sum(1 for e in events if e.get("clock_skew"))
    if skewed:
        body["clock_skew"] = f"{skewed} event(s) dated in the future were recorded at receipt"
    return JSONResponse(body, status_code=202)


async def healthz(request: Request) -> Response:
    """Liveness, with what the scheduler has done since start."""
    return JSONResponse({"ok": True, "scheduler": request.app.state.scheduler.stats()})


@contextlib.asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    """Start the services and the store, replay unanswered texts, run the scheduler.

    The services are the ones the served graph uses (`default_services`): built, and
    Weaviate and the configured models started, before the server takes its first turn.
    """
    async with open_store() as kv:
        # Off the event loop (the server refuses blocking calls on it): building the
        # services, reading the store folder, and the sender's choice.
        services = await default_services()
        await services.start(await asyncio.to_thread(Context))
        sender = await asyncio.to_thread(services.sender)
        configured = settings.current()
        shoppers = ShopperStore(kv)
        runner = TurnRunner()
        app.state.services = services
        app.state.shoppers = shoppers
        app.state.limits = RateLimits()
        app.state.inbox = Inbox(
            kv,
            shoppers,
            runner,
            sender,
            stale_after=timedelta(seconds=configured.inbox_stale_s),
            reply_within=timedelta(seconds=configured.webhook_reply_s),
        )
        app.state.scheduler = ProactiveScheduler(
            shoppers,
            runner,
            interval_s=configured.scheduler_interval_s,
        )
        task = asyncio.create_task(app.state.scheduler.run(), name="proactive-scheduler")
        recovery = asyncio.create_task(
            app.state.inbox.recover_forever(configured.recovery_interval_s),
            name="inbox-recovery",
        )
        background_tasks = [task, recovery]
        if (every := refit_interval_s()) > 0:
            background_tasks.append(
                asyncio.create_task(refit_forever(services, kv, every), name="policy-refit")
            )
        try:
            yield
        finally:
            for background in background_tasks:
                background.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await background


app = Starlette(
    routes=[
        Route("/sms/inbound", sms_inbound, methods=["POST"]),
        Route("/events", post_events, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        *outcomes.ROUTES,
        *handoff_routes.ROUTES,
        *shopify_routes.ROUTES,
    ],
    lifespan=lifespan,
)
