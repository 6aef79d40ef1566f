"""The three classifiers, run in parallel: intent, buy-likelihood and tone."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from textcart.deciders.base import Decided
from textcart.deciders.buy_likelihood import llm_buy_likelihood
from textcart.deciders.intent import IntentContext, llm_intent
from textcart.deciders.tone import llm_tone
from textcart.graph.context import Context
from textcart.graph.nodes.common import (
    decide_with,
    recent_lines,
)
from textcart.graph.services import Services
from textcart.graph.state import TurnState
from textcart.vocabulary.outputs import IntentResult

# --- the three classifiers (run in parallel) -------------------------------------------


def intent_context(state: TurnState) -> IntentContext:
    """The store's last message type before this text, and the products it last showed."""
    earlier = state.get("transcript", [])[:-1]
    said = next((line for line in reversed(earlier) if line["role"] == "store"), None)
    recommended = state.get("recommended")
    shown = recommended["products"] if recommended else []
    return IntentContext(
        previous_type=said["message_type"] if said else state["shopper"]["last_message_type"],
        shown_products=tuple(p["title"] for p in shown),
    )


async def classify_intent(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Classify what the shopper wants from this text, after what the store said before."""
    text = state.get("text")
    if text is None:
        result = IntentResult(label="other", confidence=1.0, rationale="proactive turn, no text")
        return {
            "intent": Decided(result, "classic", None, 0.0).record(
                "intent", result.label, result.rationale
            )
        }
    context = intent_context(state)
    decided = await decide_with(
        "intent",
        runtime,
        services,
        lambda m, meth, t: llm_intent(
            m,
            method=meth,
            timeout_s=t,
            text=text,
            recent_lines=recent_lines(state),
            context=context,
        ),
        lambda: services.intent.decide(text, context),
    )
    value = decided.value
    return {
        "intent": decided.record(
            "intent", value.label, f"{value.rationale} (confidence {value.confidence:.2f})"
        )
    }


async def score_buy_likelihood(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Score how likely the shopper is to buy now."""
    behaviour = state["shopper"]["behaviour"]
    decided = await decide_with(
        "buy_likelihood",
        runtime,
        services,
        lambda m, meth, t: llm_buy_likelihood(
            m, method=meth, timeout_s=t, behaviour=behaviour, text=state.get("text")
        ),
        lambda: services.buy_likelihood.decide(behaviour),
    )
    return {
        "buy_likelihood": decided.record(
            "buy_likelihood", decided.value.probability, decided.value.rationale
        )
    }


async def pick_tone(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Pick the tone most likely to work for this shopper now."""
    text, shopper = state.get("text") or "", state["shopper"]
    decided = await decide_with(
        "tone",
        runtime,
        services,
        lambda m, meth, t: llm_tone(m, method=meth, timeout_s=t, text=text, shopper=shopper),
        lambda: services.tone.decide(text, shopper),
    )
    return {"tone": decided.record("tone", decided.value.label, decided.value.rationale)}
