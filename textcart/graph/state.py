"""What flows through the conversation graph: one shopper's thread.

Graph state is plain JSON-like data (TypedDicts) so that checkpoints stay readable in
LangGraph Studio and deserialize on any server without registering custom types. The
records it is made of, the labels and what deciders return live in `textcart.vocabulary`.
"""

from __future__ import annotations

import operator
from datetime import UTC, datetime
from typing import Annotated, Any, TypedDict, get_args

from textcart.tools.shopper_store import now_utc
from textcart.vocabulary.answers import Answer, AskedQuestion
from textcart.vocabulary.labels import DecisionName, Intent, MessageType, Tone, Trigger
from textcart.vocabulary.records import (
    Decision,
    GateResult,
    HumanReview,
    Outbound,
    Personalisation,
    ProductCard,
    Recommended,
    RefusedDraft,
    ShopperContext,
    ShopperNeeds,
    TranscriptLine,
)


class TurnInput(TypedDict, total=False):
    """What starts a turn: an inbound text, or a proactive trigger."""

    shopper_id: str
    text: str | None
    trigger: Trigger | None
    message_id: str
    received_at: str


class TurnState(TurnInput, total=False):
    """The state of one shopper's thread.

    Per-turn fields (gate, decisions, products, draft, outbound) are reset by
    `load_context` at the start of every turn; `transcript` accumulates across turns
    (reducer: list concatenation) and is what a later turn sees of earlier ones.
    """

    shopper: ShopperContext
    gate: GateResult | None
    intent: Decision[Intent] | None
    buy_likelihood: Decision[float] | None
    tone: Decision[Tone] | None
    products: list[ProductCard]
    asked_product_id: str | None
    needs: ShopperNeeds | None
    retrieval_note: str | None
    personalisation: Personalisation | None
    # Kept across turns (not reset): what "the first one" or "the cheaper one" refers to.
    recommended: Recommended | None
    fit: Decision[dict[str, Any]] | None
    # What the text asks (kind, size, colour, policy topic) and the answer built from
    # evidence; the reply says the answer first.
    question: AskedQuestion | None
    answer: Answer | None
    next_message: Decision[MessageType] | None
    wording: Decision[dict[str, Any]] | None
    review: HumanReview | None
    # The draft guard_outbound refused, for rewrite_draft (None when the draft passed).
    refused: RefusedDraft | None
    outbound: Outbound | None
    delivery: dict[str, Any] | None
    transcript: Annotated[list[TranscriptLine], operator.add]


DECISION_NAMES: tuple[DecisionName, ...] = get_args(DecisionName)


def decisions_of(state: TurnState) -> dict[DecisionName, Decision[Any]]:
    """The decisions taken so far this turn, by name."""
    found: dict[DecisionName, Decision[Any]] = {}
    for name in DECISION_NAMES:
        decision = state.get(name)
        if isinstance(decision, dict):
            found[name] = decision  # type: ignore[assignment]
    return found


def decision_value(state: TurnState, name: DecisionName, default: Any = None) -> Any:
    """The value of one decision this turn, or `default` when it was not taken."""
    decision = decisions_of(state).get(name)
    return decision["value"] if decision else default


def turn_time(state: TurnState) -> datetime:
    """The turn's own clock (when the text arrived or the trigger fired), else now."""
    received = state.get("received_at")
    try:
        at = datetime.fromisoformat(received) if received else None
    except ValueError:
        at = None
    if at is None:
        return now_utc()
    return at if at.tzinfo else at.replace(tzinfo=UTC)
