"""Simulated shoppers who can disagree with us: a baseline, and hidden per-persona effects.

The rule-based population (`personas.py`) buys only after a checkout nudge, so any policy
that nudges wins by construction, and nothing there can lose to sending nothing. Here
(opt-in: `textcart simulate --behaviour effects`) each persona:

- would buy in the week after browsing with a baseline probability of its own, from its
  hidden goal (propensity, a cart, price sensitivity), texted or not;
- has a hidden effect per message type, added to that probability when it gets that text:
  a mean per type plus the persona's own draw, shifted by its aversions. Many effects are
  negative (pushy nudges to the pushiness-averse, offers to the discount-averse), and a
  text with a negative effect may bring a STOP.

Each persona gets one proactive trigger (cart abandonment with a cart, else browse
abandonment) through the real graph, with the holdout on: the graph itself holds a share
out, the policy decides the rest (`proactive_decider="policy"`), and purchases are
credited by the same attribution rule as on the server. The policy's figure is then the
holdout comparison read back from the store, as `textcart attribution` reads it.

What this shows: whether a policy adds conversions over sending nothing in a world whose
effects we chose. What it does not show: anything about real shoppers; the means below
are guesses, not measurements.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from textcart.agent import Agent
from textcart.deciders.next_message_policy import LearnedPolicy, conversation_rng
from textcart.evaluation.cli_output import with_interval
from textcart.rules.attribution import Windows
from textcart.simulation.personas import Persona, catalog_items, make_population
from textcart.simulation.phones import simulated_phones
from textcart.simulation.population import (
    PolicyName,
    next_message_policy,
    policy_context,
    seed_persona,
)
from textcart.tools.outcomes import attribution_summary, record_purchase
from textcart.tools.shopper_store import now_utc
from textcart.vocabulary.labels import Trigger

# Mean added purchase probability of one text of each type (a guess; personas vary).
MEAN_EFFECT: dict[str, float] = {
    "nudge_checkout": 0.04,
    "recommend_products": 0.03,
    "send_offer": 0.05,
    "answer_question": 0.01,
    "ask_clarifying": -0.01,
    "order_help": -0.02,
    "handoff_to_human": -0.02,
    "no_reply": 0.0,
}
PERSONA_SPREAD = 0.06
STOP_PER_HARM = 2.0


@dataclass(frozen=True)
class HiddenResponse:
    """What one persona would do in the week after its trigger, texted or not."""

    baseline: float
    effects: dict[str, float]

    @classmethod
    def of(cls, persona: Persona, seed: int) -> HiddenResponse:
        """Draw the persona's baseline and effects (the same persona, seed: the same)."""
        rng = random.Random(f"effects:{seed}:{persona.key}")
        cart = persona.in_cart is not None
        baseline = 0.02 + persona.propensity * (0.25 if cart else 0.08)
        effects = {}
        for message_type, mean in MEAN_EFFECT.items():
            effect = mean + rng.gauss(0.0, PERSONA_SPREAD) if message_type != "no_reply" else 0.0
            if message_type == "nudge_checkout":
                # A nudge helps those with a cart; it pushes the others.
                effect += 0.04 if cart else -0.08 * persona.pushiness_aversion
            if message_type == "send_offer":
                effect += 0.06 if persona.price_sensitive else -0.1 * persona.discount_aversion
            if message_type == "recommend_products" and not cart:
                effect += 0.03
            effects[message_type] = round(effect, 4)
        return cls(round(baseline, 4), effects)

    def buy_probability(self, message_type: str | None) -> float:
        """The chance to buy within the week, after a text of this type (None: no text)."""
        lift = self.effects.get(message_type, 0.0) if message_type else 0.0
        return min(1.0, max(0.0, self.baseline + lift))


def _price(persona: Persona) -> tuple[str, float]:
    wanted = persona.in_cart or persona.viewed[0]
    item = next((p for p in catalog_items() if p.id == wanted), None)
    return wanted, item.price if item else 0.0


async def _one(agent: Agent, persona: Persona, seed: int) -> str | None:
    """One persona's trigger, reaction and week; returns the type of text it got."""
    rng = random.Random(f"effects-run:{seed}:{persona.key}")
    conversation_rng.set(random.Random(f"policy:{seed}:{persona.key}"))
    hidden = HiddenResponse.of(persona, seed)
    shopper_id = await seed_persona(agent, persona)
    trigger: Trigger = "cart_abandonment" if persona.in_cart else "browse_abandonment"
    state = await agent.trigger(persona.phone, trigger, message_id=f"sim-{persona.key}")
    outbound = state.get("outbound")
    sent = outbound["message_type"] if outbound and outbound["text"] else None
    reply_id = f"sim-{persona.key}:reply"
    at = now_utc()
    kept: str | None = None  # the text whose effect counts (none after a STOP)
    if sent is not None:
        harm = -hidden.effects.get(sent, 0.0)
        if harm > 0 and rng.random() < STOP_PER_HARM * harm:
            # After a STOP the text helps no more: the shopper buys (or not) as untexted.
            await agent.receive(persona.phone, "STOP", f"sim-{persona.key}-stop")
        else:
            kept = sent
            if rng.random() < 0.1 + 2 * max(hidden.effects.get(sent, 0.0), 0.0):
                await agent.shoppers.record_outcome(
                    shopper_id, reply_id, "clicked", at=at + timedelta(minutes=20),
                    source=f"sim-click:{reply_id}",
                )  # fmt: skip
    if rng.random() < hidden.buy_probability(kept):
        product_id, price = _price(persona)
        bought_at = at + timedelta(hours=rng.uniform(0.5, 72.0))
        event_id = f"sim-buy-{persona.key}"
        await agent.shoppers.add_event(
            shopper_id, "purchased", product_id, bought_at, event_id, details={"value": price}
        )
        await record_purchase(
            agent.shoppers, shopper_id, at=bought_at, event_id=event_id, windows=Windows(),
            value=price, product_id=product_id,
        )  # fmt: skip
    return sent


async def run_effects_population(
    personas: list[Persona],
    policy: PolicyName,
    directory: Path,
    *,
    seed: int,
    holdout_share: float,
    learned: LearnedPolicy | None = None,
    explore: bool = False,
    concurrency: int = 4,
) -> dict[str, Any]:
    """Every persona's trigger under `policy` with the holdout on; the summary per policy."""
    context = replace(
        policy_context(policy, None),
        holdout_share=holdout_share,
        holdout_experiment=f"simulation-{seed}",
        proactive_decider="policy",
    )
    sent: Counter[str] = Counter()
    async with (
        Agent.open(directory, context) as agent,
        next_message_policy(agent.services, policy, seed, learned, explore),
        simulated_phones(agent.services),
    ):
        slots = asyncio.Semaphore(max(1, concurrency))

        async def one(persona: Persona) -> None:
            async with slots:
                got = await _one(agent, persona, seed)
            sent[got or "nothing"] += 1

        await asyncio.gather(*(one(p) for p in personas))
        # Read once every purchase window has closed (purchases come within 3 days).
        summary = await attribution_summary(agent.store, Windows(), now_utc() + timedelta(days=8))
    return {"policy": policy, "shoppers": len(personas), "sent": dict(sent.most_common()),
            "attribution": summary}  # fmt: skip


async def compare_on_effects(
    n: int,
    policies: list[PolicyName],
    root: Path,
    *,
    seed: int,
    holdout_share: float,
    learned: LearnedPolicy | None,
    explore: bool = False,
    concurrency: int = 4,
) -> list[dict[str, Any]]:
    """The same seeded personas under each policy, each policy's store in `root/<policy>`."""
    personas = make_population(n, seed)
    return [
        await run_effects_population(
            personas,
            name,
            root / name,
            seed=seed,
            holdout_share=holdout_share,
            learned=learned,
            explore=explore,
            concurrency=concurrency,
        )  # fmt: skip
        for name in policies
    ]


def effects_line(row: dict[str, Any]) -> str:
    """One policy's incremental figure in words."""
    holdout = row["attribution"]["holdout"]
    sent, held = holdout["sent"], holdout["held_out"]
    ci = holdout["difference_ci95_per_1000"]
    lift = (
        with_interval(holdout["difference_per_1000"], ci, "+.1f", " per 1,000")
        if ci is not None
        else "n/a (an arm is empty)"
    )
    summary = row["attribution"]
    return (
        f"{row['policy']}: sent {sent['conversions']}/{sent['triggers']} "
        f"({sent['conversions_per_1000']} per 1,000), held out {held['conversions']}/"
        f"{held['triggers']} ({held['conversions_per_1000']} per 1,000); lift {lift}; "
        f"attributed {summary['conversions']} conversions, {summary['attributed_revenue']:,.2f}; "
        f"texts: {row['sent']}"
    )
