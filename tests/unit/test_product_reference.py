"""Which product a shopper's text names."""

import asyncio
from typing import Any

import pytest

from textcart.rules.references import name_match
from textcart.rules.references import names_product as _names_product


@pytest.mark.parametrize(
    "text,title,named",
    [
        (
            "hey do the ridgeline trail runners come in an 8.5?",
            "Men's Ridgeline Trail Runner — Lake Blue",
            True,
        ),
        ("is the summit gtx boot waterproof", "Summit GTX Hiking Boot — Slate", True),
        ("Summit boots in a 10?", "Summit GTX Hiking Boot — Slate", False),
        ("any boots?", "Summit GTX Hiking Boot — Slate", False),
        ("any trail runners under $100?", "Ridgeline Trail Runner — Blue", False),
        ("", "Ridgeline Trail Runner — Blue", False),
        ("which size th22 daypack for a 17 inch torso?", "Trailhead 22 Daypack — Black", True),
        ("thanks 22 times", "Trailhead 22 Daypack — Black", False),
    ],
)
def test_names_product(text: str, title: str, named: bool) -> None:
    assert _names_product(text, title) is named


@pytest.mark.parametrize(
    "text,title,named",
    [
        ("th22 in black?", "Trailhead 22 Daypack — Black", True),
        ("bc900 or bc400 for night runs", "Beacon 900 Headlamp — Black", True),
        ("xy22 in black?", "Trailhead 22 Daypack — Black", False),
        ("ht22 in black?", "Trailhead 22 Daypack — Black", False),
        ("rdgeline trail runner, got an 11?", "Men's Ridgeline Trail Runner — Black", True),
        ("ridgleine in a 9", "Men's Ridgeline Trail Runner — Black", True),
        ("a redline shirt", "Men's Ridgeline Trail Runner — Black", False),
        ("which size of the 22L daypack", "Trailhead 22 Daypack — Black", True),
        ("what colours does the sun hoody come in", "Sunrise Sun Hoodie — Sand", True),
        ("grid fleece 1/4 zip in green", "Cirque Grid Fleece Quarter-Zip — Moss Green", True),
        ("any trail runners in a 9?", "Men's Ridgeline Trail Runner — Black", False),
        ("rain jackets for women", "Women's Stormwall 3L Rain Jacket — Plum", False),
        ("any trail running shoes under $120?", "Trail Running Gaiters — Black", False),
        ("is the navy zip neck on sale?", "Merino 250 Zip-Neck Base Layer — Midnight Navy", True),
        ("the no-show socks in white", "Tempo No-Show Running Sock — White", True),
        ("a base layer in navy", "Merino 250 Zip-Neck Base Layer — Midnight Navy", False),
        # Spelt as it sounds: "light" for "lite".
        ("is the featherlight jacket waterproof?", "Featherlite Wind Shell — Lavender", True),
    ],
)
def test_a_models_shorthand_names_it(text: str, title: str, named: bool) -> None:
    assert (name_match(text, title) > 0) is named


def test_the_title_index_finds_the_named_model_among_every_title() -> None:
    from textcart.tools.catalog_words import ModelNames

    names = ModelNames(
        {
            "D-W": "Women's Daymile Daily Trainer — Black",
            "D-M": "Men's Daymile Daily Trainer — Olive",
            "L-M": "Men's Longhaul Max Trail — Trail Orange",
            "T22": "Trailhead 22 Daypack — Black",
            "G": "Trail Running Gaiters — Black",
        }
    )
    named = names.named("stack height on the daymile? dont want smth too tall")
    assert {i for _, i in named} == {"D-W", "D-M"}
    assert [i for _, i in names.named("th22 in black?")] == ["T22"]
    # A model word one letter off is still found among every title.
    assert {i for _, i in names.named("is the dymile wide?")} == {"D-W", "D-M"}
    assert names.named("any trail running shoes under $120?") == []


async def test_a_shared_word_said_about_the_discussed_model_names_its_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """'the gtx one' after the Ridgeline is the Ridgeline GTX, not the Summit GTX."""
    from textcart.graph.named import card, version_named
    from textcart.tools import catalog_words
    from textcart.tools.catalog import Product

    titles = {
        "RT": "Women's Ridgeline Trail Runner — Glacier Teal",
        "RG": "Women's Ridgeline GTX Trail Runner — Slate Grey",
        "SG": "Women's Summit GTX Hiking Boot — Plum",
        "SW": "Men's Switchback Mid Waterproof Hiker — Olive",
    }
    products = {
        i: Product(id=i, title=t, category="footwear", price=100.0, url="https://x.example/p")
        for i, t in titles.items()
    }

    async def read(catalog: object) -> dict[str, str]:
        return dict(titles)

    monkeypatch.setattr(catalog_words, "_titles", read)

    class Catalog:
        version = 0

        async def get_many(self, ids: list[str]) -> dict[str, Product]:
            return {i: products[i] for i in ids}

    async def nothing_known() -> dict[str, Any]:
        return {}

    shopper: Any = {"cart_ids": [], "viewed_ids": [], "preferences": {}}
    ridgeline = card(products["RT"], 1.0)

    async def version(text: str) -> str | None:
        found = await version_named(Catalog(), text, shopper, nothing_known(), ridgeline)  # type: ignore[arg-type]
        return found["id"] if found else None

    assert await version("ok n how is the gtx one different?") == "RG"
    assert await version("is it waterproof?") is None  # no version of it says waterproof
    assert await version("what about the teal one") is None  # a colour, not a version


async def test_my_parka_is_the_parka_they_bought() -> None:
    from textcart.graph.named import owned_named
    from textcart.tools.catalog import Product, ProductHit

    def hit(product_id: str, title: str) -> ProductHit:
        product = Product(
            id=product_id, title=title, category="x", price=1.0, url="https://x.example"
        )
        return ProductHit(product=product, score=1.0)

    known = {
        "P": hit("P", "Men's Basecamp Down Parka — Black"),
        "M": hit("M", "Men's Mudlark Trail Shoe — Olive"),
        "V": hit("V", "Merino 150 Crew — Charcoal"),
    }
    shopper: Any = {"purchased_ids": ["P", "M"], "cart_ids": [], "viewed_ids": ["V"]}

    async def owned(text: str) -> str | None:
        history: asyncio.Future[dict[str, ProductHit]] = asyncio.get_running_loop().create_future()
        history.set_result(known)  # the turn's read of their products, already done
        found = await owned_named(text, shopper, history)
        return found["id"] if found else None

    assert await owned("how do i wash my parka without wrecking it") == "P"
    assert await owned("my new mudlarks gave me blisters") == "M"
    assert await owned("is my merino crew in stock") is None  # viewed, not theirs
    assert await owned("is my size in stock") is None
    assert await owned("how do i wash the parka i got from u? dont wanna wreck it") == "P"
    assert await owned("the size i ordered is too big") is None


def _product(title: str, category: str, points: list[str]) -> Any:
    from textcart.tools.catalog import Product

    return Product(
        id=title.lower().replace(" ", "-"),
        title=title,
        category=category,
        description="",
        price=100.0,
        selling_points=points,
        url="https://shop.example/p",
    )


RACER = _product(
    "Men's Tempo Road Racer — Volt", "footwear/road running shoes", ["carbon fiber plate"]
)
RACER_W = _product(
    "Women's Tempo Road Racer — Coral", "footwear/road running shoes", ["carbon fiber plate"]
)
POLES = _product("Carbon Trekking Poles (pair) — Black", "poles", ["carbon fiber shafts"])
TRAINER = _product("Daymile Daily Trainer — Slate", "footwear/road running shoes", ["foam"])
BOOT = _product("Summit GTX Hiking Boot — Brown", "footwear/hiking boots", ["waterproof"])
CLEATS = _product("Icegrip Traction Cleats — Black", "footwear/traction", ["fits hiking boots"])


@pytest.mark.parametrize(
    "text,products,found",
    [
        ("thinking abt the carbon plate racers for easy runs?", [POLES, RACER, RACER_W], RACER),
        ("the carbon poles ok for snow?", [RACER, POLES], POLES),
        # "racers" is no poles' kind, and a single word describes too little.
        ("are the carbon ones any good", [RACER, POLES], None),
        ("the road shoes for easy runs?", [RACER, TRAINER], None),  # no title says "shoe"
        ("carbon plate racers?", [RACER], None),  # no "the": not a description of one
        ("the carbon fiber ones, any good?", [RACER, POLES], None),  # "ones" is no kind
        # What they go over is not what is described; "ice" starts the title's "Icegrip".
        ("do those ice cleat things go over hiking boots?", [BOOT, CLEATS], CLEATS),
        ("does that carbon racer actually have a plate", [POLES, RACER], RACER),
        ("the ice things, do they fit?", [BOOT, CLEATS], None),  # "things" is no kind
        (  # fits two models: nothing is assumed
            "the carbon plate racer?",
            [RACER, _product("Vento Trail Racer — Red", "shoes", ["carbon plate"])],
            None,
        ),
    ],
)
def test_a_definite_description_names_the_one_model_it_fits(
    text: str, products: list[Any], found: Any
) -> None:
    from textcart.graph.named import described_product

    assert described_product(text, products) == found
