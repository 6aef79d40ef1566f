"""Product fit: is the product they asked about the best one for them, and what to highlight.

Whatever decider answers, its output is checked against the retrieved candidates: an id,
alternative or highlight that is not in the catalog data is never passed on.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel

from textcart.deciders.base import load_prompt_file, prompt_messages
from textcart.graph.needs import ShopperNeeds
from textcart.graph.state import FitResult, ProductCard, ShopperContext
from textcart.tools.llm import ainvoke_structured

_WORD = re.compile(r"[a-z0-9]+")
_MONEY = re.compile(r"\$\s?(\d[\d,]*(?:\.\d{1,2})?)")


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2}


def _candidate_score(
    product: ProductCard, rank: int, total: int, needs: ShopperNeeds, shopper: ShopperContext
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
    return score


def pick_highlights(product: ProductCard, text: str, limit: int = 2) -> list[str]:
    """The selling points that share most words with what the shopper said (ties: listed order)."""
    asked = _words(text)
    ranked = sorted(
        enumerate(product["selling_points"]),
        key=lambda pair: (-len(_words(pair[1]) & asked), pair[0]),
    )
    return [point for _, point in ranked[:limit]]


def _reason(product: ProductCard, needs: ShopperNeeds, asked: ProductCard | None) -> str:
    facts = []
    if needs["size"] and needs["size"] in product["sizes_in_stock"]:
        facts.append(f"in stock in size {needs['size']}")
    if needs["budget_max"] is not None and product["price"] <= needs["budget_max"]:
        facts.append(f"within the ${needs['budget_max']:.0f} budget")
    if product["rating"] is not None:
        facts.append(f"rated {product['rating']:.1f}")
    if asked and asked["id"] != product["id"]:
        if needs["size"] and needs["size"] not in asked["sizes_in_stock"]:
            facts.append(f"the one asked about has no size {needs['size']} in stock")
        elif needs["budget_max"] is not None and asked["price"] > needs["budget_max"]:
            facts.append("the one asked about is over budget")
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
    ) -> FitResult:
        """Judge fit among the retrieved candidates."""
        if not candidates:
            return FitResult(
                best_fit_id=None,
                is_asked_product_best=asked_id is not None,
                reason="no matching products",
            )
        scored = sorted(
            (
                (_candidate_score(p, i, len(candidates), needs, shopper), p)
                for i, p in enumerate(candidates)
            ),
            key=lambda pair: -pair[0],
        )
        best_score, best = scored[0]
        asked = next((p for p in candidates if p["id"] == asked_id), None)
        if asked is not None:
            asked_score = next(s for s, p in scored if p["id"] == asked["id"])
            # A small margin keeps the shopper's own choice unless another is clearly better.
            if asked_score >= best_score - 0.15:
                best_score, best = asked_score, asked
        alternatives = [p["id"] for s, p in scored if p["id"] != best["id"] and s > 0][:2]
        return FitResult(
            best_fit_id=best["id"],
            is_asked_product_best=asked is None or asked["id"] == best["id"],
            alternative_ids=alternatives,
            highlights=pick_highlights(best, text),
            reason=_reason(best, needs, asked),
        )


def grounded(
    result: FitResult, candidates: Sequence[ProductCard], asked_id: str | None
) -> FitResult:
    """Return the result if every id and highlight exists in the candidates, else raise.

    Highlights must be copied from the chosen product's own selling points (case and
    surrounding spaces aside), and any price the reason cites must be a candidate's;
    anything else counts as invented.
    """
    by_id = {p["id"]: p for p in candidates}
    if result.best_fit_id is not None and result.best_fit_id not in by_id:
        raise ValueError(f"best_fit_id {result.best_fit_id!r} is not a retrieved product")
    unknown = [i for i in result.alternative_ids if i not in by_id]
    if unknown:
        raise ValueError(f"alternatives {unknown} are not retrieved products")
    known_prices = {round(p["price"], 2) for p in candidates} | {
        round(p["compare_at_price"], 2) for p in candidates if p["compare_at_price"] is not None
    }
    cited = [
        m
        for m in _MONEY.findall(result.reason)
        if round(float(m.replace(",", "")), 2) not in known_prices
    ]
    if cited:
        raise ValueError(f"reason cites prices {cited} that no candidate has")
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
) -> FitResult:
    """Ask the LLM to judge fit, then hold its answer to the catalog facts."""
    case = {
        "asked_about_id": asked_id,
        "needs": needs,
        "viewed_ids": shopper["viewed_ids"][:5],
        "purchased_ids": shopper["purchased_ids"][:5],
        "candidates": [
            {
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
            }
            for p in candidates[:5]
        ],
    }
    messages = prompt_messages("fit", case, _few_shot(), untrusted_text=text)
    result = await ainvoke_structured(
        model, FitResult, messages, method=method, timeout_s=timeout_s
    )
    return grounded(result, candidates, asked_id)
