"""Product fit never invents facts; the next-message table backs off sensibly."""

import pytest

from textcart.deciders.fit import ClassicFit, grounded
from textcart.deciders.next_message import TransitionTable
from textcart.vocabulary.outputs import FitResult
from textcart.vocabulary.records import ProductCard, ShopperContext


def card(
    pid: str, price: float, sizes: list[str], rating: float = 4.5, stock: bool = True
) -> ProductCard:
    return ProductCard(
        id=pid,
        title=f"Model {pid} — Blue",
        category="footwear/trail",
        price=price,
        compare_at_price=None,
        in_stock=stock,
        sizes_in_stock=sizes,
        rating=rating,
        selling_points=[f"{pid} grippy lugs for mud", f"{pid} light", f"{pid} wide toe box"],
        url=f"https://trailhead.example/products/{pid}",
        score=1.0,
    )


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


CANDIDATES = [
    card("A", 150, ["9"]),
    card("B", 110, ["8.5", "9"]),
    card("C", 95, ["8.5"], rating=4.8),
]


async def test_asked_product_without_the_size_loses_to_one_that_has_it() -> None:
    result = await ClassicFit().decide(
        CANDIDATES,
        "A",
        {"budget_max": None, "size": "8.5"},
        shopper(),
        "do these come in 8.5 for mud",
    )
    assert result.best_fit_id in {"B", "C"} and not result.is_asked_product_best
    assert "no size 8.5" in result.reason
    assert all(h in {p for c in CANDIDATES for p in c["selling_points"]} for h in result.highlights)
    assert "mud" in result.highlights[0]


async def test_asked_product_that_fits_stays_the_pick() -> None:
    result = await ClassicFit().decide(
        CANDIDATES, "B", {"budget_max": 120, "size": "9"}, shopper(), "is model B good?"
    )
    assert result.best_fit_id == "B" and result.is_asked_product_best


def test_grounding_rejects_invented_ids_and_highlights() -> None:
    with pytest.raises(ValueError, match="not a retrieved product"):
        grounded(FitResult(best_fit_id="Z"), CANDIDATES, None)
    with pytest.raises(ValueError, match="alternatives"):
        grounded(FitResult(best_fit_id="A", alternative_ids=["Q"]), CANDIDATES, None)
    with pytest.raises(ValueError, match="not selling points"):
        grounded(FitResult(best_fit_id="A", highlights=["free jetpack"]), CANDIDATES, None)
    with pytest.raises(ValueError, match="cites prices"):
        grounded(FitResult(best_fit_id="A", reason="B is $139 and in budget"), CANDIDATES, None)
    assert grounded(FitResult(best_fit_id="B", reason="B is $110"), CANDIDATES, None).reason
    ok = grounded(
        FitResult(best_fit_id="A", highlights=["  a LIGHT "], alternative_ids=["A", "B"]),
        CANDIDATES,
        "B",
    )
    assert ok.highlights == ["A light"] and ok.alternative_ids == ["B"]
    assert not ok.is_asked_product_best


def test_transition_table_backs_off() -> None:
    rows = [
        {
            "intent": "product_question",
            "buy_likelihood_band": "high",
            "last_message_type": None,
            "turns_so_far": 0,
            "has_products": True,
            "label": "answer_question",
        },
        {
            "intent": "product_question",
            "buy_likelihood_band": "high",
            "last_message_type": "answer_question",
            "turns_so_far": 2,
            "has_products": True,
            "label": "nudge_checkout",
        },
        {
            "intent": "complaint",
            "buy_likelihood_band": "low",
            "last_message_type": None,
            "turns_so_far": 0,
            "has_products": False,
            "label": "handoff_to_human",
        },
    ]
    table = TransitionTable(rows)
    case = dict(rows[1])
    assert table.choose(case)[0] == "nudge_checkout"
    case.update(intent="complaint", buy_likelihood_band="high")
    label, why = table.choose(case)
    assert label == "handoff_to_human" and "level intent" in why
    with pytest.raises(ValueError):
        TransitionTable([])
