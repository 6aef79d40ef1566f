"""What every answer is built with: the turn's evidence, the builder, shared wording.

An answer is a list of sentences with the facts and sources behind each (`Builder`), so the
output guard and `textcart eval answers` can hold the reply to them.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from textcart.answers.knowledge import Chunk, Embedder, KnowledgeBase
from textcart.tools.catalog import Product
from textcart.tools.orders import Order
from textcart.vocabulary.answers import Answer, AnswerStatus
from textcart.vocabulary.money import format_money
from textcart.vocabulary.products import model_of_title

FOLLOW_UP = "Want me to ask someone on our team to follow up?"


@dataclass(frozen=True)
class Evidence:
    """What the answer step could look at this turn."""

    text: str
    product: Product | None
    variants: Sequence[Product]  # every colourway of the product's model, itself included
    others: Sequence[Product]  # other products named in the text (comparisons)
    knowledge: KnowledgeBase
    embedder: Embedder
    order: Order | None
    order_titles: dict[str, str]
    said_size: str | None  # a size the shopper said in this conversation
    preferences: dict[str, Any]  # their saved shoe and apparel sizes
    # The order's products from the catalog, the one the text names first (sizes, stock).
    order_products: Sequence[Product] = ()
    # The products they carted or viewed: a colourway of theirs is the one they mean.
    theirs: frozenset[str] = frozenset()
    now: datetime | None = None  # the turn's clock ("do they ship today?")


def money(value: float, currency: str = "USD") -> str:
    """A price as texts print it, in the product's currency: "$145", "Rs 1,299"."""
    return format_money(value, currency)


def price_text(product: Product, size: str | None = None) -> str:
    """The product's price in its own currency; that size's own price when it has one."""
    return format_money(product.price_for(size), product.currency)


def size_prices(product: Product, size: str | None = None) -> str:
    """The price as a text says it when sizes differ: "$150 in a 12, $145 in other sizes".

    Prices of the sizes in stock (of every size when none is). Without a size: the
    product's price, then the sizes that cost otherwise ("$145 ($150 in 12 and 13)").
    Sizes priced alike: just the price.
    """
    selling = [v for v in product.variants if v.in_stock] or product.variants
    by_price: dict[float, list[str]] = {}
    for v in selling:
        if v.size:
            by_price.setdefault(v.price, []).append(v.size)
    asked = product.variant(size)
    if len(by_price) < 2:
        return price_text(product, size)
    cur = product.currency
    if asked is not None and asked.size:
        same = [asked.size, *(s for s in by_price.get(asked.price, []) if s != asked.size)]
        said = f"{money(asked.price, cur)} in a {' and '.join(same)}"
        rest = [p for p in by_price if p != asked.price]
        return f"{said}, {money(rest[0], cur)} in other sizes" if len(rest) == 1 else said
    others = [
        f"{money(p, cur)} in {' and '.join(sizes)}"
        for p, sizes in by_price.items()
        if p != product.price
    ]
    return f"{price_text(product)} ({'; '.join(others)})"


def model_of(title: str) -> str:
    """The model part of a title ("Women's Ridgeline Trail Runner — Teal" -> before the dash)."""
    return model_of_title(title)


def colourway(product: Product) -> str:
    """The colourway name of a product ("Lake Blue"), or its colours when the title has none."""
    if "—" in product.title:
        return product.title.rsplit("—", 1)[1].strip()
    named = [v.colour for v in product.variants if v.colour]
    return named[0] if named else "/".join(product.colors) or product.title


def join_names(items: Sequence[str], most: int = 3) -> str:
    """Names as a list reads in a text: "a, b and c", or "a, b, c and 2 more colours"."""
    items = list(dict.fromkeys(items))
    if len(items) > most:
        rest = len(items) - most
        return f"{', '.join(items[:most])} and {rest} more colour{'s' if rest > 1 else ''}"
    if len(items) <= 2:
        return " and ".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def size_run(sizes: Sequence[str], most: int = 6, made: Sequence[str] = ()) -> str:
    """A size run as a text says it: "7, 8, 9" or "7 to 13" when long.

    With `made` (every size the product comes in), sizes missing inside a long run are
    named: "7 to 11, except 9.5", so a range never claims a sold-out size.
    """
    shown = list(sizes)
    if len(shown) <= most:
        return join_names(shown, most)
    run = f"{shown[0]} to {shown[-1]}"
    if shown[0] in made and shown[-1] in made:
        inside = list(made)[list(made).index(shown[0]) : list(made).index(shown[-1]) + 1]
        gaps = [s for s in inside if s not in shown]
        if gaps:
            return f"{run}, except {join_names(gaps, len(gaps))}"
    return run


def sentences_of(product: Product) -> list[str]:
    """The product's description sentences and selling points, as separate claims."""
    description = [s.strip() for s in re.split(r"(?<=[.!?])\s+", product.description) if s.strip()]
    return [*product.selling_points, *description]


def low_stock(product: Product) -> str | None:
    """A scarcity line only when few sizes of a sized product are left."""
    sizes, left = product.sizes, product.sizes_in_stock
    if product.in_stock and len(sizes) >= 4 and 0 < len(left) <= max(1, len(sizes) // 4):
        return (
            f"Only {len(left)} size{'s' if len(left) > 1 else ''} left in stock: {', '.join(left)}."
        )
    return None


class Builder:
    """Collects the answer's sentences together with the evidence behind them."""

    def __init__(self, kind: str, product: Product | None) -> None:
        """An empty answer of `kind` about `product` (None for policy and order answers)."""
        self.kind = kind
        self.product = product
        self.parts: list[str] = []
        self.facts: list[str] = []
        self.sources: list[str] = []
        self.status: AnswerStatus = "info"
        self.size: str | None = None  # the size answered, whose own price the answer quotes

    def use(self, product: Product) -> Product:
        """Record a product's structured fields as evidence (once); returns the product."""
        source = f"product:{product.id}"
        if source not in self.sources:
            self.sources.append(source)
            was = product.compare_at_price
            self.facts.append(
                f"{product.title}: {price_text(product)}"
                + (f" (was {money(was, product.currency)})" if was else "")
                + f"; sizes {', '.join(product.sizes)}"
                + f"; in stock {', '.join(product.sizes_in_stock)}"
                + (f"; by size {size_prices(product)}" if product.variants else "")
            )
        return product

    def chunk(self, chunk: Chunk, sentences: Sequence[str]) -> None:
        """Say knowledge-base sentences word for word, citing their section."""
        self.sources.append(f"knowledge:{chunk.id}")
        self.facts.extend(sentences)
        self.parts.extend(sentences)

    def say(self, sentence: str, status: AnswerStatus | None = None) -> None:
        """Add a sentence of the answer, and set its status when given."""
        self.parts.append(sentence)
        if status is not None:
            self.status = status

    def build(self, scarcity: str | None = None) -> Answer:
        """The finished answer, with the scarcity line when stock is low."""
        product = self.product
        return Answer(
            kind=self.kind,
            status=self.status,
            text=" ".join(self.parts),
            product_id=product.id if product else None,
            product_title=product.title if product else None,
            price=price_text(product, self.size) if product else None,
            link=product.url if product else None,
            sources=self.sources,
            facts=self.facts,
            scarcity=scarcity,
        )


def pick(sentences: Sequence[str], pattern: re.Pattern[str], most: int = 2) -> list[str]:
    """The first `most` sentences that match `pattern`."""
    return [s for s in sentences if pattern.search(s)][:most]


def as_sentence(text: str) -> str:
    """One claim as a sentence: capitalised, one full stop."""
    text = text.strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}."


def claim(product: Product, sentences: Sequence[str]) -> str:
    """The model, then each piece of evidence as it was written, one sentence each."""
    first, *rest = [s.strip().rstrip(".") for s in sentences]
    text = f"The {model_of(product.title)}: {first}."
    return " ".join([text, *(f"{s[:1].upper() + s[1:]}." for s in rest)])


def unknown(b: Builder, what: str) -> None:
    """Say the evidence does not hold `what`, and offer a person."""
    b.say(f"I don't have {what} in our product info, so I won't guess. {FOLLOW_UP}", "unknown")


# Product sentences repeat across colourways and turns: embed each once per process.
_SENTENCE_VECTORS: OrderedDict[str, np.ndarray] = OrderedDict()
_SENTENCE_CACHE_SIZE = 20_000
_SENTENCE_LOCK = threading.Lock()


def _sentence_vectors(embedder: Embedder, sentences: Sequence[str]) -> np.ndarray:
    with _SENTENCE_LOCK:
        missing = [s for s in dict.fromkeys(sentences) if s not in _SENTENCE_VECTORS]
    if missing:
        computed = embedder.embed(missing)
        with _SENTENCE_LOCK:
            for sentence, vector in zip(missing, computed, strict=True):
                _SENTENCE_VECTORS[sentence] = vector
            while len(_SENTENCE_VECTORS) > _SENTENCE_CACHE_SIZE:
                _SENTENCE_VECTORS.popitem(last=False)
    with _SENTENCE_LOCK:
        return np.stack([_SENTENCE_VECTORS[s] for s in sentences])


def ranked(ev: Evidence, candidates: Sequence[str], most: int = 1) -> list[tuple[str, float]]:
    """The `most` candidate sentences closest in meaning to the shopper's text, with scores."""
    if not candidates:
        return []
    vectors = _sentence_vectors(ev.embedder, candidates)
    query = np.asarray(ev.embedder.embed_query(ev.text), dtype=np.float32)
    scores = (vectors @ query).tolist()
    return sorted(zip(candidates, scores, strict=True), key=lambda p: -p[1])[:most]


# Topics only a section about them can answer.
_ONLY_ITS_OWN = {
    "locations": re.compile(r"\b(stores?|shops?|locations?|showrooms?|visit)\b", re.I),
}


def knowledge_for(
    ev: Evidence,
    topic: str | None,
    query: str,
    limit: int = 300,
    keep: Callable[[Chunk], bool] | None = None,
) -> tuple[Chunk, list[str]] | None:
    """The best chunk for a topic and its most relevant sentences (at most two, in order).

    With `keep`, the best of the few closest chunks that `keep` accepts.
    """
    hits = ev.knowledge.search(query, ev.embedder, topic=topic, limit=1 if keep is None else 4)
    hits = [(c, s) for c, s in hits if keep is None or keep(c)]
    if not hits:
        return None
    chunk, score = hits[0]
    if topic is not None and topic not in chunk.topics and score < 0.35:
        return None
    if (
        topic in _ONLY_ITS_OWN
        and topic not in chunk.topics
        and not _ONLY_ITS_OWN[topic].search(chunk.text)
    ):
        # "a shop in denver?" is not answered by the contact details however close they read.
        return None
    if topic is None and score < 0.35:
        return None
    sentences = chunk.sentences()
    if len(chunk.text) > limit and len(sentences) > 2:
        # The first sentence states the rule; add the one closest to what was asked.
        best = {s for s, _ in ranked(ev, sentences[1:], most=1)}
        sentences = [sentences[0], *[s for s in sentences[1:] if s in best]]
    return chunk, sentences
