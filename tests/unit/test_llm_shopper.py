"""The LLM-played shopper's wiring: the model's moves are taken, checked against the persona,
and the rules answer for a model that fails or breaks character. (Scripted model: the
behaviour of a real one is measured with `textcart simulate --personas llm --model ...`.)"""

from __future__ import annotations

import json
from typing import Any

import pytest
from scripted_model import ScriptedModel

from textcart.conversations import TurnRecord
from textcart.simulation.llm_shopper import LlmShopper
from textcart.simulation.personas import Persona, make_population
from textcart.tools.llm import structured_method


def _record(persona: Persona, *, fits: bool) -> TurnRecord:
    product = {
        "id": "TH-A",
        "title": "Trail thing",
        "price": round(persona.budget * (0.9 if fits else 3.0), 2),
        "category": persona.category,
    }
    return TurnRecord(
        shopper="s", said="hi", trigger=None, intent="recommendation_request",
        buy_likelihood=0.5, tone="friendly", products=[product], fit_reason=None,
        next_message="recommend_products", reply="Here is the Trail thing", gate="ok",
        deciders={}, notes=[], latency_ms=1.0,
    )  # fmt: skip


def _shopper(answer: str) -> tuple[LlmShopper, Persona, list[str]]:
    persona = make_population(1, 5)[0]
    prompts: list[str] = []

    def reply(title: str, prompt: str) -> str:
        prompts.append(prompt)
        return answer

    model = ScriptedModel(answer=reply, calls=[])
    shopper = LlmShopper(persona, model, structured_method("scripted:model"), timeout_s=5)
    shopper.opening()
    return shopper, persona, prompts


async def test_a_reply_is_taken_and_the_goals_reach_the_prompt() -> None:
    shopper, persona, prompts = _shopper(json.dumps({"action": "reply", "text": "got it in blue?"}))
    reaction = await shopper.respond(_record(persona, fits=True))
    assert (reaction.action, reaction.text) == ("reply", "got it in blue?")
    assert (shopper.answered, shopper.fallbacks, shopper.out_of_character) == (1, 0, 0)
    assert shopper.transcript[-1] == "you: got it in blue?"
    (prompt,) = prompts
    assert persona.need in prompt and f"{persona.budget}" in prompt
    assert "Here is the Trail thing" in prompt


@pytest.mark.parametrize(("fits", "bought"), [(True, "TH-A"), (False, None)])
async def test_a_purchase_must_fit_the_persona(fits: bool, bought: str | None) -> None:
    shopper, persona, _ = _shopper(json.dumps({"action": "buy", "clicked": True}))
    reaction = await shopper.respond(_record(persona, fits=fits))
    if fits:
        assert (reaction.action, reaction.product_id) == ("buy", bought)
        assert shopper.out_of_character == 0
    else:
        # Three times the budget: the rules answer instead, and the run says so.
        assert reaction.action != "buy"
        assert (shopper.answered, shopper.out_of_character) == (0, 1)


@pytest.mark.parametrize("answer", ["not json", json.dumps({"action": "dance"})])
async def test_garbage_falls_back_to_the_rules(answer: str) -> None:
    shopper, persona, _ = _shopper(answer)
    reaction: Any = await shopper.respond(_record(persona, fits=True))
    assert reaction.action in ("reply", "buy", "silent", "stop")
    assert (shopper.answered, shopper.fallbacks) == (0, 1)
