"""Personalised retrieval: what a shopper's history says, and how it shapes one search.

From the products the shopper viewed, carted and bought (looked up in the catalog with
their embeddings) this module derives a `Taste`:

* a **behaviour vector**: the weighted mean of the embeddings of recently viewed and carted
  products. Histories are newest first, so the n-th product weighs `HISTORY_DECAY ** n`,
  and a product put in the cart counts `CART_WEIGHT` times a view;
* a **price band**: the recency-weighted median price of what they viewed and carted (of
  what they bought, if that is all there is), `PRICE_MARGIN` either side;
* **sizes** (profile preferences, plus a size said earlier in the conversation),
  **colours** (profile favourites, plus the colours of products in the history) and the
  **line** (men's or women's: the profile's `shoe_line`, else the majority of the
  history's tags);
* whether they are a **deal seeker** (most of what they looked at was marked down);
* the products to **exclude**: what they already bought.

How it is applied, always inside the hard filters (in stock, size said, budget said,
nothing already bought), which the search enforces in Weaviate:

1. The query vector is blended with the behaviour vector:
   `normalise((1 - w) * query + w * behaviour)`, with `w = BEHAVIOUR_WEIGHT` (0.25) when
   the shopper named what they want, and `OPEN_BEHAVIOUR_WEIGHT` (0.6) for an open request
   ("anything for me?") or a proactive turn, where the history is most of what we know.
   BM25 still sees only their words, so a named product keeps its place.
2. `CANDIDATES` hits are re-ranked: relevance by search rank (1.0 down to 0.5), plus the
   cosine similarity to the behaviour vector, plus small boosts for a preferred size in
   stock, a favourite colour, the price band and markdowns for deal seekers, and a
   penalty for the other line's products. The boosts are at most a few ranks' worth, so
   personalisation reorders relevant products; it does not replace them.
3. Each further colourway of a model already picked loses `REPEAT_PENALTY`, so three
   picks are usually three choices rather than one shoe in three colours, and the
   colourway that comes first is the one this shopper is likeliest to want.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from textcart.tools.catalog import Product, ProductHit
from textcart.vocabulary.colours import COLOURS
from textcart.vocabulary.money import format_money
from textcart.vocabulary.records import Personalisation, ShopperContext

BEHAVIOUR_WEIGHT = 0.25
OPEN_BEHAVIOUR_WEIGHT = 0.6
HISTORY_DECAY = 0.8
CART_WEIGHT = 2.0
HISTORY_LIMIT = 8
CANDIDATES = 15
RESULTS = 5
PRICE_MARGIN = 0.4
# How alike (cosine) a product and one they browsed must be for the fit to say so.
CLOSE_TO_VIEWED = 0.75
# Re-ranking weights, in units of "relevance by rank" (which spans 1.0 .. 0.5).
AFFINITY_WEIGHT = 0.25
OPEN_AFFINITY_WEIGHT = 0.5
SIZE_BOOST = 0.1
SAID_COLOUR_BOOST = 0.2
FAVOURITE_COLOUR_BOOST = 0.1
PRICE_BAND_BOOST = 0.08
DEAL_BOOST = 0.08
OTHER_LINE_PENALTY = 0.4
REPEAT_PENALTY = 0.25
DEAL_SEEKER_SHARE = 0.6

_LINES = {"men": "men", "mens": "men", "male": "men", "women": "women", "womens": "women"}
_OPEN_REQUEST = re.compile(
    r"\b(anything|something|what else|recommend\w*|suggest\w*|ideas?|for me|surprise me|"
    r"what'?s new|new arrivals?|what do you have|what should i (?:get|buy))\b",
    re.IGNORECASE,
)
_PRODUCT_WORDS = re.compile(
    r"\b(shoes?|runners?|boots?|trainers?|sandals?|jackets?|shells?|parkas?|vests?|fleeces?|"
    r"layers?|tees?|shirts?|shorts|pants|tights|socks|hats?|caps?|gloves?|packs?|"
    r"backpacks?|poles?|headlamps?|lamps?|bottles?|gaiters?|crews?|hoodies?)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z][a-z-]{2,}")
_DULL = frozenset(
    {"the", "and", "for", "with", "men", "mens", "women", "womens", "unisex", "sale", "new"}
)


def is_open_request(text: str | None) -> bool:
    """True for a proactive turn or a request that names no kind of product."""
    if not text or not text.strip():
        return True
    return bool(_OPEN_REQUEST.search(text)) and not _PRODUCT_WORDS.search(text)


def names_product_kind(text: str | None) -> bool:
    """True when the text names a kind of product ("any trail shoes", "a rain jacket")."""
    return bool(_PRODUCT_WORDS.search(text or ""))


def product_kinds(text: str | None) -> list[str]:
    """The kinds of product a text names, singular ("trail running shoes" -> ["shoe"])."""
    found = [m.group(1).lower() for m in _PRODUCT_WORDS.finditer(text or "")]
    return [w if w in ("shorts", "pants", "tights") else w.removesuffix("s") for w in found]


def colours_in(text: str | None) -> list[str]:
    """Colour words the shopper used ("any in blue?")."""
    lowered = (text or "").lower()
    return [c for c in COLOURS if re.search(rf"\b{c}\b", lowered)]


def history_ids(shopper: ShopperContext) -> list[str]:
    """The products whose catalog entries the taste is built from (history, newest first)."""
    ids = [*shopper["cart_ids"], *shopper["viewed_ids"][:HISTORY_LIMIT]]
    return list(dict.fromkeys([*ids, *shopper["purchased_ids"][:HISTORY_LIMIT]]))


def _history_weights(shopper: ShopperContext) -> dict[str, float]:
    """Recency-weighted share of each viewed or carted product in the behaviour vector."""
    weights: dict[str, float] = {}
    for rank, pid in enumerate(shopper["viewed_ids"][:HISTORY_LIMIT]):
        weights[pid] = weights.get(pid, 0.0) + HISTORY_DECAY**rank
    for rank, pid in enumerate(shopper["cart_ids"][:HISTORY_LIMIT]):
        weights[pid] = weights.get(pid, 0.0) + CART_WEIGHT * HISTORY_DECAY**rank
    return weights


def _unit(vector: np.ndarray) -> np.ndarray | None:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else None


def _line_of(product: Product) -> str | None:
    found = {_LINES[t] for t in (w.lower() for w in product.tags) if t in _LINES}
    if not found:
        found = {
            _LINES[w] for w in _WORD.findall(product.title.lower().replace("'", "")) if w in _LINES
        }
    return found.pop() if len(found) == 1 else None


@dataclass
class Taste:
    """What the shopper's history says about what they like."""

    vector: np.ndarray | None = None
    behaviour_from: list[str] = field(default_factory=list)
    price_band: tuple[float, float] | None = None
    sizes: list[str] = field(default_factory=list)
    colors: list[str] = field(default_factory=list)
    line: str | None = None
    deal_seeker: bool = False
    excluded_ids: list[str] = field(default_factory=list)
    history_titles: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    history_vectors: dict[str, np.ndarray] = field(default_factory=dict)

    def closest_viewed(self, hits: Sequence[ProductHit]) -> dict[str, str]:
        """For each hit, the title of the product in their history most like it."""
        if not self.history_vectors:
            return {}
        titles = list(self.history_vectors)
        matrix = np.stack([self.history_vectors[t] for t in titles])
        closest = {}
        for hit in hits:
            if hit.vector is not None and hit.product.title not in self.history_vectors:
                sims = matrix @ np.asarray(hit.vector, dtype=np.float32)
                if float(sims.max()) >= CLOSE_TO_VIEWED:
                    closest[hit.product.id] = titles[int(sims.argmax())]
        return closest

    def record(
        self, weight: float, affinity: Mapping[str, float], closest: Mapping[str, str]
    ) -> Personalisation:
        """The JSON-friendly form kept in graph state (Studio shows it)."""
        return Personalisation(
            behaviour_from=list(self.behaviour_from),
            behaviour_weight=weight if self.vector is not None else 0.0,
            price_band=[*self.price_band] if self.price_band else None,
            sizes=list(self.sizes),
            colors=list(self.colors),
            line=self.line,
            deal_seeker=self.deal_seeker,
            excluded_ids=list(self.excluded_ids),
            history_titles=list(self.history_titles),
            interests=list(self.interests),
            affinity={k: round(v, 3) for k, v in affinity.items()},
            closest_viewed=dict(closest),
        )


def build_taste(
    shopper: ShopperContext, history: Mapping[str, ProductHit], said_size: str | None = None
) -> Taste:
    """Derive the shopper's taste from their history's catalog entries and their profile.

    `history` maps product ids (from `history_ids`) to their catalog entries with
    embeddings; products the catalog no longer has are simply absent. `said_size` is a
    size from earlier in the conversation, which counts as a preference, not a filter.
    """
    prefs = shopper["preferences"]
    taste = Taste(excluded_ids=list(shopper["purchased_ids"]))
    weights = {pid: w for pid, w in _history_weights(shopper).items() if pid in history}
    vectors = [
        (w, np.asarray(history[pid].vector, dtype=np.float32))
        for pid, w in weights.items()
        if history[pid].vector is not None
    ]
    if vectors:
        taste.vector = _unit(sum((w * v for w, v in vectors), np.zeros_like(vectors[0][1])))
        taste.behaviour_from = [pid for pid in weights if history[pid].vector is not None]
        taste.history_vectors = {
            history[pid].product.title: np.asarray(history[pid].vector, dtype=np.float32)
            for pid in taste.behaviour_from
        }
    priced = [(history[pid].product.price, w) for pid, w in weights.items()]
    priced = priced or [(hit.product.price, 1.0) for hit in history.values()]
    if priced:
        median = _weighted_median(priced)
        taste.price_band = (
            round(median * (1 - PRICE_MARGIN), 2),
            round(median * (1 + PRICE_MARGIN), 2),
        )
    products = [hit.product for hit in history.values()]
    if products:
        marked_down = sum(
            1 for p in products if p.compare_at_price and p.compare_at_price > p.price
        )
        taste.deal_seeker = marked_down / len(products) >= DEAL_SEEKER_SHARE
    sizes = [said_size, prefs.get("shoe_size"), prefs.get("apparel_size"), prefs.get("size")]
    taste.sizes = list(dict.fromkeys(str(s) for s in sizes if s))
    favourites = [str(c).lower() for c in prefs.get("favourite_colors") or []]
    seen = [c.lower() for pid in weights for c in history[pid].product.colors]
    taste.colors = list(dict.fromkeys([*favourites, *seen]))
    line = str(prefs.get("shoe_line") or prefs.get("line") or "").lower() or None
    if line not in ("men", "women"):
        lines = Counter(ln for pid in weights if (ln := _line_of(history[pid].product)) is not None)
        line = lines.most_common(1)[0][0] if lines else None
    taste.line = line
    viewed = [history[pid].product for pid in weights]
    taste.history_titles = [p.title for p in viewed]
    words = Counter(
        w
        for p in viewed
        for w in _WORD.findall(" ".join([p.title, *p.tags, p.category]).lower())
        if w not in _DULL
    )
    taste.interests = [w for w, _ in words.most_common(12)]
    return taste


def blend(query_vector: np.ndarray, taste: Taste, open_request: bool) -> tuple[np.ndarray, float]:
    """The search vector: the query's, moved towards the behaviour vector; and the weight."""
    if taste.vector is None:
        return query_vector, 0.0
    weight = OPEN_BEHAVIOUR_WEIGHT if open_request else BEHAVIOUR_WEIGHT
    mixed = _unit((1 - weight) * np.asarray(query_vector, dtype=np.float32) + weight * taste.vector)
    return (mixed if mixed is not None else query_vector), weight


def affinities(hits: Sequence[ProductHit], taste: Taste) -> dict[str, float]:
    """Cosine similarity of each hit to the behaviour vector (empty without one)."""
    if taste.vector is None:
        return {}
    return {
        h.product.id: float(np.dot(np.asarray(h.vector, dtype=np.float32), taste.vector))
        for h in hits
        if h.vector is not None
    }


def rerank(
    hits: Sequence[ProductHit],
    taste: Taste,
    text: str | None,
    open_request: bool,
    affinity: Mapping[str, float],
) -> list[tuple[ProductHit, float]]:
    """Order hits by relevance plus what this shopper likes; returns (hit, score) pairs."""
    said_colours = set(colours_in(text))
    favourite = set(taste.colors)
    weight = OPEN_AFFINITY_WEIGHT if open_request else AFFINITY_WEIGHT
    scored = []
    for rank, hit in enumerate(hits):
        product = hit.product
        score = 1.0 - 0.5 * rank / max(len(hits) - 1, 1)
        score += weight * affinity.get(product.id, 0.0)
        if taste.sizes and set(taste.sizes) & set(product.sizes_in_stock):
            score += SIZE_BOOST
        colours = {c.lower() for c in product.colors}
        if said_colours & colours:
            score += SAID_COLOUR_BOOST
        elif favourite & colours:
            score += FAVOURITE_COLOUR_BOOST
        if taste.price_band and taste.price_band[0] <= product.price <= taste.price_band[1]:
            score += PRICE_BAND_BOOST
        if taste.deal_seeker and (product.compare_at_price or 0) > product.price:
            score += DEAL_BOOST
        line = _line_of(product)
        if taste.line and line and line != taste.line:
            score -= OTHER_LINE_PENALTY
        scored.append((hit, score))
    picked: list[tuple[ProductHit, float]] = []
    models: Counter[str] = Counter()
    while scored:
        best = max(
            range(len(scored)),
            key=lambda i: scored[i][1] - REPEAT_PENALTY * models[_model(scored[i][0].product)],
        )
        hit, score = scored.pop(best)
        model = _model(hit.product)
        picked.append((hit, score - REPEAT_PENALTY * models[model]))
        models[model] += 1
    return picked


def _weighted_median(values: Sequence[tuple[float, float]]) -> float:
    """The value at half the total weight, values sorted ascending."""
    ordered = sorted(values)
    half, running = sum(w for _, w in ordered) / 2, 0.0
    for value, weight in ordered:
        running += weight
        if running >= half:
            return value
    return ordered[-1][0]


def _model(product: Product) -> str:
    """What a product's colourways share: the data's model id, else the title's model."""
    return product.model_id or model_of(product.title)


def model_of(title: str) -> str:
    """The model a title names, without the colourway ("Runner — Lake Blue" -> "runner")."""
    return re.split(r"\s+[—–-]\s+", title, maxsplit=1)[0].strip().lower()


def describe(taste: Taste, weight: float, open_request: bool, currency: str = "USD") -> str:
    """One line for the retrieval note: what personalisation was applied."""
    parts = []
    if taste.vector is not None:
        kind = "open request" if open_request else "named request"
        parts.append(
            f"behaviour vector from {len(taste.behaviour_from)} viewed/carted products "
            f"(weight {weight:g}, {kind})"
        )
    if taste.price_band:
        low, high = (format_money(round(v), currency) for v in taste.price_band)
        parts.append(f"price band {low}-{high}")
    if taste.sizes:
        parts.append(f"sizes {'/'.join(taste.sizes)}")
    if taste.colors:
        parts.append(f"colours {'/'.join(taste.colors[:4])}")
    if taste.line:
        parts.append(f"{taste.line}'s line")
    if taste.deal_seeker:
        parts.append("deal seeker")
    if taste.excluded_ids:
        parts.append(f"{len(taste.excluded_ids)} purchased excluded")
    return "personalised: " + ("; ".join(parts) if parts else "no history")
