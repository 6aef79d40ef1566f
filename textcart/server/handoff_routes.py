"""The hand-off desk over HTTP: a person lists, answers and releases held threads.

- `GET /handoffs`: every thread a person holds, with the shopper's last texts.
- `POST /handoffs/{shopper_id}/reply` `{"text": ..., "by": ...}`: text the shopper as a
  person, through the store's sender; logged in their message log.
- `POST /handoffs/{shopper_id}/release`: hand the thread back to the agent.

Each needs an operator key in `X-Api-Key` (`TEXTCART_API_KEYS`), like the LangGraph API:
these routes read shoppers' texts and send from the store's number.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from textcart.server.security import api_keys, insecure_dev, valid_api_key
from textcart.tools.handoffs import HandoffDesk, PersonReplyRefused, send_person_reply
from textcart.tools.shopper_store import now_utc

MAX_REPLY_CHARS = 1600


def _refused(request: Request) -> Response | None:
    if insecure_dev() or valid_api_key(request.headers.get("x-api-key"), api_keys()):
        return None
    return JSONResponse({"error": "a valid X-Api-Key is required"}, status_code=401)


def _desk(request: Request) -> HandoffDesk:
    return HandoffDesk(request.app.state.shoppers.store)


async def list_handoffs(request: Request) -> Response:
    """Every open hold."""
    if refused := _refused(request):
        return refused
    return JSONResponse({"handoffs": await _desk(request).open_holds()})


async def reply(request: Request) -> Response:
    """A person's text to the shopper, sent and logged."""
    if refused := _refused(request):
        return refused
    try:
        body: Any = json.loads(await request.body())
    except ValueError:
        return JSONResponse({"error": "the body must be JSON"}, status_code=400)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY_CHARS:
        return JSONResponse(
            {"error": f"text must be 1-{MAX_REPLY_CHARS} characters"}, status_code=422
        )
    by = str(body.get("by") or "staff")[:80]
    sender = request.app.state.services.sender()
    try:
        entry = await send_person_reply(
            request.app.state.shoppers.store,
            sender,
            request.path_params["shopper_id"],
            text,
            by=by,
            at=now_utc(),
        )
    except PersonReplyRefused as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    status = 200 if entry["delivery"]["status"] == "sent" else 502
    return JSONResponse({"message": entry}, status_code=status)


async def release(request: Request) -> Response:
    """Give the thread back to the agent."""
    if refused := _refused(request):
        return refused
    released = await _desk(request).release(request.path_params["shopper_id"])
    return JSONResponse({"released": released}, status_code=200 if released else 404)


ROUTES = [
    Route("/handoffs", list_handoffs, methods=["GET"]),
    Route("/handoffs/{shopper_id:str}/reply", reply, methods=["POST"]),
    Route("/handoffs/{shopper_id:str}/release", release, methods=["POST"]),
]
