"""The offer policy, read without a graph: who may be offered a discount."""

import pytest

from textcart.rules.offers import offer_refusal


@pytest.mark.parametrize("probability", [0.3, 0.45, 0.599])
def test_a_price_question_in_an_offer_band_may_get_an_offer(probability: float) -> None:
    assert offer_refusal(probability, "price_or_discount", {"medium"}) is None


@pytest.mark.parametrize(("probability", "band"), [(0.0, "low"), (0.29, "low"), (0.6, "high")])
def test_a_band_outside_the_offer_bands_gets_none(probability: float, band: str) -> None:
    reason = offer_refusal(probability, "price_or_discount", {"medium"})
    assert reason == f"{band} buy-likelihood is not in the offer bands ['medium']"


@pytest.mark.parametrize("intent", ["product_question", "purchase_intent", "other"])
def test_without_price_sensitivity_there_is_no_offer(intent: str) -> None:
    assert offer_refusal(0.5, intent, {"medium", "high"}) == (
        f"intent {intent} signals no price sensitivity"
    )


def test_the_bands_are_the_stores_to_choose() -> None:
    assert offer_refusal(0.9, "price_or_discount", {"medium", "high"}) is None
    assert offer_refusal(0.5, "price_or_discount", set()) is not None
