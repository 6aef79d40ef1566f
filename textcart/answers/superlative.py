"""Which of a kind of product is the most something: "which trail shoe has the most cushion".

The kind is the words between "which" and the verb ("trail shoe"); every product whose
title and category hold those words is a candidate. Each is measured by the number its
own sentences give for the spec asked (stack height for cushion, grams for weight, lumens,
litres, the temperature rating, the price), and the best is named with the sentence that
says it. A product whose sentences give no number is left out; when fewer than two
products can be measured, no answer is made here and the turn goes on as before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from textcart.answers.common import Builder, model_of, price_text, sentences_of
from textcart.answers.details import temperature
from textcart.rules.references import stem
from textcart.tools.catalog import Catalog, Product, SearchFilters
from textcart.vocabulary.answers import Answer

# "which trail shoe has the most cushion", "what's the lightest daypack you have",
# "which of ur headlamps is brightest".
_WHICH = re.compile(
    r"\b(?:which|what(?:'?s| is)?)\s+(?:(?:one|1) of\s+)?(?:of\s+)?(?:your|ur|the|yalls?)?\s*"
    r"((?:[a-z-]+\s+){0,3}?[a-z-]+?)\s+(?:has|have|got|gives?|is|are|r|'s|would|will)\b"
    r"|\b(?:what(?:'?s| is)?|which is)\s+(?:the|ur|your)\s+"
    r"(?:most|least|light|heav|warm|bright|big|larg|cheap|small)\w*\s+((?:[a-z-]+\s+){0,2}[a-z-]+)",
    re.IGNORECASE,
)
_NOT_KIND = frozenset(
    "one ones of your the yall yalls you have has got most least best these those them".split()
)


@dataclass(frozen=True)
class _Measure:
    spec: str  # said in the answer: "has the most cushion"
    sentence: re.Pattern[str]  # the product sentence that holds the number
    value: Callable[[str], float | None]
    highest: bool  # the best is the highest value (else the lowest)


def _number(
    pattern: str, scale: Callable[[float, str], float] = lambda v, _: v
) -> Callable[[str], float | None]:
    compiled = re.compile(pattern, re.IGNORECASE)

    def read(sentence: str) -> float | None:
        found = compiled.search(sentence)
        if found is None:
            return None
        unit = found.group(2) if compiled.groups >= 2 else ""
        return scale(float(found.group(1)), (unit or "").lower())

    return read


def _grams(value: float, unit: str) -> float:
    return value * {"kg": 1000.0, "oz": 28.35, "lb": 453.6, "lbs": 453.6}.get(unit, 1.0)


def _rating(sentence: str) -> float | None:
    said = temperature(sentence)
    return None if said is None else -said  # the warmest is rated to the lowest temperature


_STACK = _Measure(
    "has the most cushion",
    re.compile(r"\d+\s?mm (?:stack|heel)", re.I),
    _number(r"(\d+)\s?mm (?:stack|heel)"),
    highest=True,
)
_MEASURES: list[tuple[re.Pattern[str], _Measure]] = [
    (
        re.compile(
            r"\b(most|max(imum)?) (cushion\w*|stack|plush|padding)|\bplushest\b"
            r"|\bmost cushioned\b",
            re.I,
        ),
        _STACK,
    ),
    (
        re.compile(r"\blightest\b|\bleast heavy\b", re.I),
        _Measure(
            "is the lightest",
            re.compile(r"\d\s?(g|kg|oz)\b", re.I),
            _number(r"(\d+(?:\.\d+)?)\s?(g|kg|oz)\b", _grams),
            highest=False,
        ),
    ),
    (
        re.compile(r"\bbrightest\b|\bmost lumens\b", re.I),
        _Measure(
            "is the brightest",
            re.compile(r"\d+\s?lumens", re.I),
            _number(r"(\d+)\s?(lumens)"),
            highest=True,
        ),
    ),
    (
        re.compile(r"\b(biggest|largest|most (room|space|capacity))\b", re.I),
        _Measure(
            "has the most room",
            re.compile(r"\d+\s?(l|liters?|litres?)\b", re.I),
            _number(r"(\d+(?:\.\d+)?)\s?(l|liters?|litres?)\b"),
            highest=True,
        ),
    ),
    (
        re.compile(r"\bwarmest\b", re.I),
        _Measure(
            "is rated the warmest",
            re.compile(r"-?\d+\s?°|\d+\s?degrees", re.I),
            _rating,
            highest=True,
        ),
    ),
]


def superlative_asked(text: str) -> tuple[str, _Measure] | None:
    """(the kind's words, what is measured) when the text asks which one is the most."""
    measure = next((m for pattern, m in _MEASURES if pattern.search(text)), None)
    if measure is None:
        return None
    for said in _WHICH.finditer(text.lower()):
        phrase = said.group(1) or said.group(2) or ""
        words = [
            w
            for w in re.findall(r"[a-z]+", phrase)
            if w not in _NOT_KIND and len(w) > 2 and not w.endswith("est")  # "lightest"
        ]
        if words:
            return " ".join(words), measure
    return None


def _holds(kind: list[str], product: Product) -> bool:
    # The model, not its colourway: a "Trail Orange" road shoe is no trail shoe.
    said = " ".join([model_of(product.title), product.category]).lower()
    words = {stem(w) for w in re.findall(r"[a-z]+", said)}
    return all(w in words for w in kind)


def _measured(product: Product, measure: _Measure) -> tuple[float, str] | None:
    for sentence in sentences_of(product):
        if measure.sentence.search(sentence) and (value := measure.value(sentence)) is not None:
            return value, sentence
    return None


async def superlative_answer(catalog: Catalog, text: str) -> Answer | None:
    """The answer to "which X is the most Y" from the catalog, or None."""
    asked = superlative_asked(text)
    if asked is None:
        return None
    phrase, measure = asked
    kind = [stem(w) for w in phrase.split()]
    found = await catalog.search(phrase, None, SearchFilters(in_stock_only=False), limit=200)
    candidates = {
        model_of(hit.product.title): hit.product for hit in found if _holds(kind, hit.product)
    }
    measured = [
        (value, sentence, product)
        for product in candidates.values()
        if (got := _measured(product, measure)) is not None
        for value, sentence in [got]
    ]
    if len(measured) < 2:
        return None
    value, sentence, best = max(measured, key=lambda m: m[0] if measure.highest else -m[0])
    b = Builder("superlative", best)
    b.use(best)
    for _, _, other in measured:
        b.use(other)
    b.facts.append(sentence)
    kind_said = phrase if phrase.endswith("s") else f"{phrase}s"
    b.say(
        f"Of our {kind_said}, the {model_of(best.title)} {measure.spec}: "
        f"{sentence.rstrip('.')}. It's {price_text(best)}.",
        "yes",
    )
    return b.build()
