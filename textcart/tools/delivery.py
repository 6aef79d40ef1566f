"""Delivering a logged reply through the sender, with retries, and recording the outcome.

Used by the graph's `send_and_log` and by the server's inbox when it re-sends a reply
whose earlier delivery failed. A delivery is a small dict kept on the message-log entry:
`{"status": "sent", "channel", "provider_id", "attempts"}` or `{"status": "failed",
"channel": None, "error", "attempts", "failed_at"}`. A failed one is never reported as
sent: the inbox and the scheduler read this status.
"""

from __future__ import annotations

import logging
from typing import Any

from textcart.tools.shopper_store import ShopperStore, now_utc
from textcart.tools.sms import Sender, SendFailed, send_with_retry

log = logging.getLogger("textcart.delivery")


async def deliver(
    store: ShopperStore, sender: Sender, shopper_id: str, text: str, key: str
) -> dict[str, Any]:
    """Send `text` to the shopper's number with retries; the delivery record to log."""
    profile = await store.get_profile(shopper_id) or {}
    phone = profile.get("phone")
    if not phone:
        return _failed("no phone number on file", attempts=0)
    try:
        sent, attempts = await send_with_retry(sender, phone, text, idempotency_key=key)
    except SendFailed as exc:
        log.warning("sending %s failed after %d tries: %s", key, exc.attempts, exc)
        return _failed(str(exc), attempts=exc.attempts)
    return {
        "status": "sent",
        "channel": sent.channel,
        "provider_id": sent.provider_id,
        "attempts": attempts,
    }


async def redeliver(
    store: ShopperStore, sender: Sender, shopper_id: str, message_id: str
) -> dict[str, Any] | None:
    """Send a logged outbound message through the sender; its new delivery record.

    For a message whose delivery failed, or one meant for a webhook response that the
    caller knows never went out. Returns None when there is no such message or a sender
    already delivered it.
    """
    entry = await store.get_message(shopper_id, message_id)
    if entry is None or not entry.get("text"):
        return None
    previous = entry.get("delivery") or {}
    if previous.get("status") == "sent" and previous.get("channel") != "response":
        return None
    delivery = await deliver(store, sender, shopper_id, entry["text"], message_id)
    await store.log_message(shopper_id, message_id, {**entry, "delivery": delivery})
    return delivery


def _failed(error: str, *, attempts: int) -> dict[str, Any]:
    return {
        "status": "failed",
        "channel": None,
        "error": error,
        "attempts": attempts,
        "failed_at": now_utc().isoformat(),
    }
