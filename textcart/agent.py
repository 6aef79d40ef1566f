"""Run turns of the graph in this process: what the command line, demo and benchmarks use.

Input is validated here, at the edge: a phone number that is not one, an empty text or a
text longer than any SMS gets a clear error before anything is stored.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from langgraph.checkpoint.memory import InMemorySaver
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore
from langgraph.store.memory import InMemoryStore

from textcart.graph.builder import compile_graph
from textcart.graph.context import Context
from textcart.graph.services import Services, default_services
from textcart.graph.state import TurnInput, TurnState
from textcart.persistence import open_persistence
from textcart.tools.shopper_store import (
    ShopperStore,
    now_utc,
    shopper_id_for_phone,
    thread_id_for,
)
from textcart.vocabulary.labels import Trigger

log = logging.getLogger("textcart.agent")
# Carriers concatenate long texts up to about ten segments; anything longer is not an SMS.
MAX_INBOUND_CHARS = 1600


class InvalidInput(ValueError):
    """An inbound text or trigger that cannot be processed as given."""


@dataclass
class Agent:
    """The compiled graph with its persistence, settings and the services its nodes use."""

    graph: CompiledStateGraph[TurnState, Context, TurnInput, TurnState]
    store: BaseStore
    context: Context
    services: Services

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        directory: Path,
        context: Context | None = None,
        database_url: str | None = None,
        services: Services | None = None,
    ) -> AsyncIterator[Agent]:
        """Open the agent on PostgreSQL (`database_url` or `$TEXTCART_DATABASE_URL`).

        Without a connection string, the SQLite files in `directory` hold everything.
        Without `services`, the process's default ones serve its turns.
        """
        services = services or await default_services()
        async with open_persistence(directory, database_url) as (checkpointer, store):
            graph = compile_graph(services, checkpointer=checkpointer, store=store)
            yield cls(graph=graph, store=store, context=context or Context(), services=services)

    @classmethod
    def in_memory(cls, services: Services, context: Context | None = None) -> Agent:
        """An agent whose threads and store live in memory only (tests, simulations)."""
        graph = compile_graph(services, checkpointer=InMemorySaver(), store=InMemoryStore())
        assert graph.store is not None
        return cls(graph=graph, store=graph.store, context=context or Context(), services=services)

    @property
    def shoppers(self) -> ShopperStore:
        """Typed access to the shopper store."""
        return ShopperStore(self.store)

    async def receive(
        self,
        phone: str,
        text: str,
        message_id: str | None = None,
        *,
        at: datetime | None = None,
    ) -> TurnState:
        """Run one turn for an inbound text and return the thread's state after it.

        `at` is when the text arrived (the turn's clock), now by default.
        """
        if not isinstance(text, str):
            raise InvalidInput("text must be a string")
        if len(text) > MAX_INBOUND_CHARS:
            raise InvalidInput(f"text is {len(text)} characters; the limit is {MAX_INBOUND_CHARS}")
        shopper_id = self.shopper_id(phone)
        profile = await self.shoppers.get_profile(shopper_id)
        if profile is None:
            # First text from this number: keep the number so replies can be sent.
            await self.shoppers.upsert_profile(shopper_id, phone=phone)
        turn: dict[str, Any] = {"text": text, "message_id": message_id or f"in-{uuid.uuid4().hex}"}
        if at is not None:
            turn["received_at"] = at.astimezone(UTC).isoformat()
        return await self._run(shopper_id, turn)

    async def trigger(
        self,
        phone: str,
        trigger: Trigger,
        *,
        message_id: str | None = None,
        at: datetime | None = None,
    ) -> TurnState:
        """Run one proactive turn (e.g. browse abandonment) for a known shopper.

        `message_id` makes a re-run of the same send rewrite its log entry instead of adding
        one; `at` is the turn's clock (quiet hours, caps), now by default.
        """
        if trigger not in ("browse_abandonment", "cart_abandonment"):
            raise InvalidInput(f"unknown trigger {trigger!r}")
        shopper_id = self.shopper_id(phone)
        if await self.shoppers.get_profile(shopper_id) is None:
            raise InvalidInput("unknown shopper: proactive texts go only to known shoppers")
        turn: dict[str, Any] = {
            "text": None,
            "trigger": trigger,
            "message_id": message_id or f"out-{uuid.uuid4().hex}",
        }
        if at is not None:
            turn["received_at"] = at.astimezone(UTC).isoformat()
        return await self._run(shopper_id, turn)

    async def _run(self, shopper_id: str, turn: Mapping[str, Any]) -> TurnState:
        config = {"configurable": {"thread_id": thread_id_for(shopper_id)}}
        state = {
            "shopper_id": shopper_id,
            "trigger": None,
            "received_at": now_utc().isoformat(),
            **turn,
        }
        snapshot = await self.graph.aget_state(config)  # type: ignore[arg-type]
        if snapshot.values.get("message_id") == turn["message_id"]:
            if not snapshot.next:
                # Delivered again after it was answered: answer at most once.
                return snapshot.values  # type: ignore[return-value]
            # The process died in the middle of this very message: finish that turn from
            # its last checkpoint instead of starting it over (and logging it twice).
            resumed = await self.graph.ainvoke(None, config, context=self.context)  # type: ignore[call-overload]
            return resumed  # type: ignore[no-any-return]
        result = await self.graph.ainvoke(state, config, context=self.context)  # type: ignore[call-overload]
        return result  # type: ignore[no-any-return]

    async def state(self, phone: str) -> TurnState:
        """The shopper's thread state as last checkpointed."""
        config = {"configurable": {"thread_id": thread_id_for(self.shopper_id(phone))}}
        snapshot = await self.graph.aget_state(config)  # type: ignore[arg-type]
        return snapshot.values  # type: ignore[return-value]

    async def seed_shopper(
        self,
        phone: str,
        *,
        first_name: str | None = None,
        timezone: str | None = None,
        preferences: Mapping[str, Any] | None = None,
        consent: str = "subscribed",
        consent_source: str = "import",
        events: Iterable[Mapping[str, Any]] = (),
        now: datetime | None = None,
    ) -> str:
        """Create or refresh a shopper with their browsing history; returns the shopper id.

        Events carry `type`, `product_id` and `minutes_ago` (before `now`, the real time by
        default); their ids are derived from their content so seeding twice does not
        double them. A consent other than the stored one is recorded with
        `consent_source` ("demo", "script", "simulation") as its source and proof, so a
        seeded opt-in is never mistaken for a shopper's own.
        """
        shopper_id = self.shopper_id(phone)
        await self.shoppers.upsert_profile(
            shopper_id,
            phone=phone,
            first_name=first_name,
            timezone=timezone,
            preferences=dict(preferences or {}),
        )
        current = await self.shoppers.get_consent(shopper_id)
        if consent != current["status"]:
            await self.shoppers.set_consent(
                shopper_id,
                consent,  # type: ignore[arg-type]
                consent_source,
                proof={
                    "source": consent_source,
                    "disclosure": f"seeded by textcart ({consent_source})",
                },
            )
        now = now or now_utc()
        for i, event in enumerate(events):
            await self.shoppers.add_event(
                shopper_id,
                event["type"],
                event.get("product_id"),
                at=now - timedelta(minutes=int(event.get("minutes_ago", 0))),
                event_id=f"seed-{i}-{event['type']}-{event.get('product_id')}",
            )
        return shopper_id

    @staticmethod
    def shopper_id(phone: str) -> str:
        """The shopper id of a phone number (a hash; refuses numbers that cannot exist)."""
        try:
            return shopper_id_for_phone(phone)
        except ValueError as exc:
            raise InvalidInput(f"{exc}: {phone[:3]}...") from exc


async def run_due_proactive(agent: Agent, now: datetime | None = None) -> list[TurnState]:
    """Run every queued proactive send that is due, once each; returns the turns run.

    The queue is drained as the server's scheduler drains it (`take_due_proactive`); each
    send runs under a message id derived from its queue entry. A shopper without a profile
    any more is dropped from the queue.
    """
    now = now or now_utc()
    turns: list[TurnState] = []
    async for due in agent.shoppers.take_due_proactive(now):
        profile = await agent.shoppers.get_profile(due.shopper_id)
        if profile and profile.get("phone"):
            # The queue holds whatever trigger was queued; `trigger` refuses unknown ones.
            trigger = cast(Trigger, due.trigger)
            try:
                turns.append(
                    await agent.trigger(
                        profile["phone"], trigger, message_id=f"out-q-{due.key[:24]}", at=now
                    )
                )
            except InvalidInput as exc:
                # An entry that can never run (unknown trigger) must not block the queue.
                log.warning(
                    "dropping queued %s for shopper %s: %s", due.trigger, due.shopper_id, exc
                )
    return turns
