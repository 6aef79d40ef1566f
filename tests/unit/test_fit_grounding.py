"""The fit decision never passes on an invented product, price or attribute.

A scripted chat model stands in for the LLM: what is under test is the code that holds any
model's answer to the catalog facts, and the fallback to the classic decider when it fails.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from scripted_model import ScriptedModel

from textcart.deciders.base import decide
from textcart.deciders.fit import ClassicFit, grounded, llm_fit, pick_highlights
from textcart.vocabulary.outputs import FitResult
from textcart.vocabulary.records import Personalisation, ProductCard, ShopperContext, ShopperNeeds


def card(pid: str, title: str, price: float, sizes: list[str], points: list[str]) -> ProductCard:
    return ProductCard(
        id=pid, title=title, category="footwear/trail running shoes", price=price,
        compare_at_price=None, in_stock=True, sizes_in_stock=sizes, rating=4.5,
        selling_points=points, url=None, score=1.0,
    )  # fmt: skip


CANDIDATES = [
    card("TH-RIDGE-W-BLU", "Women's Ridgeline Trail Runner — Lake Blue", 145.0, ["7", "9"],
         ["Vibram Megagrip outsole with 4.5 mm lugs", "weighs 275 g (men's 9)"]),
    card("TH-MUD-W-STN", "Women's Mudlark Trail Shoe — Stone", 110.0, ["8", "9"],
         ["5 mm lugs spaced wide to shed mud", "roomy toe box", "8 mm drop"]),
]  # fmt: skip
NEEDS = ShopperNeeds(budget_max=120.0, size="8")
SHOPPER = ShopperContext(
    shopper_id="s_x", first_name="Maya", timezone=None, consent="subscribed", preferences={},
    behaviour={}, viewed_ids=["TH-RIDGE-W-BLU"], cart_ids=[], purchased_ids=[],  # type: ignore[typeddict-item]
    last_message_type=None, turns_so_far=0, proactive_sent_24h=0,
)  # fmt: skip
TASTE = Personalisation(
    behaviour_from=["TH-RIDGE-W-BLU"], behaviour_weight=0.25, price_band=[87.0, 203.0],
    sizes=["8"], colors=["blue"], line="women", deal_seeker=False, excluded_ids=[],
    history_titles=["Women's Ridgeline Trail Runner — Teal"], interests=["mud", "trail"],
    affinity={"TH-MUD-W-STN": 0.7}, closest_viewed={"TH-MUD-W-STN": "Women's Ridgeline"},
)  # fmt: skip
GOOD = {
    "best_fit_id": "TH-MUD-W-STN",
    "is_asked_product_best": False,
    "alternative_ids": [],
    "highlights": ["5 mm lugs spaced wide to shed mud"],
    "reason": "Size 8 is in stock and at $110 it fits the $120 budget; the Ridgeline is $145.",
}
INVENTED = {
    "an id": {**GOOD, "best_fit_id": "TH-GHOST-1"},
    "an alternative": {**GOOD, "alternative_ids": ["TH-GHOST-2"]},
    "a price": {**GOOD, "reason": "Only $99 this week, in your size 8."},
    "an attribute": {**GOOD, "highlights": ["fully waterproof Gore-Tex membrane"]},
    "a number": {**GOOD, "reason": "Weighs just 190 g and comes in size 8."},
    "a size": {**GOOD, "reason": "In stock in size 11."},
    "a product code": {**GOOD, "reason": "Better than the TH-SUMMIT-GTX-BLK for mud."},
}


async def ask(answer: dict[str, Any]) -> FitResult:
    return await llm_fit(
        ScriptedModel(answer=lambda _title, _prompt: json.dumps(answer)),
        method="json_object",
        timeout_s=5.0,
        candidates=CANDIDATES,
        asked_id="TH-RIDGE-W-BLU",
        needs=NEEDS,
        shopper=SHOPPER,
        text="is the ridgeline good for mud? I'm a size 8",
        taste=TASTE,
    )


async def test_a_grounded_llm_answer_is_passed_on() -> None:
    result = await ask(GOOD)
    assert result.best_fit_id == "TH-MUD-W-STN" and not result.is_asked_product_best


@pytest.mark.parametrize("what", sorted(INVENTED))
async def test_an_llm_answer_that_invents_is_refused(what: str) -> None:
    with pytest.raises(ValueError):
        await ask(INVENTED[what])


@pytest.mark.parametrize("what", sorted(INVENTED))
async def test_the_classic_decider_answers_instead_of_an_inventing_llm(what: str) -> None:
    decided = await decide(
        "fit",
        use_llm=True,
        llm=lambda: ask(INVENTED[what]),
        classic=lambda: ClassicFit().decide(
            CANDIDATES, "TH-RIDGE-W-BLU", NEEDS, SHOPPER, "good for mud? size 8", TASTE
        ),
    )
    assert decided.decider == "classic" and "ValueError" in (decided.fallback_reason or "")
    value = decided.value
    assert value.best_fit_id == "TH-MUD-W-STN"  # the asked one has no size 8 and is over budget
    assert grounded(value, CANDIDATES, "TH-RIDGE-W-BLU", NEEDS, TASTE) == value


async def test_classic_reason_cites_only_catalog_facts_and_behaviour() -> None:
    result = await ClassicFit().decide(
        CANDIDATES, "TH-RIDGE-W-BLU", NEEDS, SHOPPER, "good for mud? size 8", TASTE
    )
    assert "$110" in result.reason and "no size 8" in result.reason
    assert "Women's Ridgeline they browsed" in result.reason
    assert result.highlights[0] == "5 mm lugs spaced wide to shed mud"


def test_highlights_follow_what_they_said_then_what_they_browsed() -> None:
    product = CANDIDATES[1]
    assert pick_highlights(product, "is it roomy?", limit=1) == ["roomy toe box"]
    assert pick_highlights(product, "", limit=1, interests=["drop"]) == ["8 mm drop"]
    assert pick_highlights(product, "", limit=1) == [product["selling_points"][0]]


def test_grounding_accepts_facts_from_the_shoppers_budget_band_and_history() -> None:
    ok = FitResult(
        best_fit_id="TH-MUD-W-STN",
        reason="$110, in their usual $87-$203 range, under the $120 budget, 4.5 rated, "
        "like the Women's Ridgeline Trail Runner — Teal, one of 2 picks",
    )
    assert grounded(ok, CANDIDATES, None, NEEDS, TASTE).reason == ok.reason
    with pytest.raises(ValueError, match="prices"):
        grounded(ok, CANDIDATES, None)  # without the budget and band, $87 is nobody's price
