"""Simulated shoppers: seeded populations, and rule-based reactions to the agent's texts."""

from __future__ import annotations

from typing import Any

from textcart.conversations import TurnRecord
from textcart.simulation.personas import (
    NEEDS,
    Persona,
    RuleBasedShopper,
    catalog_items,
    make_population,
)
from textcart.simulation.population import check_unique_phones, policy_context


def test_population_is_seeded_varied_and_valid() -> None:
    people = make_population(60, seed=3)
    assert people == make_population(60, seed=3)
    assert people != make_population(60, seed=4)
    ids = {p.id: p for p in catalog_items()}
    assert len({p.category for p in people}) >= 6
    assert {p.opener for p in people} == {"recommendation", "question", "price"}
    assert any(p.price_sensitive for p in people) and not all(p.price_sensitive for p in people)
    for p in people:
        assert p.category in NEEDS and p.viewed
        assert all(ids[v].category == p.category for v in p.viewed)
        assert p.budget >= min(i.price for i in ids.values() if i.category == p.category)
        assert p.phone[5:10] == "55501"
    check_unique_phones([RuleBasedShopper(p) for p in people])  # type: ignore[list-item]


def _persona(**changes: Any) -> Persona:
    base = make_population(1, seed=0)[0]
    return Persona(**{**base.__dict__, **changes})


def _turn(kind: str, products: list[dict[str, Any]], reply: str | None = "text") -> TurnRecord:
    return TurnRecord(
        shopper="p", said="hi", trigger=None, intent="other", buy_likelihood=0.5,
        tone="friendly", products=products, fit_reason=None, next_message=kind, reply=reply,
        gate="", deciders={}, notes=[], latency_ms=1.0,
    )  # fmt: skip


def _fitting(persona: Persona) -> dict[str, Any]:
    item = min(
        (p for p in catalog_items() if p.category == persona.category), key=lambda p: p.price
    )
    return {"id": item.id, "title": f"{item.model} — Black", "price": item.price,
            "category": item.category}  # fmt: skip


def test_same_persona_same_replies_same_reactions() -> None:
    persona = _persona()
    a, b = RuleBasedShopper(persona, seed=1), RuleBasedShopper(persona, seed=1)
    assert a.opening() == b.opening()
    turns = [_turn("recommend_products", [_fitting(persona)]), _turn("answer_question", [])]
    assert [a.react(t) for t in turns] == [b.react(t) for t in turns]


def test_interested_shopper_buys_at_the_checkout_nudge() -> None:
    persona = _persona(propensity=1.0, pushiness_aversion=0.0, discount_aversion=0.0, patience=5)
    shopper = RuleBasedShopper(persona, seed=2)
    product = _fitting(persona)
    first = shopper.react(_turn("recommend_products", [product]))
    assert first.action == "reply"
    shopper.react(_turn("answer_question", [product]))
    assert shopper.interest >= 0.6
    bought = shopper.react(_turn("nudge_checkout", [product]))
    assert bought.action == "buy" and bought.product_id == product["id"]


def test_pushing_an_uninterested_shopper_gets_stop() -> None:
    persona = _persona(pushiness_aversion=1.0, patience=5, in_cart=None)
    shopper = RuleBasedShopper(persona, seed=2)
    reactions = [shopper.react(_turn("nudge_checkout", [])) for _ in range(3)]
    assert "stop" in [r.action for r in reactions]


def test_discount_averse_shopper_is_annoyed_by_offers() -> None:
    averse = RuleBasedShopper(_persona(discount_aversion=1.0, price_sensitive=False), seed=4)
    keen = RuleBasedShopper(_persona(discount_aversion=0.0, price_sensitive=True), seed=4)
    for shopper in (averse, keen):
        shopper.react(_turn("send_offer", []))
    assert averse.annoyance > keen.annoyance and keen.interest > averse.interest


def test_unhelpful_replies_use_up_patience_until_silence() -> None:
    shopper = RuleBasedShopper(_persona(patience=2, pushiness_aversion=0.0), seed=5)
    shopper.annoyance = -10.0  # never annoyed enough to text STOP: only patience is tested
    actions = [shopper.react(_turn("order_help", [])).action for _ in range(3)]
    assert actions[:2] == ["reply", "silent"]
    assert shopper.react(_turn("no_reply", [], reply=None)).action in ("silent", "reply")


def test_clarifying_question_gets_the_hidden_need() -> None:
    persona = _persona()
    shopper = RuleBasedShopper(persona, seed=6)
    reaction = shopper.react(_turn("ask_clarifying", []))
    assert reaction.action == "reply" and persona.need in (reaction.text or "")


def test_only_the_llm_policy_sends_the_next_message_to_a_model() -> None:
    classic = policy_context("random", None)
    assert classic.model is None and classic.quiet_hours_start == classic.quiet_hours_end
    llm = policy_context("llm", "local")
    assert llm.decider_for("next_message") == "llm"
    assert {llm.decider_for(d) for d in ("intent", "tone", "fit", "wording")} == {"classic"}
