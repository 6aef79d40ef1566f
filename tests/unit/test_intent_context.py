"""The intent decider reads a text in its conversation: what the store sent just before it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from scripted_model import ScriptedModel

from textcart.deciders.intent import (
    NO_CONTEXT,
    ClassicIntent,
    IntentContext,
    example_context,
    llm_intent,
    training_examples,
)
from textcart.graph.nodes.understand import intent_context
from textcart.tools.embeddings import get_embedder


@pytest.fixture(scope="module")
def classic() -> ClassicIntent:
    return ClassicIntent(get_embedder())


def _label(decider: ClassicIntent, text: str, after: str | None) -> str:
    return decider.predict([text], [example_context(after)])[0][0]


def test_a_yes_is_a_purchase_after_an_offer_and_a_hand_off_after_a_hand_off_offer(
    classic: ClassicIntent,
) -> None:
    # "yeah go ahead" is in no example: the context, not a memorised text, decides.
    assert _label(classic, "yeah go ahead", "send_offer") == "purchase_intent"
    assert _label(classic, "yes please", "handoff_to_human") == "human_agent"


def test_a_colour_on_its_own_asks_after_a_list_and_buys_after_an_offer(
    classic: ClassicIntent,
) -> None:
    assert _label(classic, "the green one", "recommend_products") == "product_question"
    assert _label(classic, "the green one", "send_offer") == "purchase_intent"


@pytest.mark.parametrize(
    "text, label",
    [
        ("where is my order??", "order_status"),
        ("STOP", "opt_out"),
        ("do u have any rain jackets w good reviews", "recommendation_request"),
        ("no thanks", "not_interested"),
    ],
)
def test_a_text_that_says_what_it_wants_means_it_after_any_store_message(
    classic: ClassicIntent, text: str, label: str
) -> None:
    afters = [None, "send_offer", "recommend_products", "ask_clarifying", "order_help"]
    assert [_label(classic, text, after) for after in afters] == [label] * len(afters)


def test_examples_without_context_are_also_taught_in_a_random_one() -> None:
    rows = training_examples()
    plain = [c for t, c in zip(rows.texts, rows.contexts, strict=True) if t == "no thanks"]
    assert plain[0] == NO_CONTEXT
    assert plain[1].previous_type is not None
    in_context = [
        c for t, c in zip(rows.texts, rows.contexts, strict=True) if t == "ya send the link"
    ]
    assert [c.previous_type for c in in_context] == ["nudge_checkout"]


def _state(transcript: list[dict[str, Any]], recommended: Any = None) -> dict[str, Any]:
    return {
        "transcript": transcript,
        "recommended": recommended,
        "shopper": {"last_message_type": "send_offer"},
    }


def _line(role: str, text: str, message_type: str | None = None) -> dict[str, Any]:
    return {"role": role, "text": text, "at": "2026-01-01T12:00:00", "message_type": message_type}


def test_the_graph_passes_the_store_message_before_this_text_and_the_products_shown() -> None:
    state = _state(
        [
            _line("shopper", "any trail shoes?"),
            _line("store", "You might like: A ($1), B ($2)", "recommend_products"),
            _line("shopper", "the second one"),
        ],
        {"at": "2026-01-01T12:00:00", "products": [{"title": "A"}, {"title": "B"}]},
    )
    context = intent_context(state)  # type: ignore[arg-type]
    assert context == IntentContext("recommend_products", ("A", "B"))


def test_without_a_store_line_on_the_thread_the_logged_last_message_type_is_used() -> None:
    context = intent_context(_state([_line("shopper", "yes please")]))  # type: ignore[arg-type]
    assert context.previous_type == "send_offer"
    assert not context.showed_products


async def test_the_llm_sees_the_store_message_the_products_and_examples_in_context() -> None:
    prompts: list[str] = []

    def answer(title: str, prompt: str) -> str:
        prompts.append(prompt)
        return json.dumps({"label": "purchase_intent", "confidence": 0.9, "rationale": "yes"})

    context = IntentContext("send_offer", ("Ridgeline Trail Runner",))
    result = await llm_intent(
        ScriptedModel(answer=answer),
        method="json_object",
        timeout_s=5,
        text="yes please",
        recent_lines=["store: 15% off the Ridgeline", "shopper: yes please"],
        context=context,
    )
    assert result.label == "purchase_intent"
    (prompt,) = prompts
    assert '"store_previous_message_type": "send_offer"' in prompt
    assert "Ridgeline Trail Runner" in prompt
    assert "after the store's send_offer:" in prompt
