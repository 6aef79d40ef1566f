"""The LLM path end to end: the real local model (llama.cpp, Qwen2.5-Coder-0.5B) behind its
OpenAI-compatible API decides, and the graph follows.

The model is weak; these tests assert that its structured outputs parse and are used, not
that its judgments are good.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from textcart.agent import Agent
from textcart.graph.context import Context
from textcart.vocabulary.labels import INTENTS, MESSAGE_TYPES

pytestmark = [pytest.mark.llm, pytest.mark.usefixtures("demo_catalog")]
DECISIONS = ("intent", "buy_likelihood", "tone", "fit", "next_message", "wording")


def llm_for(*decisions: str) -> Context:
    """The local model for the named decisions, classic deciders for the rest."""
    choices = {f"{d}_decider": "llm" if d in decisions else "classic" for d in DECISIONS}
    return Context(model="local", llm_timeout_s=120, **choices)  # type: ignore[arg-type]


async def test_local_model_classifies_and_routes(tmp_path: Path) -> None:
    context = llm_for("intent", "next_message")
    async with Agent.open(tmp_path, context) as agent:
        state = await agent.receive("+14155550123", "where is my order? it was due monday")
    intent, choice = state["intent"], state["next_message"]
    assert intent["decider"] == "llm", intent["fallback_reason"]
    assert intent["value"] in INTENTS
    assert choice["decider"] == "llm", choice["fallback_reason"]
    assert choice["value"] in MESSAGE_TYPES
    # The edge the model chose (after the policy check) is the node that ran.
    outbound = state["outbound"]
    if choice["value"] == "no_reply":
        assert outbound is None
    else:
        assert outbound["message_type"] == choice["value"] and outbound["text"]


async def test_local_model_writes_a_guarded_sms(tmp_path: Path) -> None:
    context = llm_for("wording")
    async with Agent.open(tmp_path, context) as agent:
        state = await agent.receive("+14155550123", "any waterproof hiking boots under $200?")
    wording = state["wording"]
    assert wording["decider"] == "llm", wording["fallback_reason"]
    outbound = state["outbound"]
    assert outbound["text"] and outbound["segments"] <= context.max_segments
