"""Buy-likelihood: how likely the shopper is to buy now, from their behaviour."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from textcart.deciders.base import load_prompt_file, prompt_messages
from textcart.graph.state import Behaviour, BuyLikelihoodResult
from textcart.tools.llm import ainvoke_structured

FEATURE_NAMES = (
    "log_views_7d",
    "log_distinct_viewed_7d",
    "log_cart_adds_7d",
    "checkout_started_7d",
    "log_purchases_90d",
    "log_sessions_7d",
    "recency",
    "returning_customer",
)


def behaviour_vector(b: Behaviour) -> list[float]:
    """The model's features; counts are log-scaled, recency decays over a day."""
    minutes = b["minutes_since_last_activity"]
    return [
        math.log1p(b["product_views_7d"]),
        math.log1p(b["distinct_products_viewed_7d"]),
        math.log1p(b["cart_adds_7d"]),
        float(b["checkout_started_7d"]),
        math.log1p(b["purchases_90d"]),
        math.log1p(b["sessions_7d"]),
        math.exp(-minutes / 1440) if minutes is not None else 0.0,
        float(b["returning_customer"]),
    ]


def _as_behaviour(raw: dict[str, Any]) -> Behaviour:
    return Behaviour(
        product_views_7d=int(raw.get("product_views_7d", 0)),
        distinct_products_viewed_7d=int(raw.get("distinct_products_viewed_7d", 0)),
        cart_adds_7d=int(raw.get("cart_adds_7d", 0)),
        checkout_started_7d=bool(raw.get("checkout_started_7d", False)),
        purchases_90d=int(raw.get("purchases_90d", 0)),
        sessions_7d=int(raw.get("sessions_7d", 0)),
        minutes_since_last_activity=raw.get("minutes_since_last_activity"),
        returning_customer=bool(raw.get("returning_customer", False)),
    )


class ClassicBuyLikelihood:
    """Logistic regression on behaviour features, fit from labelled sessions."""

    def __init__(self, model: Pipeline | None = None):
        """Fit from `prompts/buy_likelihood.yaml` unless a fitted model is given."""
        if model is None:
            examples = load_prompt_file("buy_likelihood")["examples"]
            model = self.fit(
                [_as_behaviour(e["behaviour"]) for e in examples],
                [bool(e["bought"]) for e in examples],
            )
        self.model = model

    @staticmethod
    def fit(behaviours: Sequence[Behaviour], bought: Sequence[bool]) -> Pipeline:
        """Fit the pipeline (scaling + regularised logistic regression)."""
        x = np.array([behaviour_vector(b) for b in behaviours])
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000)).fit(
            x, np.array(bought, dtype=int)
        )

    async def decide(self, behaviour: Behaviour) -> BuyLikelihoodResult:
        """Score one shopper (microseconds: no need for a thread)."""
        p = float(self.model.predict_proba(np.array([behaviour_vector(behaviour)]))[0, 1])
        top = max(
            zip(
                FEATURE_NAMES,
                self.model[-1].coef_[0]
                * self.model[0].transform(np.array([behaviour_vector(behaviour)]))[0],
                strict=True,
            ),
            key=lambda pair: abs(pair[1]),
        )
        return BuyLikelihoodResult(probability=round(p, 3), rationale=f"strongest signal: {top[0]}")


def _few_shot(limit: int = 10) -> str:
    lines = []
    for e in load_prompt_file("buy_likelihood")["examples"][:limit]:
        lines.append(f"- behaviour {e['behaviour']}; text {e.get('text')!r} -> {e['probability']}")
    return "\n".join(lines)


async def llm_buy_likelihood(
    model: BaseChatModel,
    *,
    method: Any,
    timeout_s: float,
    behaviour: Behaviour,
    text: str | None,
) -> BuyLikelihoodResult:
    """Ask the LLM for a purchase probability."""
    messages = prompt_messages(
        "buy_likelihood", {"behaviour": behaviour}, _few_shot(), untrusted_text=text or ""
    )
    return await ainvoke_structured(
        model, BuyLikelihoodResult, messages, method=method, timeout_s=timeout_s
    )
