"""Personalisation from history, conversation references and needs said earlier: no services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from textcart.graph.personalise import (
    BEHAVIOUR_WEIGHT,
    OPEN_BEHAVIOUR_WEIGHT,
    blend,
    build_taste,
    history_ids,
    is_open_request,
    model_of,
    rerank,
)
from textcart.rules.needs import read_conversation_needs
from textcart.rules.references import resolve_reference
from textcart.tools.catalog import Product, ProductHit
from textcart.vocabulary.records import ProductCard, Recommended, ShopperContext

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def unit(*values: float) -> list[float]:
    v = np.array(values, dtype=np.float32)
    return list(v / np.linalg.norm(v))


def hit(pid: str, title: str, vector: list[float], **fields: object) -> ProductHit:
    product = Product(id=pid, title=title, price=fields.pop("price", 100.0), **fields)  # type: ignore[arg-type]
    return ProductHit(product=product, score=0.0, vector=vector)


def shopper(**over: object) -> ShopperContext:
    base = dict(
        shopper_id="s_x",
        first_name="Maya",
        timezone=None,
        consent="subscribed",
        preferences={},
        behaviour={},
        viewed_ids=[],
        cart_ids=[],
        purchased_ids=[],
        last_message_type=None,
        turns_so_far=0,
        proactive_sent_24h=0,
    )
    base.update(over)
    return base  # type: ignore[return-value]


HISTORY = {
    "V1": hit("V1", "Women's Trail Shoe — Blue", unit(1, 0, 0), price=120.0, colors=["blue"],
              tags=["trail", "women"]),
    "V2": hit("V2", "Women's Road Shoe — Teal", unit(0, 1, 0), price=100.0, colors=["teal"],
              tags=["road", "women"]),
    "P1": hit("P1", "Merino Sock — Grey", unit(0, 0, 1), price=20.0, colors=["grey"]),
}  # fmt: skip


def test_taste_is_recency_and_cart_weighted_and_excludes_purchases() -> None:
    s = shopper(
        viewed_ids=["V2", "V1"], cart_ids=["V1"], purchased_ids=["P1"],
        preferences={"shoe_size": "8", "favourite_colors": ["Purple"]},
    )  # fmt: skip
    assert history_ids(s) == ["V1", "V2", "P1"]
    taste = build_taste(s, HISTORY, said_size="M")
    assert taste.vector is not None
    # V1: viewed second (0.8) + carted first (2.0) outweighs V2: viewed first (1.0).
    assert taste.vector[0] > taste.vector[1] > 0 and taste.vector[2] == 0
    assert taste.behaviour_from == ["V2", "V1"]
    assert taste.excluded_ids == ["P1"]
    assert taste.sizes == ["M", "8"]
    assert taste.colors[0] == "purple" and {"blue", "teal"} <= set(taste.colors)
    assert taste.line == "women"
    low, high = taste.price_band or (0, 0)
    assert low < 100 < 120 < high  # around the weighted median of what they browsed


def test_open_requests_lean_on_history_more() -> None:
    assert is_open_request(None) and is_open_request("anything you'd recommend for me?")
    assert not is_open_request("any rain jackets?")
    assert not is_open_request("recommend me a rain jacket")
    taste = build_taste(shopper(viewed_ids=["V1"]), HISTORY)
    query = np.array(unit(0, 1, 0), dtype=np.float32)
    named, w_named = blend(query, taste, open_request=False)
    opened, w_open = blend(query, taste, open_request=True)
    assert (w_named, w_open) == (BEHAVIOUR_WEIGHT, OPEN_BEHAVIOUR_WEIGHT)
    assert np.isclose(np.linalg.norm(named), 1.0)
    assert opened[0] > named[0] and named[1] > opened[1]
    no_history, weight = blend(query, build_taste(shopper(), {}), open_request=True)
    assert weight == 0.0 and np.allclose(no_history, query)


def test_rerank_prefers_the_shoppers_line_colour_and_one_colourway_per_model() -> None:
    taste = build_taste(
        shopper(viewed_ids=["V1"], preferences={"favourite_colors": ["blue"]}), HISTORY
    )
    hits = [
        hit("M1", "Men's Trail Shoe — Blue", unit(1, 0.1, 0), colors=["blue"], tags=["men"]),
        hit("W1", "Women's Trail Shoe — Black", unit(1, 0.1, 0), colors=["black"],
            tags=["women"]),
        hit("W2", "Women's Trail Shoe — Blue", unit(1, 0.1, 0), colors=["blue"],
            tags=["women"]),
        hit("X1", "Women's Camp Chair — Grey", unit(0, 0, 1), colors=["grey"], tags=["women"]),
    ]  # fmt: skip
    # Further hits, as a real search returns 15: one rank then moves the score a little.
    hits += [hit(f"F{i}", f"Filler {i}", unit(0, 1, 1)) for i in range(11)]
    order = [h.product.id for h, _ in rerank(hits, taste, "trail shoes", False, {})]
    assert order[0] == "W2"  # their line, their colour
    assert order.index("X1") < order.index("W1")  # a second colourway waits its turn
    assert order[-1] == "M1" or order.index("M1") > order.index("W2")
    assert model_of("Women's Trail Shoe — Blue") == "women's trail shoe"


def card(pid: str, price: float, rating: float | None, title: str) -> ProductCard:
    return ProductCard(
        id=pid, title=title, category="footwear", price=price, compare_at_price=None,
        in_stock=True, sizes_in_stock=["8"], rating=rating, selling_points=[], url=None,
        score=1.0,
    )  # fmt: skip


SHOWN = Recommended(
    at=(NOW - timedelta(minutes=5)).isoformat(),
    products=[
        card("A", 140.0, 4.5, "Ridgeline Trail Runner — Lake Blue"),
        card("B", 110.0, 4.8, "Mudlark Trail Shoe — Stone"),
        card("C", 125.0, 4.1, "Scree Dash — Cobalt"),
    ],
)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("is the first one waterproof?", "A"),
        ("tell me more about the second one", "B"),
        ("the 3rd option please", "C"),
        ("I'll take the last one", "C"),
        ("what about #2", "B"),
        ("the cheaper one in an 8?", "B"),
        ("ok the more expensive one then", "A"),
        ("which is the best rated one", "B"),
        ("the blue one", "A"),
        ("the lake blue one", "A"),  # a shade before the colour
        ("any rain jackets?", None),
        ("the fourth one", None),
    ],
)
def test_references_resolve_to_what_was_recommended(text: str, expected: str | None) -> None:
    found = resolve_reference(text, SHOWN, NOW)
    assert (found[0]["id"] if found else None) == expected


def test_stale_or_missing_recommendations_resolve_nothing() -> None:
    assert resolve_reference("the first one", None, NOW) is None
    assert resolve_reference("the first one", SHOWN, NOW + timedelta(days=2)) is None


def test_budget_said_earlier_in_the_conversation_still_holds() -> None:
    needs, sources = read_conversation_needs(
        "does the 150 crew run small? I'm usually an L",
        ["I need a merino base layer, anything under $90?"],
        {"budget_max": 150},
    )
    assert needs == {"budget_max": 90.0, "size": "L"}
    assert sources == {"budget_max": "earlier text", "size": "this text"}
    needs, sources = read_conversation_needs("any socks?", [], {"budget_max": 40})
    assert needs["budget_max"] == 40.0 and sources["budget_max"] == "preferences"
    assert sources["size"] is None
