"""Run turns of the graph in this process: what the command line, demo and benchmarks use.

Input is validated here, at the edge: a phone number that is not one, an empty text or a
text longer than any SMS gets a clear error before anything is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore

from textcart.graph.builder import compile_graph
from textcart.graph.context import Context
from textcart.graph.state import Trigger, TurnInput, TurnState
from textcart.persistence import open_sqlite
from textcart.tools.shopper_store import (
    ShopperStore,
    now_utc,
    shopper_id_for_phone,
    thread_id_for,
)

# Carriers concatenate long texts up to about ten segments; anything longer is not an SMS.
MAX_INBOUND_CHARS = 1600


class InvalidInput(ValueError):
    """An inbound text or trigger that cannot be processed as given."""


@dataclass
class Agent:
    """The compiled graph with its persistence and settings."""

    graph: CompiledStateGraph[TurnState, Context, TurnInput, TurnState]
    store: BaseStore
    context: Context

    @classmethod
    @asynccontextmanager
    async def open(cls, directory: Path, context: Context | None = None) -> AsyncIterator[Agent]:
        """Open the agent on the SQLite files in `directory`."""
        async with open_sqlite(directory) as (checkpointer, store):
            graph = compile_graph(checkpointer=checkpointer, store=store)
            yield cls(graph=graph, store=store, context=context or Context())

    @property
    def shoppers(self) -> ShopperStore:
        """Typed access to the shopper store."""
        return ShopperStore(self.store)

    async def receive(self, phone: str, text: str, message_id: str | None = None) -> TurnState:
        """Run one turn for an inbound text and return the thread's state after it."""
        if not isinstance(text, str):
            raise InvalidInput("text must be a string")
        if len(text) > MAX_INBOUND_CHARS:
            raise InvalidInput(f"text is {len(text)} characters; the limit is {MAX_INBOUND_CHARS}")
        shopper_id = self._shopper_id(phone)
        profile = await self.shoppers.get_profile(shopper_id)
        if profile is None:
            # First text from this number: keep the number so replies can be sent.
            await self.shoppers.upsert_profile(shopper_id, phone=phone)
        return await self._run(
            shopper_id, {"text": text, "message_id": message_id or f"in-{uuid.uuid4().hex}"}
        )

    async def trigger(self, phone: str, trigger: Trigger) -> TurnState:
        """Run one proactive turn (e.g. browse abandonment) for a known shopper."""
        if trigger not in ("browse_abandonment", "cart_abandonment"):
            raise InvalidInput(f"unknown trigger {trigger!r}")
        shopper_id = self._shopper_id(phone)
        if await self.shoppers.get_profile(shopper_id) is None:
            raise InvalidInput("unknown shopper: proactive texts go only to known shoppers")
        return await self._run(
            shopper_id, {"text": None, "trigger": trigger, "message_id": f"out-{uuid.uuid4().hex}"}
        )

    async def _run(self, shopper_id: str, turn: Mapping[str, Any]) -> TurnState:
        config = {"configurable": {"thread_id": thread_id_for(shopper_id)}}
        state = {
            "shopper_id": shopper_id,
            "trigger": None,
            **turn,
            "received_at": now_utc().isoformat(),
        }
        result = await self.graph.ainvoke(state, config, context=self.context)  # type: ignore[call-overload]
        return result  # type: ignore[no-any-return]

    async def state(self, phone: str) -> TurnState:
        """The shopper's thread state as last checkpointed."""
        config = {"configurable": {"thread_id": thread_id_for(self._shopper_id(phone))}}
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
        events: Iterable[Mapping[str, Any]] = (),
    ) -> str:
        """Create or refresh a shopper with their browsing history; returns the shopper id.

        Events carry `type`, `product_id` and `minutes_ago`; their ids are derived from
        their content so seeding twice does not double them.
        """
        shopper_id = self._shopper_id(phone)
        await self.shoppers.upsert_profile(
            shopper_id,
            phone=phone,
            first_name=first_name,
            timezone=timezone,
            preferences=dict(preferences or {}),
        )
        current = await self.shoppers.get_consent(shopper_id)
        if consent != current["status"]:
            await self.shoppers.set_consent(shopper_id, consent, "import")  # type: ignore[arg-type]
        now = now_utc()
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
    def _shopper_id(phone: str) -> str:
        try:
            return shopper_id_for_phone(phone)
        except ValueError as exc:
            raise InvalidInput(f"{exc}: {phone[:3]}...") from exc
