"""The words of a reply: answer first, no 'there' for unknown names, claims held to facts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from scripted_model import SPEC, ScriptedModel, install, uninstall

from textcart.agent import Agent
from textcart.deciders.wording import ClassicWording, SmsFacts
from textcart.graph.context import Context
from textcart.graph.services import Services
from textcart.rules.grounding import unbacked_claims
from textcart.tools.shopper_store import thread_id_for

pytestmark = pytest.mark.usefixtures("services", "no_weaviate")
PHONE = "+14155550123"


async def test_the_answer_comes_first() -> None:
    facts = SmsFacts(
        store="Shop",
        answer="Yes, the Trail Runner is in stock in 9 in Black.",
        link="https://shop.example/p",
    )
    draft = await ClassicWording().decide("nudge_checkout", "friendly", facts, "seed")
    assert (
        draft.text
        == "Yes, the Trail Runner is in stock in 9 in Black. Ready when you are: https://shop.example/p"
    )


@pytest.mark.parametrize("message_type", ["answer_question", "recommend_products", "send_offer"])
@pytest.mark.parametrize("seed", ["a", "b", "c", "d"])
async def test_no_name_means_no_name(message_type: str, seed: str) -> None:
    facts = SmsFacts(
        store="Shop",
        product="Trail Runner",
        price="$99",
        highlight="6 mm drop",
        products="Trail Runner ($99)",
        offer_code="SAVE10",
        offer_percent="10",
    )
    for tone in ("friendly", "concise", "enthusiastic", "empathetic", "urgent"):
        text = (await ClassicWording().decide(message_type, tone, facts, seed)).text
        assert "there" not in text.lower().split() and "{" not in text, text
        assert not text.startswith((",", " ")) and ", !" not in text and " ," not in text, text


@pytest.mark.parametrize(
    "draft,problem",
    [
        ("It comes in size 14 too.", "size 14"),
        ("We have it in green as well.", "colour green"),
        ("Sizes can go quickly, order now!", "urgency"),
        ("It arrives in 2 days.", "delivery claim"),
        ("It's back in stock!", "stock claim"),
    ],
)
def test_claims_the_facts_do_not_back(draft: str, problem: str) -> None:
    facts = SmsFacts(
        store="Shop", product="Trail Runner — Black", evidence="sizes 8, 9; in stock 9"
    )
    assert any(problem in p for p in unbacked_claims(draft, facts, "do you have it?")), draft


def test_claims_the_facts_back_pass() -> None:
    facts = SmsFacts(
        store="Shop",
        answer="Yes, the Trail Runner is in stock in 9 in Black.",
        evidence="Trail Runner — Black: $99; sizes 8, 9; in stock 9",
        scarcity="Only 1 size left in stock: 9.",
    )
    draft = (
        "Yes! The Trail Runner is in stock in 9 in Black. Only 1 size left, sizes can go quickly."
    )
    assert unbacked_claims(draft, facts, "got it in a 9?") == []


# --- an LLM draft the guard refuses goes back to the model once ------------------------

REPLIES = {
    "IntentResult": {"label": "product_question", "confidence": 0.9},
    "BuyLikelihoodResult": {"probability": 0.4},
    "ToneResult": {"label": "friendly"},
    "NextMessageResult": {"message_type": "answer_question"},
}


async def _turn(
    services: Services, drafts: list[str], steps: list[str] | None = None
) -> dict[str, Any]:
    def answer(title: str, prompt: str) -> str:
        if title == "SmsDraft":
            second = "fix_these_problems" in prompt
            return json.dumps({"text": drafts[1 if second else 0]})
        return json.dumps(REPLIES.get(title, {}))

    model = ScriptedModel(answer=answer)
    await install(model, services)
    try:
        agent = Agent.in_memory(services, Context(model=SPEC))
        state = dict(await agent.receive(PHONE, "what colours does it come in?"))
        if steps is not None:
            # Which nodes wrote this turn's checkpoints, oldest first.
            config = {"configurable": {"thread_id": thread_id_for(agent.shopper_id(PHONE))}}
            history = [s async for s in agent.graph.aget_state_history(config)]  # type: ignore[arg-type]
            steps += [n for s in reversed(history) for n in s.next]
        return state
    finally:
        await uninstall(services)


async def test_a_refused_draft_is_fixed_by_the_model_on_one_retry(services: Services) -> None:
    steps: list[str] = []
    state = await _turn(
        services, ["Yes! It comes in green and in size 14.", "Sorry, I can't look that up."], steps
    )
    # The rewrite is its own step between the guard and sending, visible in Studio.
    assert steps[-3:] == ["guard_outbound", "rewrite_draft", "send_and_log"]
    assert state["refused"]["text"] == "Yes! It comes in green and in size 14."
    notes = state["outbound"]["guard_notes"]
    assert any("colour green" in n for n in notes)
    assert "the model fixed its draft after one retry" in notes
    assert state["outbound"]["text"] == "Sorry, I can't look that up."


async def test_a_draft_still_wrong_after_the_retry_gets_the_template(
    services: Services,
) -> None:
    bad = "Yes! It comes in green and in size 14."
    state = await _turn(services, [bad, bad])
    notes = state["outbound"]["guard_notes"]
    assert "the model's retry still failed the guard" in notes
    assert "replaced with the template wording" in notes
    assert state["outbound"]["text"] != bad


async def test_a_draft_the_guard_passes_skips_the_rewrite(services: Services) -> None:
    steps: list[str] = []
    fine = "Sorry, I can't look that up."
    state = await _turn(services, [fine, fine], steps)
    assert steps[-2:] == ["guard_outbound", "send_and_log"] and "rewrite_draft" not in steps
    assert state["refused"] is None and state["outbound"]["text"] == fine
