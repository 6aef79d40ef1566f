"""The store's hand-off channel: a Slack-compatible incoming webhook told of each hand-off.

The message is Slack's incoming-webhook shape, a JSON object whose `text` is the whole
notice (Slack, Mattermost, Microsoft Teams' Slack-compatible hooks and most chat tools
accept it). It says who needs a person and why, the shopper's last texts, and how to
answer and hand back. The phone number is masked: chat channels are wider than the team
that may see shoppers' numbers.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx

from textcart.rules.privacy import mask_phone
from textcart.tools.shopper_store import shopper_id_for_phone

log = logging.getLogger("textcart.handoff_channel")
NOTIFY_TIMEOUT_S = 5.0


def handoff_notice(
    store_name: str, phone: str, reason: str, last_texts: list[str], release_hours: float
) -> dict[str, Any]:
    """The webhook's JSON: a short summary and the shopper's last texts."""
    shopper_id = shopper_id_for_phone(phone)
    quoted = "\n".join(f"> {t[:300]}" for t in last_texts[-5:]) or "> (no texts)"
    text = (
        f"*{store_name}: a shopper needs a person* ({mask_phone(phone)})\n"
        f"Why: {reason}\n"
        f"Their last texts:\n{quoted}\n"
        f"The agent stays silent to them for {release_hours:g} h or until released. "
        f'Answer with `textcart handoff reply {shopper_id} "..."`, hand back with '
        f"`textcart handoff release {shopper_id}`."
    )
    return {"text": text}


def held_text_notice(store_name: str, phone: str, text: str) -> dict[str, Any]:
    """The webhook's JSON for a text that arrived while a person holds the thread."""
    shopper_id = shopper_id_for_phone(phone)
    return {
        "text": f"*{store_name}*: new text from {shopper_id} ({mask_phone(phone)}), "
        f"held for a person:\n> {text[:300]}"
    }


async def notify_handoff(url: str, notice: dict[str, Any]) -> dict[str, Any]:
    """POST the notice; returns what happened (never raises: the shopper's turn goes on)."""
    try:
        async with httpx.AsyncClient(timeout=NOTIFY_TIMEOUT_S) as client:
            response = await client.post(url, json=notice)
        ok = 200 <= response.status_code < 300
        if not ok:
            log.warning("hand-off channel answered HTTP %s", response.status_code)
        return {"status": "sent" if ok else "failed", "http_status": response.status_code}
    except httpx.HTTPError as exc:
        log.warning("hand-off channel unreachable: %s", type(exc).__name__)
        return {"status": "failed", "error": f"{type(exc).__name__}: {str(exc)[:200]}"}
