"""Threads a person has taken over: the agent stays silent to that shopper until released.

A hand-off that reaches a person (the store's channel was told, or a person reviews the
reply) puts a hold on the shopper: `compliance_gate` then answers nothing but the
compliance keywords (STOP, HELP, START...) until a person releases the thread or the hold
runs out (`release_after_hours`, 24 by default). Holds live in one store namespace so a
person can list every open one; each records who released it and when.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from langgraph.store.base import BaseStore

from textcart.tools.delivery import deliver
from textcart.tools.shopper_store import ShopperStore, now_utc, shopper_id_for_phone
from textcart.tools.sms import Sender

_NAMESPACE = ("handoffs",)


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value)


class HandoffDesk:
    """Open, read and release the holds of hand-offs, in a LangGraph store."""

    def __init__(self, store: BaseStore) -> None:
        """Use `store` (the same store the graph's shopper data lives in)."""
        self.store = store

    async def hold(
        self,
        phone: str,
        *,
        reason: str,
        at: datetime,
        hours: float,
        last_texts: list[str],
        notified: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Hand the shopper's thread to a person from `at` for `hours` (or until released)."""
        shopper_id = shopper_id_for_phone(phone)
        hold = {
            "phone": phone,
            "shopper_id": shopper_id,
            "reason": reason,
            "since": at.isoformat(),
            "until": (at + timedelta(hours=hours)).isoformat(),
            "last_texts": last_texts[-5:],
            "notified": notified,
            "replies": [],
        }
        await self.store.aput(_NAMESPACE, shopper_id, hold)
        return hold

    async def held(self, shopper_id: str, now: datetime | None = None) -> dict[str, Any] | None:
        """The open hold on this shopper, or None (none, released, or run out at `now`)."""
        item = await self.store.aget(_NAMESPACE, shopper_id)
        if item is None:
            return None
        hold: dict[str, Any] = item.value
        if _time(hold["until"]) <= (now or now_utc()):
            return None
        return hold

    async def open_holds(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Every hold still open at `now`, oldest first."""
        items = await self.store.asearch(_NAMESPACE, limit=1000)
        at = now or now_utc()
        holds = [i.value for i in items if _time(i.value["until"]) > at]
        return sorted(holds, key=lambda h: h["since"])

    async def note_reply(self, shopper_id: str, text: str, by: str, at: datetime) -> None:
        """Record on the hold that a person answered (the message log has the text too)."""
        item = await self.store.aget(_NAMESPACE, shopper_id)
        if item is not None:
            hold = dict(item.value)
            reply = {"text": text, "by": by, "at": at.isoformat()}
            hold["replies"] = [*hold.get("replies", []), reply]
            await self.store.aput(_NAMESPACE, shopper_id, hold)

    async def release(self, shopper_id: str) -> bool:
        """Give the thread back to the agent; False when there was no hold."""
        if await self.store.aget(_NAMESPACE, shopper_id) is None:
            return False
        await self.store.adelete(_NAMESPACE, shopper_id)
        return True


class PersonReplyRefused(ValueError):
    """A person's reply that may not be sent (unknown shopper, opted out, empty)."""


async def send_person_reply(
    store: BaseStore, sender: Sender, shopper_id: str, text: str, *, by: str, at: datetime
) -> dict[str, Any]:
    """Send a person's text through the store's number and log it like any reply.

    The message log keeps it with `by_person`, so the shopper's history, exports and the
    next-message policy see what was said. A shopper who texted STOP gets nothing, from a
    person or the agent.
    """
    shoppers = ShopperStore(store)
    text = text.strip()
    if not text:
        raise PersonReplyRefused("the reply is empty")
    if await shoppers.get_profile(shopper_id) is None:
        raise PersonReplyRefused(f"no shopper {shopper_id}")
    if (await shoppers.get_consent(shopper_id))["status"] == "opted_out":
        raise PersonReplyRefused("the shopper opted out; nothing may be sent")
    message_id = f"person-{at.strftime('%Y%m%dT%H%M%S%f')}:reply"
    delivery = await deliver(shoppers, sender, shopper_id, text, message_id)
    entry = {
        "message_id": message_id,
        "direction": "outbound",
        "text": text,
        "message_type": "handoff_to_human",
        "at": at.isoformat(),
        "turn_at": at.isoformat(),
        "proactive": False,
        "disclosure": False,
        "by_person": by,
        "delivery": delivery,
        "outcomes": [],
    }
    await shoppers.log_message(shopper_id, message_id, entry)
    await HandoffDesk(store).note_reply(shopper_id, text, by, at)
    return entry
