"""Personalised retrieval on the real Weaviate server with the demo store's shoppers.

Everything is real: the embedded Weaviate holding the demo catalog, MiniLM embeddings,
the classic deciders, SQLite. Shoppers are the demo store's, with their browsing histories.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from textcart.agent import Agent
from textcart.conversations import seed_demo_shoppers
from textcart.demo_store.loader import load_shoppers
from textcart.graph.context import Context
from textcart.vocabulary.records import ProductCard

pytestmark = pytest.mark.usefixtures("demo_catalog")
SHOPPERS = load_shoppers()


@pytest.fixture
async def agent(tmp_path: Path) -> Any:
    async with Agent.open(tmp_path, Context(model=None)) as opened:
        await seed_demo_shoppers(opened, SHOPPERS)
        yield opened


def phone(name: str) -> str:
    return SHOPPERS[name].phone


def top(products: list[ProductCard], n: int = 3) -> list[ProductCard]:
    return products[:n]


async def test_two_shoppers_asking_the_same_open_question_get_their_own_products(
    agent: Agent,
) -> None:
    question = "anything you'd recommend for me?"
    maya = await agent.receive(phone("maya"), question)
    dev = await agent.receive(phone("dev"), question)
    # Maya browsed women's trail runners; Dev keeps coming back to merino base layers.
    assert all(p["category"].startswith("footwear") for p in top(maya["products"]))
    assert all("merino" in p["title"].lower() for p in top(dev["products"]))
    assert not {p["id"] for p in maya["products"]} & {p["id"] for p in dev["products"]}
    for state in (maya, dev):
        note = state["retrieval_note"]
        assert "behaviour vector from" in note and "open request" in note, note
        assert state["personalisation"]["behaviour_from"]
    assert maya["personalisation"]["line"] == "women"


async def test_the_same_named_request_follows_each_shoppers_line_and_taste(
    agent: Agent,
) -> None:
    question = "I need new running shoes, what do you recommend?"
    maya = await agent.receive(phone("maya"), question)
    sam = await agent.receive(phone("sam"), question)
    assert all(p["category"].startswith("footwear") for p in top(maya["products"], 2))
    assert all(p["category"].startswith("footwear") for p in top(sam["products"], 2))
    assert not maya["products"][0]["title"].startswith("Men's")
    assert sam["products"][0]["title"].startswith("Men's")
    # Sam looked at one road racer; it leads his picks, not Maya's.
    assert "Road Racer" in sam["products"][0]["title"]
    assert maya["products"][0]["id"] != sam["products"][0]["id"]


async def test_a_new_shopper_gets_plain_search(agent: Agent) -> None:
    state = await agent.receive("+14155550177", "I need new running shoes")
    assert state["products"]
    assert "personalised: no history" in state["retrieval_note"]
    assert state["personalisation"]["behaviour_weight"] == 0.0


async def test_results_respect_stock_size_and_the_budget_said(agent: Agent) -> None:
    state = await agent.receive(phone("dev"), "any trail running shoes under $130 in a 10.5?")
    products = state["products"]
    assert products, state["retrieval_note"]
    assert state["asked_product_id"] is None
    for p in products:
        assert p["in_stock"] and p["price"] <= 130 and "10.5" in p["sizes_in_stock"], p


async def test_a_budget_said_earlier_in_the_conversation_still_holds(agent: Agent) -> None:
    first = await agent.receive(phone("luis"), "I need a merino base layer, anything under $90?")
    assert first["products"] and all(p["price"] <= 90 for p in first["products"])
    second = await agent.receive(phone("luis"), "any in navy or black?")
    assert second["needs"]["budget_max"] == 90.0
    assert "budget from earlier text" in second["retrieval_note"]
    assert second["products"] and all(p["price"] <= 90 for p in second["products"])


async def test_purchased_products_are_never_recommended(agent: Agent) -> None:
    shopper = SHOPPERS["luis"]
    bought = {e.product_id for e in shopper.events if e.type == "purchased"}
    for text in ("any mid hiking boots for me?", "I need running shorts", "got a headlamp?"):
        state = await agent.receive(shopper.phone, text)
        assert state["products"], text
        assert not bought & {p["id"] for p in state["products"]}, text
        assert state["personalisation"]["excluded_ids"]


async def test_first_second_and_cheaper_one_mean_what_the_store_just_recommended(
    agent: Agent,
) -> None:
    first = await agent.receive(phone("maya"), "show me some trail running shoes")
    shown = first["recommended"]["products"]
    assert len(shown) >= 2
    second = await agent.receive(phone("maya"), "does the second one come in a 9?")
    assert second["asked_product_id"] == shown[1]["id"]
    assert "'the second one'" in second["retrieval_note"]
    shown = second["recommended"]["products"]
    cheaper = await agent.receive(phone("maya"), "hmm, is the cheaper one any good?")
    cheapest = min(shown, key=lambda p: p["price"])
    assert cheaper["asked_product_id"] == cheapest["id"]


async def test_a_colour_about_the_product_discussed_means_that_model_in_that_colour(
    agent: Agent,
) -> None:
    # Dev asks about one base layer; "the charcoal one" is that model in charcoal, even
    # though charcoal was never shown (a charcoal sock was, and must not be picked).
    first = await agent.receive(phone("dev"), "does the merino 150 crew run small? I'm an L")
    discussed = first["recommended"]["products"][0]["title"]
    assert "Merino 150 Crew" in discussed
    second = await agent.receive(phone("dev"), "ok cool, the charcoal one in L then")
    asked = next(p for p in second["products"] if p["id"] == second["asked_product_id"])
    assert asked["title"] == discussed.rsplit("—", 1)[0].strip() + " — Charcoal"
    assert "'the charcoal one'" in second["retrieval_note"]
