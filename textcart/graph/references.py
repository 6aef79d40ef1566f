"""Which recommended product a shopper means by "the first one" or "the cheaper one".

The store remembers the products it last put in front of the shopper, in the order the
reply listed them (`TurnState.recommended`). A text that points into that list by position
("the second one", "#2", "the last one"), by price ("the cheaper one", "the priciest"),
by rating ("the best rated") or by colour ("the blue one") resolves to one of them. The
list is only used while it is fresh: texts long after it refer to something else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from textcart.graph.personalise import COLOURS
from textcart.graph.state import ProductCard, Recommended

FRESH_FOR = timedelta(hours=24)

_POSITION_WORDS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "last": -1,
}  # fmt: skip
_THING = r"(?:one|ones|pair|option|pick|choice|model)"
_POSITION = re.compile(
    rf"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|last)\s+{_THING}\b"
    r"|(?:#|\bnumber\s+|\boption\s+)([1-3])\b",
    re.IGNORECASE,
)
_CHEAPER = re.compile(
    rf"\b(?:the\s+)?(?:cheaper|cheapest|less expensive|least expensive|lower[- ]priced)"
    rf"(?:\s+{_THING})?\b",
    re.IGNORECASE,
)
_PRICIER = re.compile(
    rf"\b(?:the\s+)?(?:pricier|priciest|more expensive|most expensive|higher[- ]priced)"
    rf"(?:\s+{_THING})?\b",
    re.IGNORECASE,
)
_RATED = re.compile(
    r"\b(?:the\s+)?(?:best|better|top|highest|higher)[- ]rated\b(?:\s+one)?", re.IGNORECASE
)
_COLOUR_ONE = re.compile(rf"\bthe\s+([a-z]+)\s+{_THING}\b", re.IGNORECASE)


def _by(
    key: Callable[[ProductCard], float], highest: bool
) -> Callable[[Sequence[ProductCard]], ProductCard]:
    def pick(products: Sequence[ProductCard]) -> ProductCard:
        return (max if highest else min)(products, key=key)

    return pick


def _fresh(recommended: Recommended | None, now: datetime) -> list[ProductCard]:
    if not recommended or not recommended["products"]:
        return []
    try:
        at = datetime.fromisoformat(recommended["at"])
    except ValueError:
        return []
    if at.tzinfo is None or now.tzinfo is None:
        at, now = at.replace(tzinfo=None), now.replace(tzinfo=None)
    return list(recommended["products"]) if now - at <= FRESH_FOR else []


def resolve_reference(
    text: str | None, recommended: Recommended | None, now: datetime
) -> tuple[ProductCard, str] | None:
    """The recommended product the text points at, with the words that pointed; or None."""
    products = _fresh(recommended, now)
    if not text or not products:
        return None
    if match := _POSITION.search(text):
        word, digit = match.group(1), match.group(2)
        index = _POSITION_WORDS[word.lower()] if word else int(digit) - 1
        if -len(products) <= index < len(products):
            return products[index], match.group(0).strip()
        return None
    priced = [p for p in products if p["price"] is not None]
    for pattern, pick in (
        (_CHEAPER, _by(lambda p: p["price"], highest=False)),
        (_PRICIER, _by(lambda p: p["price"], highest=True)),
    ):
        if (match := pattern.search(text)) and len(priced) > 1:
            return pick(priced), match.group(0).strip()
    rated = [p for p in products if p["rating"] is not None]
    if (match := _RATED.search(text)) and len(rated) > 1:
        return _by(lambda p: float(p["rating"] or 0), highest=True)(rated), match.group(0).strip()
    for match in _COLOUR_ONE.finditer(text):
        colour = match.group(1).lower()
        if colour not in COLOURS:
            continue
        # A colourway is named after the dash in the title: "Trail Runner — Lake Blue".
        named = [p for p in products if colour in p["title"].rsplit("—", 1)[-1].lower().split()]
        if len(named) == 1:
            return named[0], match.group(0).strip()
    return None


def model_name(title: str) -> str:
    """The model part of a title, before the colourway: "Trail Runner — Lake Blue"."""
    return title.rsplit("—", 1)[0].strip()


def colourway_reference(
    text: str | None, recommended: Recommended | None, now: datetime
) -> tuple[str, str, str] | None:
    """("the charcoal one", the colour, the model under discussion) for a colour reference.

    The store's first recommendation is the product being discussed; "the charcoal one"
    about it means that model in charcoal, even if charcoal was never shown.
    """
    products = _fresh(recommended, now)
    if not text or not products:
        return None
    for match in _COLOUR_ONE.finditer(text):
        colour = match.group(1).lower()
        if colour in COLOURS:
            return match.group(0).strip(), colour, model_name(products[0]["title"])
    return None
