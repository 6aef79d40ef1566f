"""What every stage of the graph shares: the turn's clock, its store, its decider calls."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any, TypeVar

from langgraph.runtime import Runtime
from pydantic import BaseModel

from textcart.deciders.base import Decided, decide
from textcart.graph.context import Context
from textcart.graph.services import Services
from textcart.graph.state import TurnState, turn_time
from textcart.tools.shopper_store import ShopperStore

log = logging.getLogger("textcart.graph")
T = TypeVar("T", bound=BaseModel)


def shopper_store_of(runtime: Runtime[Context]) -> ShopperStore:
    """The per-shopper store of this run (the server, or `compile`, supplies it)."""
    if runtime.store is None:
        raise RuntimeError("the graph needs a store: compile it with one or run it on a server")
    return ShopperStore(runtime.store)


def recent_lines(state: TurnState, n: int = 6) -> list[str]:
    """The last `n` lines of the conversation, as the LLM deciders are shown them."""
    return [f"{line['role']}: {line['text']}" for line in state.get("transcript", [])[-n:]]


async def decide_with(
    name: str,
    runtime: Runtime[Context],
    services: Services,
    llm: Callable[[Any, Any, float], Awaitable[T]],
    classic: Callable[[], Awaitable[T]],
) -> Decided[T]:
    """Run one decision with the decider the context asks for."""
    ctx = runtime.context
    use_llm = ctx.decider_for(name) == "llm"

    async def call_llm() -> T:
        spec = ctx.model_for(name)
        assert spec is not None
        # Building a model may start the local server: keep that off the event loop.
        model, method = await asyncio.to_thread(services.model, spec, ctx.llm_timeout_s)
        async with services.llm_slot(spec):
            return await llm(model, method, ctx.llm_timeout_s)

    return await decide(name, use_llm=use_llm, llm=call_llm, classic=classic)


async def log_trigger(
    store: ShopperStore,
    state: TurnState,
    ctx: Context,
    arm: str,
    policy: str | None = None,
    message_id: str | None = None,
) -> None:
    """Log a proactive trigger that passed the gate, in its holdout arm (sent or held out).

    Keyed by the trigger's run, so a re-run of the same trigger writes the same record.
    """
    trigger = state.get("trigger")
    key = state.get("message_id") or f"{trigger}:{turn_time(state).isoformat()}"
    await store.log_trigger(
        state["shopper_id"],
        key,
        {
            "trigger": trigger,
            "at": turn_time(state).astimezone(UTC).isoformat(),
            "arm": arm,
            "experiment": ctx.holdout_experiment,
            "share": ctx.holdout_share,
            "policy": policy,
            "message_id": message_id,
        },
    )
