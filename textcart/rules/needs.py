"""What the shopper said they need in this text: budget and size, read deterministically.

A stated budget or size is a hard constraint on retrieval, so it is parsed by rules that can
be tested, not guessed by a model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypedDict, TypeVar

from textcart.vocabulary.records import ShopperNeeds

_BUDGET = re.compile(
    r"(?:under|below|less than|max|at most|up to|no more than|<)\s*\$?\s*(\d{2,4})"
    r"|\$\s*(\d{2,4})\s*(?:max|or less|budget|tops)"
    r"|budget (?:is |of )?(?:about |around )?\$?\s*(\d{2,4})",
    re.IGNORECASE,
)
_SHOE_SIZE = re.compile(
    r"\b(?:size|sz|in an?|an?|(?:men|women|wmn)'?s)\s*(\d{1,2}(?:\.5)?)\b"
    r"(?!\s*(?:%|dollars|bucks|\$|mm|cm|g\b|oz|l\b|lb|inch|\"|km|mi|-?days?\b|-?hrs?\b|hours?\b|"
    r"-?miles?\b|k\b|-?person\b|-?weeks?\b|months?\b|years?\b|mins?\b|-?nights?\b))"
    # A bare half size ("8.5 in the blue") is a shoe size: prices and specs say $ or a unit.
    r"|(?<![\d$.,])(\d{1,2}\.5)\b(?!\s*(?:%|mm|cm|g\b|oz|l\b|lb|inch|\"|km|mi))",
    re.IGNORECASE,
)
_APPAREL_SIZE = re.compile(
    # Pack sizes ("M/L") and the sizes no word spells ("any xxl left?") are distinctive
    # enough to read anywhere in the text.
    r"(?<![\w/])(xs/s|s/m|m/l|l/xl|xxs|xs|xl|xxl|xxxl|[2-4]xl)(?![\w/])"
    # "any sizes left?" is not a size S: a space comes before the size.
    r"|\b(?:size|sz|in an?|in|(?:i'?m|usually|wear)\s+(?:an?\s+)?)\s+"
    # "size M/L" is the pack size, not an M.
    r"(xxs|xs|s|m|l|xl|xxl|xxxl|[2-4]xl|small|medium|large)\b(?!/)"
    # "do they have a medium": a size word after "a", at the end of what is asked (not
    # "a medium weight fleece").
    r"|\ban?\s+(xs|xl|xxl|small|medium|large)"
    # "still got an M?": a letter after "an" is a size ("a m" is not how M is said).
    r"(?=\s*$|\s*[?.!,]|\s+(?:in|or|size|please|pls|plz|and|tho|too|left|avail\w*)\b)"
    r"|\ban\s+(m|l|s|xs|xl|xxl)(?=\s*$|\s*[?.!,]|\s+(?:in|or|size|please|pls|plz|left)\b)"
    # "the featherlite in the light blue, medium pls": a size word said on its own, asked for.
    r"|(?:^|[,;:]\s*)(small|medium|large)(?=\s+(?:please|pls|plz)\b|\s*[?!]*\s*$)",
    re.IGNORECASE,
)
_APPAREL_WORDS = {"small": "S", "medium": "M", "large": "L"}
T = TypeVar("T")


class NeedsSources(TypedDict):
    """Where each need came from: "this text", "earlier text", "preferences" or None."""

    budget_max: str | None
    size: str | None


def _budget(text: str) -> float | None:
    match = _BUDGET.search(text)
    return float(next(g for g in match.groups() if g)) if match else None


_HALF = re.compile(r"\b(\d{1,2})\s*(?:and a half|& a half|n a half|1/2|½)(?!\w)", re.IGNORECASE)


def _size(text: str) -> str | None:
    text = _HALF.sub(r"\1.5", text)  # "a 9 and a half" is a 9.5
    if match := _APPAREL_SIZE.search(text):
        word = next(g for g in match.groups() if g).lower()
        return _APPAREL_WORDS.get(word, word.upper())
    if match := _SHOE_SIZE.search(text):
        size = match.group(1) or match.group(2)
        if 4 <= float(size) <= 16:
            return size
    return None


def read_conversation_needs(
    text: str | None, earlier: Sequence[str], preferences: dict[str, Any]
) -> tuple[ShopperNeeds, NeedsSources]:
    """Budget and size from this text, else the shopper's earlier texts, else preferences.

    `earlier` holds the shopper's earlier texts of this conversation, newest first: a
    budget said two texts ago ("anything under $90?") still holds when they ask about
    one of the products next. Returns the needs and where each came from.
    """
    budget, budget_from = _said(text, earlier, _budget)
    if budget is None and preferences.get("budget_max"):
        budget, budget_from = float(preferences["budget_max"]), "preferences"
    size, size_from = _said(text, earlier, _size)
    return (
        ShopperNeeds(budget_max=budget, size=size),
        NeedsSources(budget_max=budget_from, size=size_from),
    )


def _said(
    text: str | None, earlier: Sequence[str], read: Callable[[str], T | None]
) -> tuple[T | None, str | None]:
    """The newest value `read` finds: in this text, else in an earlier one."""
    if (found := read(text or "")) is not None:
        return found, "this text"
    for line in earlier:
        if (found := read(line)) is not None:
            return found, "earlier text"
    return None, None


def read_needs(text: str | None, preferences: dict[str, Any]) -> ShopperNeeds:
    """Budget and size from the text, else from the shopper's saved preferences."""
    text = text or ""
    budget = _budget(text)
    if budget is None and preferences.get("budget_max"):
        budget = float(preferences["budget_max"])
    return ShopperNeeds(budget_max=budget, size=_size(text))
