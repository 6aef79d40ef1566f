"""Product fit: is the product they asked about the best one for them, and what to highlight.

Whatever decider answers, its output is held to the catalog facts before it is passed on
(`grounded`): every product id must be a retrieved candidate, every highlight a selling
point of the chosen product copied word for word, every price in the reason a candidate's
price (or the shopper's budget or usual price band), every other number in the reason
(sizes, ratings, grams, lumens...) one that appears in those facts, and every SKU-like
code a candidate's. Anything else counts as invented: the LLM's answer is then refused
and the classic decider answers instead.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel

from textcart.deciders.base import load_prompt_file, prompt_messages
from textcart.tools.llm import ainvoke_structured
from textcart.vocabulary.money import MONEY_PATTERN, amount_of, format_money
from textcart.vocabulary.outputs import FitResult
from textcart.vocabulary.records import Personalisation, ProductCard, ShopperContext, ShopperNeeds

log = logging.getLogger("textcart.deciders.fit")
_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
_SKU = re.compile(r"\b[A-Z0-9]{2,}(?:-[A-Z0-9]+){2,}\b")
# "one of 2 options": small counts are words, not product facts.
_COUNTING = {1.0, 2.0, 3.0}
_LINE_OF_TITLE = re.compile(r"^\s*(men|women)'?s\b", re.IGNORECASE)


def _words(text: str) -> set[str]:
    return {
        w.removesuffix("s") if len(w) > 3 else w for w in _WORD.findall(text.lower()) if len(w) > 2
    }


def _line(product: ProductCard) -> str | None:
    match = _LINE_OF_TITLE.match(product["title"])
    return match.group(1).lower() if match else None


def _in_band(product: ProductCard, taste: Personalisation | None) -> bool:
    band = taste["price_band"] if taste else None
    return bool(band) and band[0] <= product["price"] <= band[1]  # type: ignore[index]


def _candidate_score(
    product: ProductCard,
    rank: int,
    total: int,
    needs: ShopperNeeds,
    shopper: ShopperContext,
    taste: Personalisation | None = None,
) -> float:
    score = 1.0 - rank / max(total, 1)
    if not product["in_stock"]:
        score -= 1.0
    if needs["size"]:
        score += 0.3 if needs["size"] in product["sizes_in_stock"] else -0.6
    if needs["budget_max"] is not None and product["price"] > needs["budget_max"]:
        score -= 0.6
    if product["rating"] is not None:
        score += 0.15 * (product["rating"] - 4.0)
    if product["id"] in shopper["viewed_ids"]:
        score += 0.1
    if product["id"] in shopper["purchased_ids"]:
        score -= 0.5
    if taste:
        score += 0.3 * taste["affinity"].get(product["id"], 0.0)
        if not needs["size"] and set(taste["sizes"]) & set(product["sizes_in_stock"]):
            score += 0.1
        if taste["line"] and _line(product) not in (None, taste["line"]):
            score -= 0.3
        if _in_band(product, taste):
            score += 0.1
    return score


def pick_highlights(
    product: ProductCard, text: str, limit: int = 2, interests: Iterable[str] = ()
) -> list[str]:
    """The selling points most likely to entice this shopper, best first.

    A point scores two for each word it shares with what the shopper said and one for each
    word it shares with what they browsed (`interests`); ties keep the listed order, which
    is the store's own order of importance.
    """
    asked, browsed = _words(text), _words(" ".join(interests))
    ranked = sorted(
        enumerate(product["selling_points"]),
        key=lambda pair: (
            -(2 * len(_words(pair[1]) & asked) + len(_words(pair[1]) & browsed)),
            pair[0],
        ),
    )
    return [point for _, point in ranked[:limit]]


def _money(value: float, currency: str) -> str:
    return format_money(value, currency)


def _falls_short(asked: ProductCard, needs: ShopperNeeds, shopper: ShopperContext) -> list[str]:
    """Where the product asked about fails a need that matters (empty: it fits)."""
    problems = []
    if not asked["in_stock"]:
        problems.append("is sold out")
    elif needs["size"] and needs["size"] not in asked["sizes_in_stock"]:
        problems.append(f"has no size {needs['size']} in stock")
    if needs["budget_max"] is not None and asked["price"] > needs["budget_max"]:
        problems.append(f"is over budget at {_money(asked['price'], asked.get('currency', 'USD'))}")
    if asked["id"] in shopper["purchased_ids"]:
        problems.append("was bought already")
    return problems


def _reason(
    product: ProductCard,
    needs: ShopperNeeds,
    asked: ProductCard | None,
    shopper: ShopperContext,
    taste: Personalisation | None = None,
) -> str:
    facts = []
    if needs["size"] and needs["size"] in product["sizes_in_stock"]:
        facts.append(f"in stock in size {needs['size']}")
    if needs["budget_max"] is not None and product["price"] <= needs["budget_max"]:
        cur = product.get("currency", "USD")
        budget = _money(round(needs["budget_max"]), cur)
        facts.append(f"{_money(product['price'], cur)}, within the {budget} budget")
    elif taste and _in_band(product, taste) and taste["price_band"]:
        low, high = taste["price_band"]
        cur = product.get("currency", "USD")
        price = _money(product["price"], cur)
        band = f"{_money(round(low), cur)}-{_money(round(high), cur)}"
        facts.append(f"{price}, in their usual {band} range")
    if product["rating"] is not None:
        facts.append(f"rated {product['rating']:.1f}")
    if taste and (like := taste["closest_viewed"].get(product["id"])):
        facts.append(f"like the {like} they browsed")
    if asked and asked["id"] != product["id"]:
        problems = _falls_short(asked, needs, shopper)
        if problems:
            facts.append("the one asked about " + " and ".join(problems))
    return f"{product['title']}: " + (", ".join(facts) if facts else "best match for the request")


class ClassicFit:
    """A scoring rule over the candidates: stock, size, budget, rating, browsing affinity."""

    async def decide(
        self,
        candidates: Sequence[ProductCard],
        asked_id: str | None,
        needs: ShopperNeeds,
        shopper: ShopperContext,
        text: str,
        taste: Personalisation | None = None,
    ) -> FitResult:
        """Judge fit among the retrieved candidates, personalised by `taste` when given."""
        if not candidates:
            return FitResult(
                best_fit_id=None,
                is_asked_product_best=asked_id is not None,
                reason="no matching products",
            )
        scored = sorted(
            (
                (_candidate_score(p, i, len(candidates), needs, shopper, taste), p)
                for i, p in enumerate(candidates)
            ),
            key=lambda pair: -pair[0],
        )
        best = scored[0][1]
        asked = next((p for p in candidates if p["id"] == asked_id), None)
        if asked is not None and not _falls_short(asked, needs, shopper):
            # A product that meets their needs is confirmed, as a good associate would:
            # shoppers trust a store that backs their choice. Better ones become alternatives.
            best = asked
        alternatives = [p["id"] for s, p in scored if p["id"] != best["id"] and s > 0][:2]
        result = FitResult(
            best_fit_id=best["id"],
            is_asked_product_best=asked is None or asked["id"] == best["id"],
            alternative_ids=alternatives,
            highlights=pick_highlights(best, text, interests=taste["interests"] if taste else ()),
            reason=_reason(best, needs, asked, shopper, taste),
        )
        try:
            return grounded(result, candidates, asked_id, needs, taste)
        except ValueError as exc:
            # The rule only writes catalog facts; if that ever breaks, say less, not wrong.
            log.warning("classic fit reason failed grounding (%s); reason dropped", exc)
            return grounded(
                result.model_copy(update={"reason": best["title"]}), candidates, asked_id
            )


def _number(text: str) -> float | None:
    try:
        return round(float(text.replace(",", "")), 2)
    except ValueError:
        return None


def _known_numbers(texts: Iterable[str], values: Iterable[float | None]) -> set[float]:
    """Every number the facts contain, as written and rounded to whole units."""
    known: set[float] = set()
    found = [_number(n) for t in texts for n in _NUMBER.findall(t)]
    for value in [*found, *values]:
        if value is not None:
            known |= {round(value, 2), round(value, 1), float(round(value))}
    return known


def grounded(
    result: FitResult,
    candidates: Sequence[ProductCard],
    asked_id: str | None,
    needs: ShopperNeeds | None = None,
    taste: Personalisation | None = None,
) -> FitResult:
    """Return the result if every id, price and claim exists in the facts, else raise.

    The facts are the candidates (ids, titles, prices, ratings, sizes in stock, selling
    points), the shopper's stated budget and size, and the catalog entries of what they
    browsed (titles, usual price band). Highlights must be copied from the chosen
    product's own selling points (case and surrounding spaces aside); a price in the
    reason must be a candidate's price or compare-at price, the budget, or a bound of the
    price band; any other number in the reason must appear in the facts; a SKU-like code
    in the reason must be a candidate's id. Anything else counts as invented.
    """
    by_id = {p["id"]: p for p in candidates}
    if result.best_fit_id is not None and result.best_fit_id not in by_id:
        raise ValueError(f"best_fit_id {result.best_fit_id!r} is not a retrieved product")
    unknown = [i for i in result.alternative_ids if i not in by_id]
    if unknown:
        raise ValueError(f"alternatives {unknown} are not retrieved products")
    budget = needs["budget_max"] if needs else None
    band = (taste["price_band"] or []) if taste else []
    known_prices = (
        {round(p["price"], 2) for p in candidates}
        | {round(p["compare_at_price"], 2) for p in candidates if p["compare_at_price"] is not None}
        | {round(v, 2) for v in [budget, *band] if v is not None}
        | {float(round(v)) for v in band}
    )
    cited = [
        m
        for m in (amount_of(found) for found in MONEY_PATTERN.findall(result.reason))
        if round(float(m.replace(",", "")), 2) not in known_prices
    ]
    if cited:
        raise ValueError(f"reason cites prices {cited} that no candidate has")
    fact_texts = [
        *(t for p in candidates for t in (p["title"], *p["selling_points"], *p["sizes_in_stock"])),
        *([str(needs["size"])] if needs and needs["size"] else []),
        *(taste["history_titles"] if taste else []),
    ]
    known = _known_numbers(
        fact_texts,
        [
            *(v for p in candidates for v in (p["price"], p["compare_at_price"], p["rating"])),
            budget,
            *band,
        ],
    )
    without_money = MONEY_PATTERN.sub(" ", result.reason)
    invented = [
        n
        for n in _NUMBER.findall(without_money)
        if (value := _number(n)) is not None and value not in known and value not in _COUNTING
    ]
    if invented:
        raise ValueError(f"reason states numbers {invented} that no catalog fact holds")
    codes = [c for c in _SKU.findall(result.reason) if c not in by_id]
    if codes:
        raise ValueError(f"reason names products {codes} that were not retrieved")
    if result.best_fit_id is None:
        return result
    points = {p.strip().lower(): p for p in by_id[result.best_fit_id]["selling_points"]}
    invented = [h for h in result.highlights if h.strip().lower() not in points]
    if invented:
        raise ValueError(f"highlights {invented} are not selling points of {result.best_fit_id}")
    return result.model_copy(
        update={
            "highlights": [points[h.strip().lower()] for h in result.highlights],
            "alternative_ids": [i for i in result.alternative_ids if i != result.best_fit_id],
            "is_asked_product_best": asked_id is None or asked_id == result.best_fit_id,
        }
    )


def _few_shot() -> str:
    lines = []
    for e in load_prompt_file("fit").get("examples", [])[:2]:
        lines.append(
            f"- case: {e.get('asked_about')} candidates: {len(e.get('candidates', []))}"
            f" -> {e.get('answer')}"
        )
    return "\n".join(lines)


async def llm_fit(
    model: BaseChatModel,
    *,
    method: Any,
    timeout_s: float,
    candidates: Sequence[ProductCard],
    asked_id: str | None,
    needs: ShopperNeeds,
    shopper: ShopperContext,
    text: str,
    taste: Personalisation | None = None,
) -> FitResult:
    """Ask the LLM to judge fit, then hold its answer to the catalog facts it was shown."""
    shown = list(candidates[:6])
    case = {
        "asked_about_id": asked_id,
        "needs": needs,
        "shopper": {
            "viewed_recently": taste["history_titles"][:5] if taste else shopper["viewed_ids"][:5],
            "bought_before": shopper["purchased_ids"][:5],
            "usual_price_band": taste["price_band"] if taste else None,
            "sizes": taste["sizes"] if taste else [],
            "favourite_colors": taste["colors"][:4] if taste else [],
            "line": taste["line"] if taste else None,
            "likes_markdowns": taste["deal_seeker"] if taste else False,
        },
        "candidates": [
            {
                **{
                    k: p[k]
                    for k in (
                        "id",
                        "title",
                        "price",
                        "in_stock",
                        "sizes_in_stock",
                        "rating",
                        "selling_points",
                    )
                },
                "similarity_to_browsing": taste["affinity"].get(p["id"]) if taste else None,
            }
            for p in shown
        ],
    }
    messages = prompt_messages("fit", case, _few_shot(), untrusted_text=text)
    result = await ainvoke_structured(
        model, FitResult, messages, method=method, timeout_s=timeout_s
    )
    return grounded(result, shown, asked_id, needs, taste)
