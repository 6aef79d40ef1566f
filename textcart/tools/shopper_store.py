"""The per-shopper store: profile, consent, behaviour events and the message log.

Every shopper has their own namespace, derived from their verified phone number and never
from anything a model said:

    ("shoppers", <shopper_id>)              "profile", "consent"
    ("shoppers", <shopper_id>, "events")    one item per behaviour event
    ("shoppers", <shopper_id>, "messages")  one item per message in or out, with outcomes
    ("shoppers", <shopper_id>, "triggers")  proactive triggers past the gate: sent or held out
    ("proactive_queue",)                    "<shopper_id>:<trigger>": sends held back

It sits on LangGraph's `BaseStore`, so the same code runs on SQLite, PostgreSQL or the
LangGraph server's store.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from langgraph.store.base import BaseStore

from textcart.rules.attribution import parse_time
from textcart.tools.phone_numbers import parse_phone
from textcart.vocabulary.records import Behaviour, ShopperContext

EventType = Literal["viewed", "added_to_cart", "checkout_started", "purchased", "clicked_link"]
EVENT_TYPES: tuple[str, ...] = (
    "viewed",
    "added_to_cart",
    "checkout_started",
    "purchased",
    "clicked_link",
)
ConsentStatus = Literal["subscribed", "opted_out", "pending", "not_subscribed"]
CONSENT_STATUSES: tuple[str, ...] = ("subscribed", "opted_out", "pending", "not_subscribed")
# Proactive sends held back (quiet hours) for every shopper, in one namespace so a poller
# can list what is due without knowing the shoppers.
PROACTIVE_QUEUE: tuple[str, ...] = ("proactive_queue",)
# Numbers that opted out and then had their data forgotten, by `suppression_key`.
SUPPRESSION: tuple[str, ...] = ("suppression",)
_THREAD_NAMESPACE = uuid.UUID("6f1f2a52-3c1e-4b8e-9a53-5d7e3c0b9a11")


def normalize_phone(raw: str) -> str:
    """Return the E.164 form of a phone number that can exist, or raise ValueError.

    Numbers without a country code are read as North American (+1), as the store's
    carrier would; the 555-01xx fiction range counts as existing (libphonenumber decides
    the rest, for any country).
    """
    return parse_phone(raw)


def shopper_id_for_phone(phone: str) -> str:
    """Stable, non-reversible id of the shopper behind a phone number."""
    e164 = normalize_phone(phone)
    return "s_" + hashlib.sha256(f"textcart:{e164}".encode()).hexdigest()[:20]


def suppression_key(shopper_id: str) -> str:
    """The key of a forgotten shopper's opt-out: a hash of their id, nothing else."""
    return hashlib.sha256(f"textcart-suppression:{shopper_id}".encode()).hexdigest()


def thread_id_for(shopper_id: str) -> str:
    """The one conversation thread of a shopper (a UUID, as the LangGraph server expects)."""
    return str(uuid.uuid5(_THREAD_NAMESPACE, shopper_id))


def now_utc() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class DueSend:
    """A proactive send taken off the queue because its time has come."""

    shopper_id: str
    trigger: str
    not_before: str
    queued_at: str | None
    key: str
    """sha256 of shopper, trigger and time: the same for the same queue entry."""


class ShopperStore:
    """Typed access to one store's shopper namespaces."""

    def __init__(self, store: BaseStore) -> None:
        """Wrap a LangGraph store."""
        self.store = store

    @staticmethod
    def _ns(shopper_id: str, *rest: str) -> tuple[str, ...]:
        if not shopper_id.startswith("s_"):
            raise ValueError("shopper ids come from shopper_id_for_phone")
        return ("shoppers", shopper_id, *rest)

    async def get_profile(self, shopper_id: str) -> dict[str, Any] | None:
        """The shopper's profile, or None for an unknown shopper."""
        item = await self.store.aget(self._ns(shopper_id), "profile")
        return dict(item.value) if item else None

    async def upsert_profile(self, shopper_id: str, **fields: Any) -> dict[str, Any]:
        """Create or update profile fields (phone, first_name, timezone, preferences)."""
        profile = await self.get_profile(shopper_id) or {"created_at": now_utc().isoformat()}
        profile.update({k: v for k, v in fields.items() if v is not None})
        await self.store.aput(self._ns(shopper_id), "profile", profile)
        return profile

    async def get_consent(self, shopper_id: str) -> dict[str, Any]:
        """Consent status with its history; a number that never opted in is 'not_subscribed'."""
        item = await self.store.aget(self._ns(shopper_id), "consent")
        if item:
            return dict(item.value)
        # A number whose data was forgotten after it opted out stays opted out.
        if await self.store.aget(SUPPRESSION, suppression_key(shopper_id)) is not None:
            return {"status": "opted_out", "history": [], "suppressed": True}
        return {"status": "not_subscribed", "history": []}

    async def set_consent(
        self,
        shopper_id: str,
        status: ConsentStatus,
        source: str,
        *,
        at: datetime | None = None,
        message_id: str | None = None,
        detail: str | None = None,
        proof: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record a consent change with its time and source (keyword, phrase, event, import).

        `message_id` names the inbound text that asked for it, so the change can be traced
        to the shopper's own words in the message log; `detail` is what matched ("STOP");
        `proof` is what the shopper agreed to (the disclosure, where, the request we sent).
        """
        if status not in CONSENT_STATUSES:
            raise ValueError(f"unknown consent status {status!r}")
        consent = await self.get_consent(shopper_id)
        change: dict[str, Any] = {
            "status": status,
            "at": (at or now_utc()).astimezone(UTC).isoformat(),
            "source": source,
        }
        if message_id is not None:
            change["message_id"] = message_id
        if detail is not None:
            change["detail"] = detail
        if proof is not None:
            change["proof"] = proof
        consent["status"] = status
        consent["history"] = [*consent.get("history", []), change]
        await self.store.aput(self._ns(shopper_id), "consent", consent)
        return consent

    async def add_event(
        self,
        shopper_id: str,
        event_type: str,
        product_id: str | None = None,
        at: datetime | None = None,
        event_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> str:
        """Record a behaviour event; the same event_id recorded twice is stored once.

        `details` are kept beside it (a purchase's value and offer code, a click's link).
        """
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}; expected one of {EVENT_TYPES}")
        when = (at or now_utc()).astimezone(UTC)
        key = event_id or uuid.uuid4().hex
        await self.store.aput(
            self._ns(shopper_id, "events"),
            key,
            {
                **(details or {}),
                "type": event_type,
                "product_id": product_id,
                "at": when.isoformat(),
            },
        )
        return key

    async def get_event(self, shopper_id: str, event_id: str) -> dict[str, Any] | None:
        """One behaviour event by its id, or None."""
        item = await self.store.aget(self._ns(shopper_id, "events"), event_id)
        return dict(item.value) if item else None

    async def events(self, shopper_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """Behaviour events, newest first."""
        items = await self.store.asearch(self._ns(shopper_id, "events"), limit=limit)
        return sorted((dict(i.value) for i in items), key=lambda e: e["at"], reverse=True)

    async def log_message(self, shopper_id: str, message_id: str, entry: dict[str, Any]) -> None:
        """Write one message-log entry; writing the same message_id again overwrites it."""
        await self.store.aput(self._ns(shopper_id, "messages"), message_id, entry)

    async def get_message(self, shopper_id: str, message_id: str) -> dict[str, Any] | None:
        """One message-log entry, or None."""
        item = await self.store.aget(self._ns(shopper_id, "messages"), message_id)
        return dict(item.value) if item else None

    async def messages(self, shopper_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """The message log, oldest first."""
        items = await self.store.asearch(self._ns(shopper_id, "messages"), limit=limit)
        # A reply is logged at its turn's time, the time of the text it answers: at the
        # same time, the shopper's text comes first.
        return sorted(
            (dict(i.value) for i in items),
            key=lambda m: (m["at"], m.get("direction") == "outbound"),
        )

    async def flag_message(self, shopper_id: str, message_id: str, **fields: Any) -> None:
        """Add fields (e.g. injection signals) to a logged message; unknown ids are ignored."""
        entry = await self.get_message(shopper_id, message_id)
        if entry is not None:
            await self.log_message(shopper_id, message_id, {**entry, **fields})

    async def proactive_sent_since(self, shopper_id: str, since: datetime) -> list[datetime]:
        """When each proactive text since `since` went out, oldest first (frequency caps)."""
        sent = [
            t
            for m in await self.messages(shopper_id)
            if m.get("direction") == "outbound"
            and m.get("proactive")
            and (t := parse_time(m.get("turn_at") or m.get("at"))) is not None
            and t > since
        ]
        return sorted(sent)

    async def queue_proactive(
        self, shopper_id: str, trigger: str, not_before: datetime
    ) -> dict[str, Any]:
        """Hold a proactive send until `not_before` (e.g. the end of the shopper's quiet hours).

        One entry per shopper and trigger: queuing the same trigger again keeps the earlier
        time, so a nudge is neither doubled nor pushed back by repeated triggers.
        """
        self._ns(shopper_id)  # refuse ids that did not come from a verified number
        key = f"{shopper_id}:{trigger}"
        existing = await self.store.aget(PROACTIVE_QUEUE, key)
        when = not_before.astimezone(UTC)
        if existing is not None:
            earlier = parse_time(existing.value.get("not_before"))
            if earlier is not None and earlier <= when:
                return dict(existing.value)
        entry = {
            "shopper_id": shopper_id,
            "trigger": trigger,
            "not_before": when.isoformat(),
            "queued_at": now_utc().isoformat(),
        }
        await self.store.aput(PROACTIVE_QUEUE, key, entry)
        return entry

    async def queued_proactive(self) -> list[dict[str, Any]]:
        """Every queued proactive send, soonest first."""
        entries: list[dict[str, Any]] = []
        page = 500
        while True:
            items = await self.store.asearch(PROACTIVE_QUEUE, limit=page, offset=len(entries))
            entries += [dict(i.value) for i in items]
            if len(items) < page:
                break
        return sorted(entries, key=lambda e: e["not_before"])

    async def due_proactive(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Queued proactive sends whose time has come, across all shoppers, soonest first."""
        now = now or now_utc()
        return [
            e
            for e in await self.queued_proactive()
            if (t := parse_time(e.get("not_before"))) is not None and t <= now
        ]

    async def clear_proactive(
        self, shopper_id: str, trigger: str, not_before: str | None = None
    ) -> bool:
        """Remove a queued send; with `not_before`, only if it was not re-queued since.

        Returns True when an entry was removed.
        """
        key = f"{shopper_id}:{trigger}"
        existing = await self.store.aget(PROACTIVE_QUEUE, key)
        if existing is None:
            return False
        if not_before is not None and existing.value.get("not_before") != not_before:
            return False
        await self.store.adelete(PROACTIVE_QUEUE, key)
        return True

    async def take_due_proactive(self, now: datetime | None = None) -> AsyncIterator[DueSend]:
        """Take each due proactive send off the queue, soonest first, and hand it over.

        The one way the queue is drained (the server's scheduler and in-process runs).
        Each entry leaves the queue before the caller runs it: the gate may queue the same
        trigger again (quiet hours again) and that new entry must survive, and queuing
        keeps the earlier time, so clearing afterwards would drop it. An entry re-queued
        since it was listed is left for a later pass. `key` is stable for the entry, so a
        send run twice is recognised by its message id.
        """
        for entry in await self.due_proactive(now):
            shopper_id, trigger, not_before = (
                entry["shopper_id"],
                entry["trigger"],
                entry["not_before"],
            )
            if not await self.clear_proactive(shopper_id, trigger, not_before):
                continue
            key = hashlib.sha256(f"{shopper_id}:{trigger}:{not_before}".encode()).hexdigest()
            yield DueSend(shopper_id, trigger, not_before, entry.get("queued_at"), key)

    async def record_outcome(
        self,
        shopper_id: str,
        message_id: str,
        outcome: str,
        at: datetime | None = None,
        **details: Any,
    ) -> bool:
        """Attach a later outcome (replied, clicked, purchased, opted_out) to a sent message.

        `details` say where it came from (the event or text id, the attribution rule). An
        outcome with the same `source` as one already attached is not added again, so a
        replayed event changes nothing; returns whether it was added.
        """
        entry = await self.get_message(shopper_id, message_id)
        if entry is None:
            raise KeyError(f"no message {message_id!r} for this shopper")
        outcomes = entry.setdefault("outcomes", [])
        source = details.get("source")
        if source is not None and any(
            o.get("outcome") == outcome and o.get("source") == source for o in outcomes
        ):
            return False
        when = (at or now_utc()).astimezone(UTC).isoformat()
        outcomes.append({"outcome": outcome, "at": when, **details})
        await self.log_message(shopper_id, message_id, entry)
        return True

    async def log_trigger(self, shopper_id: str, key: str, entry: dict[str, Any]) -> None:
        """Record a proactive trigger that passed the gate, sent or held out (the holdout)."""
        await self.store.aput(self._ns(shopper_id, "triggers"), key, entry)

    async def triggers(self, shopper_id: str, limit: int = 500) -> list[dict[str, Any]]:
        """The shopper's logged proactive triggers, oldest first."""
        items = await self.store.asearch(self._ns(shopper_id, "triggers"), limit=limit)
        return sorted((dict(i.value) for i in items), key=lambda t: t["at"])

    async def context(self, shopper_id: str, now: datetime | None = None) -> ShopperContext:
        """Everything a turn needs to know about the shopper, computed from the store."""
        now = now or now_utc()
        # Asked together, the four reads go to the store as one batch: one round trip.
        found, consent, events, log = await asyncio.gather(
            self.get_profile(shopper_id),
            self.get_consent(shopper_id),
            self.events(shopper_id),
            self.messages(shopper_id),
        )
        profile = found or {}
        outbound = [m for m in log if m.get("direction") == "outbound"]
        proactive_24h = sum(
            1
            for m in outbound
            if m.get("proactive") and (t := parse_time(m.get("at"))) and now - t < timedelta(1)
        )
        return ShopperContext(
            shopper_id=shopper_id,
            first_name=profile.get("first_name"),
            timezone=profile.get("timezone"),
            consent=_status(consent.get("status")),
            preferences=dict(profile.get("preferences") or {}),
            behaviour=behaviour_features(events, _local(now, profile.get("timezone"))),
            viewed_ids=_distinct_ids(events, "viewed"),
            cart_ids=_distinct_ids(events, "added_to_cart"),
            purchased_ids=_distinct_ids(events, "purchased"),
            last_message_type=outbound[-1].get("message_type") if outbound else None,
            turns_so_far=sum(1 for m in log if m.get("direction") == "inbound"),
            proactive_sent_24h=proactive_24h,
        )


def _status(value: Any) -> ConsentStatus:
    return value if value in CONSENT_STATUSES else "not_subscribed"  # type: ignore[no-any-return]


def _distinct_ids(events: list[dict[str, Any]], event_type: str) -> list[str]:
    seen: dict[str, None] = {}
    for event in events:
        if event["type"] == event_type and event.get("product_id"):
            seen.setdefault(event["product_id"], None)
    return list(seen)


# Gift holidays shoppers order ahead for: the two that the UCI Online Shoppers year marks
# (Valentine's Day, and Mother's Day on the second Sunday of May). Other days would feed
# the model a signal it was never fit on.
_GIFT_HOLIDAY_PEAK_DAYS_BEFORE = 6
_GIFT_HOLIDAY_HALF_WIDTH_DAYS = 5


def _gift_holidays(year: int) -> tuple[date, ...]:
    may_first = date(year, 5, 1)
    first_sunday = may_first + timedelta(days=(6 - may_first.weekday()) % 7)
    return date(year, 2, 14), first_sunday + timedelta(days=7)


def gift_holiday_closeness(day: date) -> float:
    """How close `day` is to ordering in time for a gift holiday, 0 to 1 in steps of 0.2.

    Peaks 6 days before the holiday (ordering with time for delivery) and falls by 0.2 a
    day either side, so it is non-zero from 10 to 2 days before; the shape the UCI
    `SpecialDay` column is described as having.
    """
    closeness = 0.0
    for holiday in _gift_holidays(day.year):
        days_off_peak = abs((holiday - day).days - _GIFT_HOLIDAY_PEAK_DAYS_BEFORE)
        closeness = max(closeness, 1 - days_off_peak / _GIFT_HOLIDAY_HALF_WIDTH_DAYS)
    return round(closeness, 1)


def _local(now: datetime, timezone: str | None) -> datetime:
    """`now` in the shopper's own zone when the profile names a valid one (else as given)."""
    if not timezone:
        return now
    try:
        return now.astimezone(ZoneInfo(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        return now


def behaviour_features(events: list[dict[str, Any]], now: datetime) -> Behaviour:
    """Summarise events (newest first) into the features the buy-likelihood deciders use.

    A "session" is a run of events with no gap longer than 30 minutes, as web analytics
    count them. The calendar features (month, weekend, gift holiday closeness) are read
    off `now` in its own zone: pass it in the shopper's zone for their local calendar.
    """
    week, quarter = now - timedelta(days=7), now - timedelta(days=90)
    timed = [(t, e) for e in events if (t := parse_time(e.get("at")))]
    recent = [(t, e) for t, e in timed if t >= week]
    views = [e for _, e in recent if e["type"] == "viewed"]
    sessions, previous = 0, None
    for t, _ in sorted(recent, key=lambda pair: pair[0]):
        if previous is None or t - previous > timedelta(minutes=30):
            sessions += 1
        previous = t
    last = max((t for t, _ in timed), default=None)
    return Behaviour(
        product_views_7d=len(views),
        distinct_products_viewed_7d=len({e.get("product_id") for e in views}),
        cart_adds_7d=sum(1 for _, e in recent if e["type"] == "added_to_cart"),
        checkout_started_7d=any(e["type"] == "checkout_started" for _, e in recent),
        purchases_90d=sum(1 for t, e in timed if e["type"] == "purchased" and t >= quarter),
        sessions_7d=sessions,
        minutes_since_last_activity=round((now - last).total_seconds() / 60, 1) if last else None,
        returning_customer=any(e["type"] == "purchased" for _, e in timed),
        month=now.month,
        weekend=now.weekday() >= 5,
        gift_holiday_closeness=gift_holiday_closeness(now.date()),
    )
