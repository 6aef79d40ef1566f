"""Run a population of simulated shoppers through the real graph under one policy.

Each persona is seeded into the store with its browsing history, opens the conversation,
and answers the agent's replies until it buys, goes silent, texts STOP or runs out of
turns. What it did is written into its message log as a real shopper's outcomes would
be (purchases credited by `textcart.tools.outcomes`, replies and STOPs recorded by the
graph) and into its behaviour events (clicks and purchases), so
`textcart policy fit` can learn from a simulated log exactly as from a real one.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Literal, Protocol

from textcart.agent import Agent
from textcart.conversations import TurnRecord, record_turn
from textcart.deciders.next_message import ClassicNextMessage, FixedPolicy, prior_examples
from textcart.deciders.next_message_policy import (
    LearnedPolicy,
    RandomPolicy,
    conversation_rng,
)
from textcart.graph.context import Context
from textcart.graph.services import Services
from textcart.rules.attribution import Windows
from textcart.simulation.personas import Persona, Reaction
from textcart.simulation.phones import simulated_phones
from textcart.tools.handoffs import HandoffDesk
from textcart.tools.llm import llm_timeout_s
from textcart.tools.outcomes import record_purchase
from textcart.tools.shopper_store import now_utc, shopper_id_for_phone

PolicyName = Literal["learned", "random", "fixed", "llm"]
POLICIES: tuple[PolicyName, ...] = ("learned", "random", "fixed", "llm")
MAX_TURNS = 6


class Shopper(Protocol):
    """A simulated shopper: opens a conversation and reacts to each reply."""

    persona: Persona

    def opening(self) -> str:
        """The first text."""
        ...

    async def respond(self, record: TurnRecord) -> Reaction:
        """What to do after the agent's turn."""
        ...


@dataclass(frozen=True)
class ConversationResult:
    """What one simulated conversation came to."""

    persona: str
    converted: bool
    opted_out: bool
    messages: int
    replies: int
    turns: int
    # Decisions a model made, and decisions it was asked for but the classic decider made.
    model_answered: int = 0
    model_fell_back: int = 0
    # The type of every text the agent sent, in order.
    sent: tuple[str, ...] = ()


@asynccontextmanager
async def next_message_policy(
    services: Services, name: PolicyName, seed: int, learned: LearnedPolicy | None, explore: bool
) -> AsyncIterator[None]:
    """Make `services`' classic next-message decider follow `name` while the block runs.

    `llm` keeps the learned policy as the classic decider: the LLM sees its evidence and
    falls back to it.
    """
    previous = services.next_message
    policy = learned or LearnedPolicy(prior_examples())
    if name == "random":
        services.next_message = ClassicNextMessage(RandomPolicy(seed), explore=True, seed=seed)
    elif name == "fixed":
        services.next_message = ClassicNextMessage(FixedPolicy())
    else:
        services.next_message = ClassicNextMessage(policy, explore=explore, seed=seed)
    try:
        yield
    finally:
        services.next_message = previous


def policy_context(name: PolicyName, model: str | None) -> Context:
    """Classic deciders everywhere; only the next message goes to the model under `llm`."""
    base = replace(Context(), model=None, quiet_hours_start=0, quiet_hours_end=0, holdout_share=0.0)
    if name != "llm":
        return base
    if not model:
        raise ValueError("the llm policy needs a model: pass --model")
    return replace(
        base,
        model=model,
        llm_timeout_s=llm_timeout_s(model, None),
        intent_decider="classic",
        buy_likelihood_decider="classic",
        tone_decider="classic",
        fit_decider="classic",
        wording_decider="classic",
        next_message_decider="llm",
    )


async def seed_persona(agent: Agent, persona: Persona) -> str:
    """Create the persona as a subscribed shopper with its browsing (and cart) history."""
    shopper_id = await agent.seed_shopper(
        persona.phone, first_name=persona.first_name, consent_source="simulation"
    )
    now = now_utc()
    for i, product_id in enumerate(persona.viewed):
        await agent.shoppers.add_event(
            shopper_id, "viewed", product_id, at=now - timedelta(minutes=90 - 10 * i),
            event_id=f"sim-view-{i}",
        )  # fmt: skip
    if persona.in_cart:
        await agent.shoppers.add_event(
            shopper_id, "added_to_cart", persona.in_cart, at=now - timedelta(minutes=50),
            event_id="sim-cart",
        )  # fmt: skip
    return shopper_id


async def converse(agent: Agent, shopper: Shopper, seed: int) -> ConversationResult:
    """One simulated conversation, with its outcomes written into the shopper's log."""
    persona = shopper.persona
    conversation_rng.set(random.Random(f"policy:{seed}:{persona.key}"))
    shopper_id = await seed_persona(agent, persona)
    store = agent.shoppers
    text: str | None = shopper.opening()
    messages = replies = turns = answered = fell_back = 0
    sent: list[str] = []
    converted = opted_out = False
    while text is not None and turns < MAX_TURNS:
        message_id = f"in-{persona.key}-{turns}"
        start = time.perf_counter()
        state = await agent.receive(persona.phone, text, message_id)
        record = record_turn(persona.key, text, None, state, time.perf_counter() - start)
        turns += 1
        answered += sum(who == "llm" for who in record.deciders.values())
        fell_back += sum(who.endswith("(fallback)") for who in record.deciders.values())
        if record.reply and record.next_message:
            sent.append(record.next_message)
        reply_id = f"{message_id}:reply"
        reaction = await shopper.respond(record)
        text = None
        if record.reply:
            messages += 1
            if reaction.clicked:
                await store.add_event(shopper_id, "clicked_link", reaction.product_id)
                await store.record_outcome(
                    shopper_id, reply_id, "clicked", source=f"sim-click:{reply_id}"
                )
        # Purchases are credited by the same rule as on the server; replies and the STOP
        # are recorded by the graph when the shopper's text arrives, as for real shoppers.
        if reaction.action == "buy":
            event_id = f"sim-buy-{persona.key}-{turns}"
            await store.add_event(shopper_id, "purchased", reaction.product_id, event_id=event_id)
            await record_purchase(
                store, shopper_id, at=now_utc(), event_id=event_id, windows=Windows(),
                product_id=reaction.product_id,
            )  # fmt: skip
            converted = True
        elif reaction.action == "stop":
            await agent.receive(persona.phone, "STOP", f"in-{persona.key}-stop")
            opted_out = True
        elif reaction.action == "reply":
            if record.reply:
                replies += 1
            text = reaction.text
    await HandoffDesk(agent.store).release(shopper_id)
    return ConversationResult(
        persona.key, converted, opted_out, messages, replies, turns, answered, fell_back,
        tuple(sent),
    )  # fmt: skip


async def run_population(
    shoppers: list[Shopper],
    policy: PolicyName,
    directory: Path,
    *,
    seed: int,
    learned: LearnedPolicy | None = None,
    explore: bool = False,
    model: str | None = None,
    concurrency: int = 4,
    on_done: Callable[[ConversationResult], None] | None = None,
) -> list[ConversationResult]:
    """Run every shopper's conversation under `policy`; logs go to the store in `directory`.

    Each conversation draws from its own seeded generator (shopper and policy alike), so
    results do not depend on the order in which concurrent turns happen to run.
    """
    context = policy_context(policy, model)
    slots = asyncio.Semaphore(max(1, concurrency))

    async def one(agent: Agent, shopper: Shopper) -> ConversationResult:
        async with slots:
            result = await converse(agent, shopper, seed)
        if on_done is not None:
            on_done(result)
        return result

    async with (
        Agent.open(directory, context) as agent,
        next_message_policy(agent.services, policy, seed, learned, explore),
        simulated_phones(agent.services),
    ):
        return list(await asyncio.gather(*(one(agent, s) for s in shoppers)))


def check_unique_phones(shoppers: list[Shopper]) -> None:
    """Refuse a population in which two personas would share one thread."""
    ids = [shopper_id_for_phone(s.persona.phone) for s in shoppers]
    if len(set(ids)) != len(ids):
        raise ValueError("two simulated shoppers share a phone number")
