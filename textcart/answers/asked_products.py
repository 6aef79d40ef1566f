"""Which products a text is about: the one asked, its colourways, and the others it names.

The answer step asks this module for the products behind a question: the asked product
read fresh from the catalog with every colourway of its model, the other models the text
(or the text before) names, a pair of models to compare, and the model a text names when
it speaks of something the shopper ordered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from textcart.answers.evidence import model_of
from textcart.rules.references import (
    line_of,
    line_said_in,
    model_words,
    name_match,
    names_product,
    said_words,
)
from textcart.tools.catalog import Catalog, Product, SearchFilters
from textcart.tools.catalog_words import ModelNames, model_names
from textcart.tools.orders import Order
from textcart.vocabulary.answers import AskedQuestion
from textcart.vocabulary.records import ProductCard

_COLOURWAYS_READ = 20
_COMPARED = re.compile(r"\bvs\.?\b|\bversus\b|\bor\b|\band\b|,|\bthan\b", re.IGNORECASE)
_LINE = re.compile(r"^(men's|women's|unisex)\s+", re.IGNORECASE)


def base_model(title: str) -> str:
    """The model without its line: "Men's Daymile Daily Trainer" -> "Daymile Daily Trainer"."""
    return _LINE.sub("", model_of(title)).lower()


def _line_first(names: ModelNames, ids: list[str], said: str, title: str = "") -> list[str]:
    """`ids` with those of the line `said` names (else the line of `title`) first."""
    prefix = line_said_in(said) or line_of(title)
    if not prefix:
        return ids
    return sorted(ids, key=lambda i: not names.titles[i].lower().startswith(prefix))


def _by_model(names: ModelNames, ids: Iterable[str]) -> dict[str, str]:
    """The first product id of each model among `ids`, keyed by `base_model`, in order."""
    models: dict[str, str] = {}
    for product_id in ids:
        models.setdefault(base_model(names.titles[product_id]), product_id)
    return models


async def pair_named_before(
    catalog: Catalog, line: str
) -> tuple[Product | None, list[Product], list[Product]]:
    """Two models the text before named, the first with its colourways, else nothing."""
    names = await model_names(catalog)
    # "the tempo road racer and the daymile, mens": the men's of each.
    models = _by_model(names, _line_first(names, [i for _, i in names.named(line)], line))
    if len(models) < 2:
        return None, [], []
    found = await catalog.get_many(list(models.values())[:2])
    if len(found) < 2:
        return None, [], []
    first, second = found.values()
    return first, await catalog.colourways(first.title, first.model_id), [second]


async def two_models_named(catalog: Catalog, text: str) -> bool:
    """Whether the text names two different models outright.

    "the ridgeline trail runners" names the Ridgeline, not also the Ridgeline GTX or the
    Ridgeline Merino Trail Sock: a model counts only when the words that set it apart from
    each other model named are said.
    """
    names = await model_names(catalog)
    models = _by_model(names, [i for strength, i in names.named(text) if strength >= 40])
    said = said_words(text, ())
    words = {m: set(model_words(names.titles[i])) for m, i in models.items()}
    named = [
        m
        for m in models
        if not any((apart := words[m] - words[o]) and not apart & said for o in models)
    ]
    return len(named) >= 2


async def named_before(catalog: Catalog, earlier: Sequence[str], product: Product) -> list[Product]:
    """A model the shopper's last texts named, other than `product`."""
    names = await model_names(catalog)
    own = base_model(product.title)
    for line in earlier[:2]:
        # "vs the talus" after "hows the mens summit gtx": the men's Summit.
        ids = _line_first(names, [i for _, i in names.named(line)], line, product.title)
        models = _by_model(names, ids)
        other = next((i for model, i in models.items() if model != own), None)
        if other is not None:
            return list((await catalog.get_many([other])).values())
    return []


# "how is the ridgeline gtx different from the normal one": the model it is a version of.
PLAIN_ONE = re.compile(
    r"\bthe (normal|regular|standard|original|plain|basic|non[- ]?\w+)"
    r"( \w+)?( one| ones| version| model| pair)?\b",
    re.IGNORECASE,
)


async def plain_model(catalog: Catalog, product: Product) -> list[Product]:
    """The model `product` is a version of (the Ridgeline of the Ridgeline GTX), in its line."""
    names = await model_names(catalog)
    own = set(model_words(product.title))
    for word in sorted(own):
        rest = own - {word}
        found = [
            i
            for _, i in names.named(" ".join(sorted(rest)))
            if set(model_words(names.titles[i])) == rest
        ]
        if rest and found:
            first = _line_first(names, found, "", product.title)[0]
            return list((await catalog.get_many([first])).values())
    return []


async def products_asked(
    catalog: Catalog,
    asked_product_id: str | None,
    products: Sequence[ProductCard],
    text: str,
    question: AskedQuestion,
    theirs: frozenset[str] = frozenset(),
    shopper_line: str | None = None,
) -> tuple[Product | None, list[Product], list[Product]]:
    """The asked product (fresh from the catalog), all its colourways, other named products.

    The other product of a comparison is, of the colourways and lines the text leaves open,
    one the shopper looked at (`theirs`), else one in their `shopper_line` ("men" or "women").
    """
    if asked_product_id is None:
        return None, [], []
    named_ids = [
        p["id"] for p in products if p["id"] != asked_product_id and names_product(text, p["title"])
    ]
    card = next((p for p in products if p["id"] == asked_product_id), None)
    # Every colourway of the model, the asked one among them (read fresh: stock changes).
    variants = await catalog.colourways(card["title"], card.get("model_id")) if card else []
    product = next((v for v in variants if v.id == asked_product_id), None)
    fetched = await catalog.get_many(
        named_ids if product is not None else [asked_product_id, *named_ids]
    )
    if product is None:
        product = fetched.get(asked_product_id)
        if product is None:
            return None, [], []
        variants = [product, *await catalog.colourways(product.title, product.model_id)]
        variants = list({v.id: v for v in variants}.values())
    model = product.model_key()
    others = [p for i, p in fetched.items() if i != asked_product_id and p.model_key() != model]
    if question["kind"] == "comparison":
        # The other product of "x vs y" may not be among the turn's search results: each
        # part of the text is looked for among every title on its own.
        names = await model_names(catalog)
        for part in _COMPARED.split(text):
            if not part.strip():
                continue
            if re.fullmatch(r"\W*\d+\b.*", part) and not name_match(part, product.title):
                # "beacon 400 vs 900": the second model is named by its number alone.
                part = f"{base_model(product.title).split()[0]} {part}"
            found = names.named(part)
            if not found:
                continue
            ids = [i for strength, i in found if strength == found[0][0]][:_COLOURWAYS_READ]
            named = list((await catalog.get_many(ids)).values())
            if not named:
                continue
            # No line said: the other model in the line of the first one.
            prefix = line_said_in(part) or line_said_in(text) or line_of(product.title)
            if not prefix and shopper_line in ("men", "women"):
                prefix = f"{shopper_line}'s"
            if prefix:
                named = [p for p in named if p.title.lower().startswith(prefix)] or named
            # "the black ridgeline and the black ridgeline gtx": of the models named as
            # well, the other one, in the colour said.
            said = set(re.findall(r"[a-z]+", part.lower()))
            named = [p for p in named if base_model(p.title) != base_model(product.title)]
            named.sort(
                key=lambda p: (
                    not set(re.findall(r"[a-z]+", p.title.rpartition("—")[2].lower())) & said,
                    p.id not in theirs,
                )
            )
            if named:
                others.insert(0, named[0])
    return product, variants, others


def models_in(order: Order, products: dict[str, Product]) -> set[str]:
    """The models an order holds, as `base_model` names them."""
    return {base_model(products[i].title) for i in order.item_ids if i in products}


async def model_named(catalog: Catalog, text: str) -> str | None:
    """The model the text names ("the switchback boots"), by keyword search; None if none."""
    hits = await catalog.search(text, None, SearchFilters(in_stock_only=False), limit=5)
    scored = [(name_match(text, h.product.title), h.product.title) for h in hits]
    strength, title = max(scored, default=(0, ""))
    return base_model(title) if strength > 0 else None
