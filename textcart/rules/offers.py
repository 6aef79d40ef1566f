"""The offer policy: which turns may be offered a discount.

One rule, read twice: by the next-message edge (an offer it refuses becomes another
message) and by the output guard (an offer draft it refuses never leaves).
"""

from __future__ import annotations

from collections.abc import Set

from textcart.vocabulary.labels import likelihood_band

# Intents that signal price sensitivity.
PRICE_INTENTS = frozenset({"price_or_discount"})


def offer_refusal(buy_likelihood: float, intent: str, offer_bands: Set[str]) -> str | None:
    """Why the policy gives this turn no offer, or None when it allows one.

    An offer needs a buy-likelihood band among `offer_bands` and a price-sensitive intent.
    """
    band = likelihood_band(buy_likelihood)
    if band not in offer_bands:
        return f"{band} buy-likelihood is not in the offer bands {sorted(offer_bands)}"
    if intent not in PRICE_INTENTS:
        return f"intent {intent} signals no price sensitivity"
    return None
