"""The fixed vocabularies: evaluations, prompts and logs depend on these exact labels."""

from __future__ import annotations

from typing import Literal, get_args

Intent = Literal[
    "product_question",
    "recommendation_request",
    "purchase_intent",
    "price_or_discount",
    "order_status",
    "shipping_question",
    "cancel_or_change_order",
    "return_or_refund",
    "billing_or_payment",
    "complaint",
    "human_agent",
    "opt_out",
    "not_interested",
    "other",
]
Tone = Literal["friendly", "concise", "enthusiastic", "empathetic", "urgent"]
MessageType = Literal[
    "answer_question",
    "recommend_products",
    "send_offer",
    "nudge_checkout",
    "order_help",
    "handoff_to_human",
    "ask_clarifying",
    "no_reply",
]
DeciderKind = Literal["classic", "llm"]
DecisionName = Literal["intent", "buy_likelihood", "tone", "fit", "next_message", "wording"]
Trigger = Literal["browse_abandonment", "cart_abandonment"]

INTENTS: tuple[str, ...] = get_args(Intent)
TONES: tuple[str, ...] = get_args(Tone)
MESSAGE_TYPES: tuple[str, ...] = get_args(MessageType)


def likelihood_band(probability: float) -> Literal["low", "medium", "high"]:
    """Return the buy-likelihood band: low < 0.3 <= medium < 0.6 <= high."""
    if probability < 0.3:
        return "low"
    if probability < 0.6:
        return "medium"
    return "high"
