"""Answer a shopper's question from evidence: catalog fields, product text, policies, orders.

The answer comes first in the reply, so it is built here from facts only, in the order of
trust: structured fields of the product and its colourways (sizes in stock, colours,
price and compare-at price, rating), then its selling points and description sentences
ranked against the question, then the store's knowledge base, then the shopper's order.
When the evidence does not say, the answer says so and asks whether a person should
follow up. Every string an answer is built from is listed in `Answer.facts`, and every
source in `Answer.sources`, so a check (the output guard, `textcart eval answers`) can
hold the reply to them.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from textcart.answers.knowledge import Chunk, Embedder, KnowledgeBase
from textcart.answers.question import COLOUR_WORDS
from textcart.tools.catalog import Product
from textcart.tools.orders import Order
from textcart.vocabulary.answers import Answer, AnswerStatus, AskedQuestion

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


def money(value: float) -> str:
    """A price as texts print it: "$145" or "$115.95"."""
    return f"${value:,.0f}" if float(value).is_integer() else f"${value:,.2f}"


def model_of(title: str) -> str:
    """The model part of a title ("Women's Ridgeline Trail Runner — Teal" -> before the dash)."""
    return title.rsplit("—", 1)[0].strip()


def colourway(product: Product) -> str:
    """The colourway name of a product ("Lake Blue"), or its colours when the title has none."""
    if "—" in product.title:
        return product.title.rsplit("—", 1)[1].strip()
    return "/".join(product.colors) or product.title


def _join(items: Sequence[str], most: int = 3) -> str:
    items = list(dict.fromkeys(items))
    if len(items) > most:
        rest = len(items) - most
        return f"{', '.join(items[:most])} and {rest} more colour{'s' if rest > 1 else ''}"
    if len(items) <= 2:
        return " and ".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _sizes(sizes: Sequence[str], most: int = 6) -> str:
    shown = list(sizes)
    if len(shown) > most:
        return f"{shown[0]} to {shown[-1]}"
    return ", ".join(shown)


def _sentences(product: Product) -> list[str]:
    """The product's description sentences and selling points, as separate claims."""
    description = [s.strip() for s in re.split(r"(?<=[.!?])\s+", product.description) if s.strip()]
    return [*product.selling_points, *description]


def _low_stock(product: Product) -> str | None:
    """A scarcity line only when few sizes of a sized product are left."""
    sizes, left = product.sizes, product.sizes_in_stock
    if product.in_stock and len(sizes) >= 4 and 0 < len(left) <= max(1, len(sizes) // 4):
        return (
            f"Only {len(left)} size{'s' if len(left) > 1 else ''} left in stock: {', '.join(left)}."
        )
    return None


class _Builder:
    """Collects the answer's sentences together with the evidence behind them."""

    def __init__(self, kind: str, product: Product | None) -> None:
        self.kind = kind
        self.product = product
        self.parts: list[str] = []
        self.facts: list[str] = []
        self.sources: list[str] = []
        self.status: AnswerStatus = "info"

    def use(self, product: Product) -> Product:
        source = f"product:{product.id}"
        if source not in self.sources:
            self.sources.append(source)
            was = product.compare_at_price
            self.facts.append(
                f"{product.title}: {money(product.price)}"
                + (f" (was {money(was)})" if was else "")
                + f"; sizes {', '.join(product.sizes)}"
                + f"; in stock {', '.join(product.sizes_in_stock)}"
            )
        return product

    def chunk(self, chunk: Chunk, sentences: Sequence[str]) -> None:
        self.sources.append(f"knowledge:{chunk.id}")
        self.facts.extend(sentences)
        self.parts.extend(sentences)

    def say(self, sentence: str, status: AnswerStatus | None = None) -> None:
        self.parts.append(sentence)
        if status is not None:
            self.status = status

    def build(self, scarcity: str | None = None) -> Answer:
        product = self.product
        return Answer(
            kind=self.kind,
            status=self.status,
            text=" ".join(self.parts),
            product_id=product.id if product else None,
            product_title=product.title if product else None,
            price=money(product.price) if product else None,
            link=product.url if product else None,
            sources=self.sources,
            facts=self.facts,
            scarcity=scarcity,
        )


def _matches_colour(product: Product, colour: str) -> bool:
    family = COLOUR_WORDS.get(colour, colour)
    name = colourway(product).lower()
    return colour in name.split() or family in product.colors or colour in product.colors


def _in_colour(variants: Sequence[Product], colour: str) -> list[Product]:
    """The colourways named with that colour ("Lavender"), else those of its family."""
    named = [v for v in variants if colour in re.findall(r"[a-z]+", colourway(v).lower())]
    return named or [v for v in variants if _matches_colour(v, colour)]


def _availability(ev: Evidence, q: AskedQuestion, b: _Builder) -> None:
    product = ev.product
    assert product is not None
    variants = list(ev.variants) or [product]
    model = model_of(product.title)
    size, colour = q["size"], q["colour"]
    for v in variants:
        b.use(v)
    chosen = _in_colour(variants, colour) if colour else variants
    if colour and not chosen:
        b.say(
            f"The {model} doesn't come in {colour}; it comes in "
            f"{_join([colourway(v) for v in variants], 4)}.",
            "no",
        )
        return
    if size:
        made = [v for v in chosen if size in v.sizes]
        have = [v for v in chosen if size in v.sizes_in_stock]
        have.sort(key=lambda v: v.id != product.id)
        where = f" in {colourway(chosen[0])}" if colour else ""
        if have:
            b.product = have[0]
            colours = _join([colourway(v) for v in have])
            b.say(f"Yes, the {model} is in stock in {size} in {colours}.", "yes")
            if len(have) == 1 or colour:
                b.say(f"It's {money(have[0].price)}.")
            return
        if not made:
            run = chosen[0].sizes
            b.say(f"The {model}{where} isn't made in {size}; it comes in {_sizes(run)}.", "no")
            advice = _pick(_sentences(product), _FIT_SENTENCE, 1)
            if advice:
                b.facts.extend(advice)
                b.say(_sentence(advice[0]))
                _say_suggestion(ev, b, product, advice)
            return
        b.say(f"Sorry, the {model}{where} is sold out in {size} right now.", "no")
        elsewhere = [v for v in variants if size in v.sizes_in_stock and v not in chosen]
        if elsewhere:
            b.say(f"{size} is in stock in {_join([colourway(v) for v in elsewhere])}.")
            return
        near = _nearest_sizes(chosen[0], size)
        if near:
            b.say(f"The closest sizes in stock are {' and '.join(near)}.")
        return
    in_stock = [v for v in chosen if v.in_stock and (v.sizes_in_stock or not v.sizes)]
    if in_stock:
        v = b.product = in_stock[0]
        sizes = f", in stock in {_sizes(v.sizes_in_stock)}" if v.sizes_in_stock else ""
        b.say(f"Yes, the {model} in {colourway(v)} is in stock ({money(v.price)}){sizes}.", "yes")
        return
    target = chosen[0]
    b.say(f"Sorry, the {model} in {colourway(target)} is sold out right now.", "no")
    others = [v for v in variants if v.in_stock and v not in chosen]
    if others:
        b.say(f"It's in stock in {_join([colourway(v) for v in others])}.")


def _colours(ev: Evidence, b: _Builder) -> None:
    """Every colourway of the model, saying which are sold out."""
    product = ev.product
    assert product is not None
    variants = list({v.id: v for v in [product, *ev.variants]}.values())
    for v in variants:
        b.use(v)
    model = model_of(product.title)
    have = [colourway(v) for v in variants if v.in_stock]
    gone = [colourway(v) for v in variants if not v.in_stock]
    if not have:
        b.say(f"The {model} is sold out in every colour right now ({_join(gone, 6)}).", "no")
        return
    b.say(f"The {model} comes in {_join(have, 6)}, in stock now.", "yes")
    if gone:
        b.say(f"{_join(gone, 4)} {'is' if len(gone) == 1 else 'are'} sold out.")


def _nearest_sizes(product: Product, size: str) -> list[str]:
    try:
        wanted = float(size)
    except ValueError:
        order = ["XXS", "XS", "S", "M", "L", "XL", "XXL"]
        if size not in order:
            return []
        at = order.index(size)
        return [s for s in product.sizes_in_stock if s in order and abs(order.index(s) - at) == 1]
    numeric = []
    for s in product.sizes_in_stock:
        try:
            numeric.append((abs(float(s) - wanted), s))
        except ValueError:
            continue
    return [s for _, s in sorted(numeric)[:2]]


def _price(ev: Evidence, b: _Builder) -> None:
    product = b.use(ev.product)  # type: ignore[arg-type]
    if product.compare_at_price and product.compare_at_price > product.price:
        b.say(
            f"The {product.title} is {money(product.price)} right now, on sale from "
            f"{money(product.compare_at_price)}.",
            "yes",
        )
    elif _ON_SALE.search(ev.text):
        b.say(f"The {product.title} isn't on sale right now: it's {money(product.price)}.", "no")
    else:
        b.say(f"The {product.title} is {money(product.price)}.", "yes")
    cheaper = [
        b.use(v)
        for v in ev.variants
        if v.id != product.id and v.in_stock and v.price < product.price
    ]
    if cheaper:
        v = min(cheaper, key=lambda p: p.price)
        b.say(f"The {colourway(v)} colour is {money(v.price)}.")


_ON_SALE = re.compile(r"on sale|\bsale\b|discount|marked down|deal\b|cheaper", re.IGNORECASE)
_FIT_SENTENCE = re.compile(
    r"true to size|runs? (small|large|big|narrow)|size (up|down)|between sizes|snug|roomy|"
    r"trim fit|relaxed fit|regular fit|wide[- ]fit|toe box|\bcut\b|order .* sizes? (down|up)|"
    r"unisex sizing|fits (most|over)|room for",
    re.IGNORECASE,
)
_SPEC_WORDS: dict[str, re.Pattern[str]] = {
    "weight": re.compile(r"weigh|\d\s?(g|oz)\b", re.I),
    "drop": re.compile(r"\bdrop\b|stack|cushion", re.I),
    "capacity": re.compile(r"\d\s?(l|liters?|litres?|ml)\b|capacity|holds|sleeve|fits a", re.I),
    "brightness": re.compile(r"lumen|beam|\d+\s?m\b", re.I),
    "battery": re.compile(r"\d+\s?h\b|hours?\b|batter|recharg|usb|runtime|charge", re.I),
    "warmth": re.compile(r"warm|fill|insulat|°|degrees|fleece|thermal|rated|cold", re.I),
    "traction": re.compile(r"\blugs?\b|outsole|grip|vibram|traction|spikes", re.I),
    "length": re.compile(r"inseam|\d\s?(in|inch|inches|\")|length|long cut", re.I),
    "pockets": re.compile(r"pocket", re.I),
    "dimensions": re.compile(r"\d\s?(cm|in|mm)\b|dimension", re.I),
}
_MATERIAL_WORDS = re.compile(
    r"merino|nylon|polyester|cotton|wool|leather|recycled|fabric|mesh|down|synthetic|%|"
    r"gore|spandex|elastane|suede|rubber|eva|foam|carbon|aluminum|steel|silicone|knit",
    re.IGNORECASE,
)
_WATER_WORDS = re.compile(
    r"waterproof|water[- ]resistant|water repellent|gore-?tex|\bdwr\b|membrane|taped seams|"
    r"rain|drain|\bwet\b|splash|\d{1,3},\d{3} ?mm|\bipx\d",
    re.IGNORECASE,
)
_CARE_WORDS = re.compile(r"wash|dry|clean|care|odou?r|smell", re.IGNORECASE)


def _pick(sentences: Sequence[str], pattern: re.Pattern[str], most: int = 2) -> list[str]:
    return [s for s in sentences if pattern.search(s)][:most]


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}."


def _claim(product: Product, sentences: Sequence[str]) -> str:
    """The model, then each piece of evidence as it was written, one sentence each."""
    first, *rest = [s.strip().rstrip(".") for s in sentences]
    text = f"The {model_of(product.title)}: {first}."
    return " ".join([text, *(f"{s[:1].upper() + s[1:]}." for s in rest)])


def _unknown(b: _Builder, what: str) -> None:
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


def _ranked(ev: Evidence, candidates: Sequence[str], most: int = 1) -> list[tuple[str, float]]:
    if not candidates:
        return []
    vectors = _sentence_vectors(ev.embedder, candidates)
    query = np.asarray(ev.embedder.embed_query(ev.text), dtype=np.float32)
    scores = (vectors @ query).tolist()
    return sorted(zip(candidates, scores, strict=True), key=lambda p: -p[1])[:most]


def suggested_size(product: Product, text: str, notes: Sequence[str]) -> str | None:
    """The size the product's own sizing note points to for the sizes the shopper said.

    "between a 9 and 9.5" with "go up half a size" -> 9.5; a 9.5 with "whole sizes only;
    size up" -> 10; a women's 8.5 with "women usually order 1.5 sizes down" -> 7. Only a
    size in the product's size run is suggested.
    """
    said = re.findall(r"(?<![\d.$])(\d{1,2}(?:\.5)?)(?![\d%])", text)
    advice = " ".join(notes).lower()

    def in_run(value: float) -> str | None:
        size = f"{value:g}"
        return size if size in product.sizes else None

    if len(said) >= 2 and re.search(r"between", text, re.IGNORECASE):
        low, high = sorted(float(x) for x in said[:2])
        if re.search(r"go up|size up", advice):
            return in_run(high)
        if re.search(r"go down|size down", advice):
            return in_run(low)
    if not said:
        return None
    size = float(said[0])
    shift = re.search(r"women usually order (\d(?:\.5)?) sizes? (down|up)", advice)
    if shift and re.search(r"\bwom[ae]n", text, re.IGNORECASE):
        step = float(shift.group(1))
        return in_run(size - step if shift.group(2) == "down" else size + step)
    if size % 1 and re.search(r"half size, size up|whole sizes only", advice):
        return in_run(size + 0.5)
    return None


def _say_suggestion(ev: Evidence, b: _Builder, product: Product, notes: Sequence[str]) -> bool:
    """Say the size the notes point to and whether it is in stock; False when none."""
    size = suggested_size(product, ev.text, notes)
    if size is None:
        return False
    in_size = [v for v in (ev.variants or [product]) if size in v.sizes_in_stock]
    for v in in_size:
        b.use(v)
    stock = (
        f" It's in stock in {_join([colourway(v) for v in in_size])}."
        if in_size
        else " It's sold out in every colour right now."
    )
    b.say(f"So go with a {size}.{stock}")
    return True


def _fit(ev: Evidence, q: AskedQuestion, b: _Builder) -> None:
    product = b.use(ev.product)  # type: ignore[arg-type]
    notes = _pick(_sentences(product), _FIT_SENTENCE)
    width = re.search(r"\b(wide|narrow)\b", ev.text, re.IGNORECASE)
    if width and not any(width.group(1).lower() in n.lower() for n in notes):
        # Asked about a width the product text never mentions: say so, then what it does say.
        b.say(
            f"The {model_of(product.title)} isn't listed in a {width.group(1).lower()} fit.", "no"
        )
    if notes:
        b.facts.extend(notes)
        b.say(_claim(product, notes), "info")
        if _say_suggestion(ev, b, product, notes):
            return
    else:
        guide = _kb(ev, "sizing", f"{product.category} sizing fit")
        if guide is None:
            _unknown(b, f"fit notes for the {model_of(product.title)}")
            return
        chunk, sentences = guide
        b.say(f"The product info has no fit notes for the {model_of(product.title)}.")
        b.chunk(chunk, sentences[-1:])
    usual = "shoe_size" if product.category.startswith("footwear") else "apparel_size"
    size = q["size"] or ev.said_size or ev.preferences.get(usual)
    if size and product.sizes:
        in_size = [v for v in (ev.variants or [product]) if size in v.sizes_in_stock]
        for v in in_size:
            b.use(v)
        if in_size:
            b.say(f"{size} is in stock in {_join([colourway(v) for v in in_size])}.")
        elif size in product.sizes:
            b.say(f"{size} is sold out in every colour right now.")


def _spec(ev: Evidence, q: AskedQuestion, b: _Builder, pattern: re.Pattern[str], what: str) -> None:
    product = b.use(ev.product)  # type: ignore[arg-type]
    found = _pick(_sentences(product), pattern)
    number = _NUMBER_IN.get(what, re.compile(r"\d"))
    if found and _ASKS_A_NUMBER.search(ev.text) and not any(number.search(f) for f in found):
        # "how many hours does it last?" is not answered by "rechargeable over USB-C".
        _unknown(b, f"the {_NUMBER_OF.get(what, what)} of the {model_of(product.title)}")
        return
    if not found:
        _unknown(b, f"the {what} of the {model_of(product.title)}")
        return
    b.facts.extend(found)
    b.say(_claim(product, found), "info")


_ASKS_A_NUMBER = re.compile(
    r"how (many|much|long|heavy|bright|far|cold)|\b(hrs|hours|minutes|lumens|grams|"
    r"oz|ounces|liters?|litres?|degrees|mm)\b|\brating\b|\btemps?\b",
    re.IGNORECASE,
)
_NUMBER_IN = {
    "battery": re.compile(r"\d\s?(h|hrs?|hours?)\b", re.IGNORECASE),
    "warmth": re.compile(r"-?\d+\s?°|\d+\s?degrees", re.IGNORECASE),
    "weight": re.compile(r"\d\s?(g|kg|oz|lbs?)\b", re.IGNORECASE),
    "brightness": re.compile(r"\d+\s?lumens?", re.IGNORECASE),
}
_NUMBER_OF = {"battery": "battery life", "warmth": "temperature rating", "weight": "weight"}


def _waterproof(ev: Evidence, b: _Builder) -> None:
    product = b.use(ev.product)  # type: ignore[arg-type]
    found = _pick(_sentences(product), _WATER_WORDS)
    b.facts.extend(found)
    said = " ".join(found).lower()
    model = model_of(product.title)
    if (
        re.search(r"(?<!not )(?<!not fully )waterproof|gore-?tex", said)
        and "not waterproof" not in said
    ):
        b.say(f"Yes, it's waterproof. {_claim(product, found)}", "yes")
    elif re.search(r"water[- ]resistant|water repellent|dwr|splash", said):
        b.say(f"It's water-resistant rather than waterproof: {_claim(product, found)}", "partly")
    elif found:
        b.say(f"The {model} isn't listed as waterproof. {_claim(product, found)}", "no")
    else:
        b.say(f"The {model} isn't listed as waterproof or water-resistant.", "no")


def _suitability(ev: Evidence, q: AskedQuestion, b: _Builder) -> None:
    product = b.use(ev.product)  # type: ignore[arg-type]
    keyed, ranked = _relevant(ev, _sentences(product), [product.title], most=2)
    best = [s for s, score in ranked if score >= 0.25 or keyed][:2]
    if not best:
        _unknown(b, "that detail")
        return
    b.facts.extend(best)
    negative = any(re.search(r"\bnot\b|n't|avoid|isn't", s, re.I) for s in best)
    b.say(_claim(product, best), "no" if negative else "info")


def _shares_word(asked: set[str], sentence: str) -> bool:
    """A word of the question in the sentence, allowing endings ("muddy" and "mud")."""
    said = set(re.findall(r"[a-z]{3,}", sentence.lower()))
    return any(a.startswith(w) or w.startswith(a) for a in asked for w in said)


def _relevant(
    ev: Evidence, sentences: Sequence[str], names: Sequence[str], most: int
) -> tuple[list[str], list[tuple[str, float]]]:
    """Sentences sharing a telling word with the question, ranked by meaning (else all)."""
    named = {w for title in names for w in re.findall(r"[a-z]{3,}", title.lower())}
    asked = {w for w in re.findall(r"[a-z]{3,}", ev.text.lower())} - _STOP - named
    asked |= {alike for w in asked for alike in _ALIKE.get(w, ())}
    keyed = [s for s in sentences if asked and _shares_word(asked, s)]
    return keyed, _ranked(ev, keyed or sentences, most=most)


# Words a product's own sentences use for what shoppers say: running in a parka is
# "active use", a downpour is about water.
_ALIKE: dict[str, tuple[str, ...]] = {
    "running": ("active", "run"),
    "jogging": ("active", "running"),
    "workout": ("active",),
    "exercise": ("active",),
    "hiking": ("hike", "trail", "active"),
    "rain": ("water", "wet", "waterproof"),
    "rainy": ("water", "wet", "waterproof"),
    "downpour": ("water", "wet", "waterproof", "rain"),
    "wet": ("water", "waterproof", "rain"),
    "freezing": ("cold", "warm", "winter"),
    "cold": ("warm", "winter"),
    "snow": ("winter", "cold"),
    "night": ("lumens", "beam", "bright"),
    "dark": ("lumens", "beam", "bright"),
    "muddy": ("mud", "lugs", "grip"),
    "mud": ("lugs", "grip"),
}
_WATERY = re.compile(r"\b(rain\w*|wet|water\w*|downpour|puddles?)\b", re.IGNORECASE)
_STOP = frozenset(
    "the and for are you your does this that with will would can could have has what how "
    "good okay work enough them they these those its it's about just really very any some "
    "shoe shoes boot boots jacket pair one ones get got need want like difference "
    "thinking pick choice mens womens men women worth paying more super whats which "
    "should order size".split()
)


def _care(ev: Evidence, b: _Builder) -> None:
    product = ev.product
    own = _pick(_sentences(product), _CARE_WORDS) if product else []
    if product is not None and own:
        b.use(product)
        b.facts.extend(own)
        b.say(_claim(product, own))
    hint = f"{product.title} {product.category}" if product else ""
    guide = _kb(ev, "care", f"{ev.text} {hint}")
    if guide is not None:
        b.chunk(*guide)
    elif not own:
        _unknown(b, "care instructions for that")


def _comparison(ev: Evidence, q: AskedQuestion, b: _Builder) -> None:
    products = [p for p in [ev.product, *ev.others] if p is not None]
    unique = list({model_of(p.title): p for p in products}.values())[:2]
    if len(unique) < 2:
        if ev.product is not None:
            _spec(ev, q, b, _SPEC_WORDS.get(q["topic"] or "", re.compile(".")), "details")
        return
    pattern = _SPEC_WORDS.get(q["topic"] or "")
    if pattern is None and _WATERY.search(ev.text):
        # "which one for heavy rain?" compares what each says about water.
        pattern = _WATER_WORDS
    titles = [p.title for p in unique]
    for product, other in ((unique[0], unique[1]), (unique[1], unique[0])):
        b.use(product)
        keyed, ranked = _relevant(ev, _sentences(product), titles, most=1)
        if pattern:
            points = _pick(_sentences(product), pattern, 1)
        elif keyed:
            # "mudlark or ridgeline for muddy trails": each one's line about mud.
            points = [s for s, _ in ranked]
        else:
            # "what's the difference?": what one has that the other does not.
            points = [p for p in product.selling_points if p not in other.selling_points][:1]
        b.facts.extend(points)
        detail = f": {points[0].rstrip('.')}" if points else ""
        b.say(f"The {model_of(product.title)} is {money(product.price)}{detail}.")


def _kb(
    ev: Evidence, topic: str | None, query: str, limit: int = 300
) -> tuple[Chunk, list[str]] | None:
    """The best chunk for a topic and its most relevant sentences (at most two, in order)."""
    hits = ev.knowledge.search(query, ev.embedder, topic=topic, limit=1)
    if not hits:
        return None
    chunk, score = hits[0]
    if topic is not None and topic not in chunk.topics and score < 0.35:
        return None
    if topic is None and score < 0.35:
        return None
    sentences = chunk.sentences()
    if len(chunk.text) > limit and len(sentences) > 2:
        # The first sentence states the rule; add the one closest to what was asked.
        best = {s for s, _ in _ranked(ev, sentences[1:], most=1)}
        sentences = [sentences[0], *[s for s in sentences[1:] if s in best]]
    return chunk, sentences


def _policy(ev: Evidence, q: AskedQuestion, b: _Builder) -> None:
    """Each policy topic asked about (at most two: "how much is shipping and how long?")."""
    topics: list[str | None] = [*q["topics"][:2]] or [q["topic"]]
    limit = 300 if len(topics) == 1 else 140
    found = [f for topic in topics if (f := _kb(ev, topic, ev.text, limit))]
    if not found:
        _unknown(b, "that in our store policies")
        return
    seen: set[str] = set()
    for chunk, sentences in found:
        if chunk.id not in seen:
            seen.add(chunk.id)
            b.chunk(chunk, _applies_first(sentences, ev.text))
    b.status = "info"


_AMOUNT = re.compile(r"\$\s?(\d+(?:\.\d\d)?)|(\d+(?:\.\d\d)?)\s?(?:dollars|bucks)", re.I)
_THRESHOLD = re.compile(r"\b(over|under|above|below)\s+\$(\d+(?:\.\d\d)?)", re.IGNORECASE)


def _applies_first(sentences: list[str], text: str) -> list[str]:
    """With an amount in the text ("shipping on a $40 order?"), the rule for it goes first.

    A sentence about orders "under $75" applies to $40, one about orders "over $75" does
    not: the one that applies is said first, the other after it.
    """
    said = _AMOUNT.search(text)
    if not said:
        return sentences
    amount = float(said.group(1) or said.group(2))

    def applies(sentence: str) -> bool:
        rule = _THRESHOLD.search(sentence)
        if rule is None:
            return False
        bound = float(rule.group(2))
        return amount > bound if rule.group(1).lower() in ("over", "above") else amount < bound

    return sorted(sentences, key=lambda s: not applies(s))


def _cite_order(ev: Evidence, b: _Builder, order: Order) -> str:
    """Record the order as evidence; returns " (its items)" for the answer's sentences."""
    b.sources.append(f"order:{order.order_id}")
    items = [ev.order_titles.get(i, "") for i in order.item_ids]
    what = f" ({_join([i for i in items if i])})" if any(items) else ""
    b.facts.append(f"Order {order.order_id}{what}: {order.status}")
    return what


def _order_return(ev: Evidence, q: AskedQuestion, b: _Builder) -> None:
    order, policies = ev.order, ev.knowledge.policies
    if order is None:
        _policy(ev, q, b)
        return
    what = _cite_order(ev, b, order)
    if q["topic"] == "packaging":
        _policy(ev, q, b)
        return
    days = order.delivered_days_ago
    window = policies.return_window_days
    if order.status == "delivered" and days is not None:
        b.facts.append(f"delivered {days} days ago; return window {window} days")
        if days <= window:
            b.say(
                f"Yes: order {order.order_id}{what} was delivered {days} days ago, so it's "
                f"inside our {window}-day return window.",
                "yes",
            )
        else:
            b.say(
                f"Order {order.order_id}{what} was delivered {days} days ago, past our "
                f"{window}-day return window.",
                "no",
            )
            return
    elif order.status in ("processing", "shipped"):
        b.say(
            f"Order {order.order_id}{what} hasn't been delivered yet; you'll have {window} days "
            "from delivery to return it.",
            "info",
        )
        return
    elif order.status == "returned":
        b.say(f"Order {order.order_id}{what} is already marked as returned.", "info")
        return
    b.facts.append(f"returns: {policies.returns_url}")
    topic = "exchanges" if q["topic"] == "exchanges" else "returns"
    found = _kb(ev, topic, ev.text)
    how = [s for s in found[0].sentences() if policies.returns_url in s] if found else []
    if found and how:
        # How to start it, in the store's own words ("free within 60 days", the link).
        b.chunk(found[0], how[:1])
    else:
        _cite(ev, b, topic)
        verb = "exchange" if topic == "exchanges" else "return"
        b.say(f"Start the {verb} at {policies.returns_url}.")


def _cite(ev: Evidence, b: _Builder, topic: str) -> None:
    """Name the knowledge section an order answer's rule comes from (no sentence added)."""
    hits = ev.knowledge.search(topic, ev.embedder, topic=topic, limit=1)
    if hits and topic in hits[0][0].topics:
        b.sources.append(f"knowledge:{hits[0][0].id}")


def _order_change(ev: Evidence, q: AskedQuestion, b: _Builder) -> None:
    order, policies = ev.order, ev.knowledge.policies
    if order is None:
        _policy(ev, q, b)
        return
    what = _cite_order(ev, b, order)
    if order.status in policies.changeable_statuses:
        _cite(ev, b, "cancel")
        b.say(
            f"Yes, order {order.order_id}{what} hasn't shipped yet, so it can still be "
            f"changed. {FOLLOW_UP}",
            "yes",
        )
        return
    b.facts.append(
        f"exchanges and returns within {policies.return_window_days} days: {policies.returns_url}"
    )
    _cite(ev, b, "cancel")
    _cite(ev, b, "exchanges")
    done = "shipped" if order.status == "shipped" else f"been {order.status}"
    b.say(f"Order {order.order_id}{what} has already {done}, so it can't be changed now.", "no")
    if order.status in ("shipped", "delivered"):
        b.say(
            f"Once you have it, you can exchange it within {policies.return_window_days} days "
            f"at {policies.returns_url}."
        )


def find_answer(q: AskedQuestion, ev: Evidence) -> Answer | None:
    """The answer to `q` from the evidence, or None when there is nothing to answer.

    A product question with no product named gets None: the turn is then a recommendation
    or a clarifying question.
    """
    kind = q["kind"]
    product = ev.product
    b = _Builder(kind, product)
    if kind == "policy":
        _policy(ev, q, b)
    elif kind == "order_return":
        _order_return(ev, q, b)
    elif kind == "order_change":
        _order_change(ev, q, b)
    elif kind == "care":
        _care(ev, b)
    elif product is None:
        return None
    elif kind == "colours":
        _colours(ev, b)
    elif kind in ("availability", "stock"):
        _availability(ev, q, b)
    elif kind == "price":
        _price(ev, b)
    elif kind == "fit":
        _fit(ev, q, b)
    elif kind == "spec":
        topic = q["topic"] or ""
        _spec(ev, q, b, _SPEC_WORDS.get(topic, re.compile(r"$^")), topic or "spec")
    elif kind == "material":
        _spec(ev, q, b, _MATERIAL_WORDS, "materials")
    elif kind == "waterproof":
        _waterproof(ev, b)
    elif kind == "suitability":
        _suitability(ev, q, b)
    elif kind == "comparison":
        _comparison(ev, q, b)
    if not b.parts:
        return None
    return b.build(_low_stock(product) if product is not None and b.status == "yes" else None)


def unanswerable(kind: str, text: str) -> Answer:
    """An answer that says plainly why this text can't be answered from evidence."""
    return Answer(
        kind=kind,
        status="unknown",
        text=text,
        product_id=None,
        product_title=None,
        price=None,
        link=None,
        sources=[],
        facts=[],
        scarcity=None,
    )
