"""Operator keys for the LangGraph API, through LangGraph's custom-auth hook.

`langgraph.json` names `auth` here (`"auth": {"path": "textcart.server.auth:auth",
"disable_studio_auth": true}`), so every request to threads, runs, assistants and the
store needs `X-Api-Key` with one of `TEXTCART_API_KEYS`. Studio and `langgraph_sdk`
connect with the key like any client (`get_client(url=..., api_key=...)` sends it in
that header). The server's own routes (`/sms/inbound`, `/events`, `/healthz`) are not
covered by this hook: they check their own signatures (`textcart.server.security`).
The server's in-process calls (webhook turns, the scheduler) do not pass through it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from langgraph_sdk import Auth

from textcart.server.security import api_keys, insecure_dev, valid_api_key

auth = Auth()
OPERATORS = "operators"


@auth.authenticate
async def authenticate(headers: dict[Any, Any]) -> Auth.types.MinimalUserDict:
    """Accept a request that carries a configured operator key in `X-Api-Key`."""
    if insecure_dev():
        return {"identity": "insecure-dev", "is_authenticated": True}
    # `langgraph dev` hands the headers over as bytes, Aegra as decoded strings.
    raw = headers.get(b"x-api-key") or headers.get("x-api-key")
    key = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if not valid_api_key(key, api_keys()):
        raise Auth.exceptions.HTTPException(
            status_code=401, detail="a valid X-Api-Key is required (TEXTCART_API_KEYS)"
        )
    assert key is not None
    # Every key belongs to the shop's operators, who share its threads: the production
    # server (Aegra) shows a thread only to the identity that made it, and the webhook's
    # own turns use the first key. Keys never reach logs or run metadata; a short hash in
    # the display name tells operators apart.
    return {
        "identity": OPERATORS,
        "display_name": "operator-" + hashlib.sha256(key.encode()).hexdigest()[:12],
    }
