"""Two models side by side: the price of each and its line on what was asked."""

from __future__ import annotations

import re

from textcart.answers.common import (
    Builder,
    Evidence,
    model_of,
    money,
    pick,
    price_text,
    sentences_of,
)
from textcart.answers.details import (
    SPEC_WORDS,
    WATER_WORDS,
    drop_or_stack,
    relevant,
    spec,
)
from textcart.tools.catalog import Product
from textcart.vocabulary.answers import AskedQuestion

_WATERY = re.compile(r"\b(rain\w*|wet|water\w*|downpour|puddles?)\b", re.IGNORECASE)
_DIFFERENT = re.compile(r"\b(what'?s|whats|how'?s|hows|what is|how is) (\w+ )?different\b", re.I)
# "whats the price diff": the prices; "whats different besides the price" is not.
_PRICE_ONLY = re.compile(
    r"(?<!besides the )(?<!except the )(?<!other than the )(?<!apart from the )"
    r"(?<!besides )(?<!except )(?<!other than )(?<!apart from )"
    r"\b(price|prices|cost|costs|cheaper|pricier|more expensive|how much)\b",
    re.IGNORECASE,
)


def comparison(ev: Evidence, q: AskedQuestion, b: Builder) -> None:
    """Two models side by side: price and the line each has on what was asked."""
    products = [p for p in [ev.product, *ev.others] if p is not None]
    unique = list({model_of(p.title): p for p in products}.values())[:2]
    if len(unique) < 2:
        if ev.product is not None:
            spec(ev, q, b, SPEC_WORDS.get(q["topic"] or "", re.compile(".")), "details")
        return
    # Up to two specs compared: "which is brighter and how much heavier".
    topics = [t for t in (q["topics"] or [q["topic"] or ""]) if t in SPEC_WORDS][:2]
    patterns = [(t, SPEC_WORDS[t]) for t in topics]
    if not patterns and _WATERY.search(ev.text):
        # "which one for heavy rain?" compares what each says about water.
        patterns = [("water", WATER_WORDS)]
    titles = [p.title for p in unique]
    for product, other in ((unique[0], unique[1]), (unique[1], unique[0])):
        b.use(product)
        keyed, scored = relevant(ev, sentences_of(product), titles, most=1)
        if _PRICE_ONLY.search(ev.text) and not patterns:
            # "whats the price diff between x and y": the two prices, nothing to crowd them.
            points: list[str] = []
        elif patterns:
            points = []
            for topic, pattern in patterns:
                # "which has the taller stack?" is answered by "38 mm stack" first.
                matching = pick(sentences_of(product), pattern, most=6)
                if topic == "drop":
                    matching = drop_or_stack(ev.text, matching)[0]
                best = sorted(matching, key=lambda s: not re.search(r"\d", s))[:1]
                points += [s for s in best if s not in points]
        elif _DIFFERENT.search(ev.text):
            # "whats actually different besides the price": what each has the other lacks.
            points = [p for p in product.selling_points if p not in other.selling_points][:2]
        elif keyed:
            # "mudlark or ridgeline for muddy trails": each one's line about mud.
            points = [s for s, _ in scored]
        elif mentions := _mentions(product, other):
            # "ridgeline vs ridgeline gtx": the store's own words comparing them ("on hot
            # summer days the regular Ridgeline breathes better").
            points = mentions
        else:
            # "what's the difference?": what one has that the other does not.
            points = [p for p in product.selling_points if p not in other.selling_points][:1]
        if not patterns and not _PRICE_ONLY.search(ev.text) and _is_version_of(product, other):
            # "ridgeline vs ridgeline gtx, worth the extra?": what the version adds, first.
            # Then the store's own words on the trade-off ("the regular Ridgeline breathes
            # better"), else what else was found.
            adds = [p for p in product.selling_points if p not in other.selling_points][:1]
            trade = _mentions(product, other)[-1:] or [p for p in points if p not in adds][:1]
            points = adds + [p for p in trade if p not in adds]
        b.facts.extend(points)
        said = [p.rstrip(".") for p in points]
        said = said[:1] + [p[:1].upper() + p[1:] for p in said[1:]]
        detail = f": {'. '.join(said)}" if said else ""
        was = product.compare_at_price
        sale = (
            f" (on sale from {money(was, product.currency)})" if was and was > product.price else ""
        )
        b.say(f"The {model_of(product.title)} is {price_text(product)}{sale}{detail}.")
    if "weight" in topics and (verdict := _lighter(ev.text, unique[0], unique[1])):
        # "which one is lighter": the answer first, when both weigh in the same size.
        b.parts.insert(0, verdict)


_WEIGHS = re.compile(r"(\d+(?:\.\d+)?)\s?(g|kg|oz)\b[^()]*(\([^)]*\))?", re.IGNORECASE)


def _lighter(text: str, first: Product, second: Product) -> str | None:
    """The verdict "The X is lighter: 198 g against 285 g", when both weigh in one size."""
    weights = []
    for product in (first, second):
        said = next((m for s in sentences_of(product) if (m := _WEIGHS.search(s))), None)
        if said is None or "weigh" not in said.string.lower():
            return None
        weights.append((float(said.group(1)), said.group(2).lower(), said.group(3) or "", said))
    (a, unit_a, size_a, said_a), (b, unit_b, size_b, said_b) = weights
    if unit_a != unit_b or a == b or size_a.lower() != size_b.lower():
        return None  # different units or sizes weighed: no verdict drawn
    heavier = bool(re.search(r"\bheav", text, re.IGNORECASE))
    pick_first = (a > b) if heavier else (a < b)
    winner, one, other = (first, said_a, said_b) if pick_first else (second, said_b, said_a)
    word = "heavier" if heavier else "lighter"
    return (
        f"The {model_of(winner.title)} is {word}: {one.group(1)} {one.group(2)} against "
        f"{other.group(1)} {other.group(2)}."
    )


def _mentions(product: Product, other: Product) -> list[str]:
    """The product's description sentences that speak of the other model, at most two.

    A model that is a version of the other ("Ridgeline GTX" of the "Ridgeline") speaks of
    it by its name ("the regular Ridgeline breathes better"); the other way round, by the
    word that sets the version apart ("GTX").
    """
    own, theirs = _model_words(product), _model_words(other)
    if not own or not theirs:
        return []
    if set(theirs) < set(own):
        keys = theirs[:1]
    else:
        keys = [w for w in theirs if w not in own] if set(own) < set(theirs) else theirs[:1]
    description = [s.strip() for s in re.split(r"(?<=[.!?])\s+", product.description)]
    return [s for s in description if any(re.search(rf"\b{k}\b", s, re.I) for k in keys)][:2]


def _model_words(product: Product) -> list[str]:
    title = re.sub(r"^(men's|women's|unisex)\s+", "", model_of(product.title), flags=re.I)
    return re.findall(r"[a-z0-9]{3,}", title.lower())


def _is_version_of(product: Product, other: Product) -> bool:
    """True when the product's model is the other's with words added ("Ridgeline GTX")."""
    own, theirs = set(_model_words(product)), set(_model_words(other))
    return bool(theirs) and theirs < own
