"""Which product of a kind is the most something, measured from each product's own text."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from textcart.answers.superlative import superlative_answer, superlative_asked
from textcart.tools.catalog import Product, ProductHit


def _product(title: str, category: str, points: list[str], price: float = 100.0) -> Product:
    return Product(
        id=title.lower().replace(" ", "-"),
        title=title,
        category=category,
        description="",
        price=price,
        selling_points=points,
        url="https://shop.example/p",
    )


LONGHAUL = _product(
    "Longhaul Max Trail — Black", "footwear/trail running shoes", ["38 mm stack height"], 160
)
RIDGELINE = _product(
    "Ridgeline Trail Runner — Blue", "footwear/trail running shoes", ["6 mm drop (30 mm heel)"]
)
MUDLARK = _product("Mudlark Trail Shoe — Rust", "footwear/trail running shoes", ["8 mm drop"])
# A road shoe in a colour called "Trail Orange", with the tallest stack of all.
TEMPO = _product(
    "Tempo Road Racer — Trail Orange", "footwear/road running shoes", ["39 mm heel stack"]
)


class _Catalog:
    """Every product is a hit: the answer must pick the kind out itself."""

    def __init__(self, products: list[Product]) -> None:
        self.products = products

    async def search(self, *args: Any, **kwargs: Any) -> list[ProductHit]:
        return [ProductHit(product=p, score=1.0) for p in self.products]


@pytest.mark.parametrize(
    "text,kind",
    [
        ("doing my first 100k 😅 which trail shoe has the most cushion", "trail shoe"),
        ("whats the lightest daypack u have", "daypack"),
        ("which of ur headlamps is brightest?", "headlamps"),
        ("what's the warmest jacket you have", "jacket"),
        ("which is better for mud, mudlark or ridgeline", None),  # a comparison
        ("which of these is the lightest", None),  # the ones shown: no kind said
    ],
)
def test_a_superlative_question_and_its_kind(text: str, kind: str | None) -> None:
    asked = superlative_asked(text)
    assert (asked[0] if asked else None) == kind


def test_the_most_of_a_kind_is_measured_by_each_ones_own_number() -> None:
    catalog = _Catalog([MUDLARK, RIDGELINE, TEMPO, LONGHAUL])
    answer = asyncio.run(superlative_answer(catalog, "which trail shoe has the most cushion"))  # type: ignore[arg-type]
    assert answer is not None
    assert answer["text"].startswith("Of our trail shoes, the Longhaul Max Trail has the most")
    assert "38 mm stack height" in answer["text"] and "$160" in answer["text"]
    assert "Tempo" not in answer["text"]
    assert answer["product_id"] == LONGHAUL.id


def test_no_answer_when_fewer_than_two_can_be_measured() -> None:
    catalog = _Catalog([MUDLARK, LONGHAUL])
    assert asyncio.run(superlative_answer(catalog, "which trail shoe has the most cushion")) is None  # type: ignore[arg-type]


def test_the_lightest_converts_units() -> None:
    pack = _product("Ascent 45 Pack — Black", "packs/backpacks", ["weighs 1.3 kg"])
    day = _product("Trailhead 22 Pack — Black", "packs/daypacks", ["weighs 820 g"])
    answer = asyncio.run(superlative_answer(_Catalog([pack, day]), "which pack is the lightest?"))  # type: ignore[arg-type]
    assert (
        answer is not None and "Trailhead 22 Pack is the lightest: weighs 820 g" in answer["text"]
    )
