"""Fit assessment on the real Weaviate server: better picks, grounded reasons, no invention.

Real Weaviate with the demo catalog, MiniLM, classic deciders and SQLite. The candidates
each test judges are the ones the real search returned.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from textcart.agent import Agent
from textcart.conversations import seed_demo_shoppers
from textcart.deciders.fit import grounded
from textcart.demo_store.loader import load_conversations, load_shoppers
from textcart.graph.context import Context
from textcart.graph.state import TurnState
from textcart.vocabulary.outputs import FitResult

pytestmark = pytest.mark.usefixtures("demo_catalog")
SHOPPERS = load_shoppers()
_MONEY = re.compile(r"\$\d[\d,]*(?:\.\d{2})?")


@pytest.fixture
async def agent(tmp_path: Path) -> Any:
    async with Agent.open(tmp_path, Context(model=None)) as opened:
        await seed_demo_shoppers(opened, SHOPPERS)
        yield opened


def fit_of(state: TurnState) -> FitResult:
    assert state["fit"] is not None, state.get("retrieval_note")
    return FitResult.model_validate(state["fit"]["value"])


def assert_grounded(state: TurnState) -> None:
    """Every id, highlight, price and number of the fit is a catalog fact of the candidates."""
    fit = fit_of(state)
    products = state["products"]
    by_id = {p["id"]: p for p in products}
    assert fit.best_fit_id in by_id
    assert set(fit.alternative_ids) <= set(by_id)
    assert set(fit.highlights) <= set(by_id[fit.best_fit_id]["selling_points"])
    again = grounded(
        fit, products, state["asked_product_id"], state["needs"], state["personalisation"]
    )
    assert again.model_dump() == fit.model_dump()
    reply = (state.get("outbound") or {}).get("text") or ""
    # Prices and compare-at (was) prices of the candidates, and of the colourways the
    # answer step looked at (its evidence names each with its price).
    amounts = [p["price"] for p in products] + [
        p["compare_at_price"] for p in products if p["compare_at_price"]
    ]
    prices = {f"${a:,.0f}" if float(a).is_integer() else f"${a:,.2f}" for a in amounts}
    answer = state.get("answer")
    prices |= set(_MONEY.findall(" ".join(answer["facts"]))) if answer else set()
    assert set(_MONEY.findall(reply)) <= prices, reply


async def test_over_budget_product_gets_a_better_fit_within_budget(agent: Agent) -> None:
    state = await agent.receive(
        SHOPPERS["dev"].phone, "is the stormwall rain jacket any good? my budget is $150"
    )
    by_id = {p["id"]: p for p in state["products"]}
    asked = by_id[state["asked_product_id"]]
    assert "Stormwall" in asked["title"] and asked["price"] > 150
    fit = fit_of(state)
    assert not fit.is_asked_product_best and fit.best_fit_id != asked["id"]
    best = by_id[fit.best_fit_id]
    assert best["price"] <= 150 and best["in_stock"]
    assert "over budget" in fit.reason
    assert_grounded(state)


async def test_product_without_the_size_gets_one_that_has_it(agent: Agent) -> None:
    state = await agent.receive(
        SHOPPERS["luis"].phone, "do you have the softloop max cushion trainer in a 13?"
    )
    by_id = {p["id"]: p for p in state["products"]}
    asked = by_id[state["asked_product_id"]]
    assert "Softloop" in asked["title"] and "13" not in asked["sizes_in_stock"]
    fit = fit_of(state)
    assert not fit.is_asked_product_best
    assert "13" in by_id[fit.best_fit_id]["sizes_in_stock"]
    assert "no size 13 in stock" in fit.reason
    assert_grounded(state)


async def test_asked_product_that_fits_stays_the_pick(agent: Agent) -> None:
    state = await agent.receive(
        SHOPPERS["maya"].phone, "do the women's ridgeline trail runners come in a 7?"
    )
    asked = {p["id"]: p for p in state["products"]}[state["asked_product_id"]]
    assert "Ridgeline" in asked["title"] and "7" in asked["sizes_in_stock"]
    fit = fit_of(state)
    assert fit.is_asked_product_best and fit.best_fit_id == asked["id"]
    assert "in stock in size 7" in fit.reason
    assert_grounded(state)


async def test_highlights_follow_what_the_shopper_said(agent: Agent) -> None:
    state = await agent.receive(
        SHOPPERS["maya"].phone, "which trail shoe sheds mud best? I run in the wet a lot"
    )
    fit = fit_of(state)
    assert fit.highlights and "mud" in fit.highlights[0].lower()
    assert_grounded(state)


async def test_every_demo_turn_is_grounded(agent: Agent) -> None:
    judged = 0
    for conversation in load_conversations():
        shopper = SHOPPERS[conversation.shopper]
        for turn in conversation.turns:
            if turn.trigger:
                state = await agent.trigger(shopper.phone, turn.trigger)  # type: ignore[arg-type]
            else:
                state = await agent.receive(shopper.phone, turn.text or "")
            if state.get("fit"):
                assert_grounded(state)
                judged += 1
    assert judged >= 8


async def test_invented_facts_about_real_candidates_are_refused(agent: Agent) -> None:
    state = await agent.receive(SHOPPERS["maya"].phone, "any trail runners in an 8?")
    products, asked = state["products"], state["asked_product_id"]
    needs, taste = state["needs"], state["personalisation"]
    best = products[0]
    real = FitResult(best_fit_id=best["id"], highlights=best["selling_points"][:1])
    assert grounded(real, products, asked, needs, taste).best_fit_id == best["id"]
    invented = [
        real.model_copy(update={"best_fit_id": "TH-NOT-A-PRODUCT"}),
        real.model_copy(update={"alternative_ids": ["TH-ALSO-NOT-ONE"]}),
        real.model_copy(update={"highlights": ["lifetime warranty, no questions asked"]}),
        real.model_copy(update={"reason": f"{best['title']} is only $1.99 today"}),
        real.model_copy(update={"reason": "it weighs 123 g and has 17 mm lugs"}),
        real.model_copy(update={"reason": "lighter than the TH-GHOST-TR-M-BLK"}),
    ]
    for result in invented:
        with pytest.raises(ValueError):
            grounded(result, products, asked, needs, taste)
