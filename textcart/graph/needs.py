"""What the shopper said they need in this text: budget and size, read deterministically.

A stated budget or size is a hard constraint on retrieval, so it is parsed by rules that can
be tested, not guessed by a model.
"""

from __future__ import annotations

import re
from typing import Any, TypedDict

_BUDGET = re.compile(
    r"(?:under|below|less than|max|at most|up to|no more than|<)\s*\$?\s*(\d{2,4})"
    r"|\$\s*(\d{2,4})\s*(?:max|or less|budget|tops)"
    r"|budget (?:is |of )?(?:about |around )?\$?\s*(\d{2,4})",
    re.IGNORECASE,
)
_SHOE_SIZE = re.compile(
    r"\b(?:size|sz|in an?|an?)\s*(\d{1,2}(?:\.5)?)\b(?!\s*(?:%|dollars|bucks|\$))", re.IGNORECASE
)
_APPAREL_SIZE = re.compile(
    r"\b(?:size|sz|in an?|in)\s+(xxs|xs|s|m|l|xl|xxl|small|medium|large)\b", re.IGNORECASE
)
_APPAREL_WORDS = {"small": "S", "medium": "M", "large": "L"}


class ShopperNeeds(TypedDict):
    """Constraints for this turn's product search."""

    budget_max: float | None
    size: str | None


def read_needs(text: str | None, preferences: dict[str, Any]) -> ShopperNeeds:
    """Budget and size from the text, else from the shopper's saved preferences."""
    text = text or ""
    budget: float | None = None
    if match := _BUDGET.search(text):
        budget = float(next(g for g in match.groups() if g))
    elif preferences.get("budget_max"):
        budget = float(preferences["budget_max"])
    size: str | None = None
    if match := _APPAREL_SIZE.search(text):
        word = match.group(1).lower()
        size = _APPAREL_WORDS.get(word, word.upper())
    elif match := _SHOE_SIZE.search(text):
        value = float(match.group(1))
        if 4 <= value <= 16:
            size = match.group(1)
    return ShopperNeeds(budget_max=budget, size=size)
