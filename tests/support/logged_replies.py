"""A message log written the way `send_and_log` writes it, for tests of learning from it.

Each call logs one shopper's text and our reply to it, with the decisions behind the reply
(intent, buy-likelihood, next message with its logged propensity) and, optionally, what
came of it. Learning, replay and the report read nothing else from a log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textcart.tools.shopper_store import ShopperStore

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
CASE = {
    "intent": "product_question",
    "buy_likelihood_band": "medium",
    "last_message_type": None,
    "turns_so_far": 0,
    "has_products": True,
}


async def log_reply(
    shoppers: ShopperStore,
    shopper_id: str,
    message_type: str,
    *,
    propensity: float | None,
    outcome: str | None = None,
    at: datetime = T0,
) -> None:
    """Log a product question from `shopper_id` and a `message_type` reply to it."""
    text_id = f"in-{shopper_id}"
    await shoppers.log_message(
        shopper_id,
        text_id,
        {"message_id": text_id, "direction": "inbound", "text": "any trail runners?",
         "at": at.isoformat()},
    )  # fmt: skip
    next_message = {"value": message_type, "decider": "classic", "fallback_reason": None}
    if propensity is not None:
        next_message["propensity"] = propensity
    reply_id = f"{text_id}:reply"
    await shoppers.log_message(
        shopper_id,
        reply_id,
        {
            "message_id": reply_id, "direction": "outbound", "text": "Here you go",
            "message_type": message_type, "at": (at + timedelta(milliseconds=1)).isoformat(),
            "proactive": False, "in_reply_to": text_id, "product_ids": ["TH-RIDGE-TR-M-BLU"],
            "delivery": {"status": "sent"}, "outcomes": [],
            "deciders": {
                "intent": {"value": CASE["intent"], "decider": "classic"},
                "buy_likelihood": {"value": 0.45, "decider": "classic"},
                "next_message": next_message,
            },
        },
    )  # fmt: skip
    if outcome is not None:
        await shoppers.record_outcome(
            shopper_id, reply_id, outcome, at=at + timedelta(minutes=5), source=f"test:{outcome}"
        )
