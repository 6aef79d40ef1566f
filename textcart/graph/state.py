"""What flows through the conversation graph, and what each decider must return.

Two halves, kept apart on purpose:

* **Structured outputs** are Pydantic models with constrained fields. A decider (LLM or
  classic) must return one of these; anything that does not validate never reaches the
  graph.
* **Graph state** is plain JSON-like data (TypedDicts) so that checkpoints stay readable in
  LangGraph Studio and deserialize on any server without registering custom types.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, NotRequired, TypedDict, get_args

from pydantic import BaseModel, Field

from textcart.answers.records import Answer, AskedQuestion
from textcart.graph.needs import ShopperNeeds

# --- Fixed vocabularies (evaluations depend on these exact labels) -----------------------

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


# --- Structured outputs: what a decider must return --------------------------------------


class IntentResult(BaseModel):
    """The shopper's intent for this text."""

    label: Intent = Field(description="One of the fixed intent labels.")
    confidence: float = Field(ge=0, le=1, description="How sure the decider is, 0..1.")
    rationale: str = Field(default="", max_length=400, description="One short sentence.")


class ToneResult(BaseModel):
    """The tone most likely to work for this shopper now."""

    label: Tone = Field(description="One of the fixed tone labels.")
    rationale: str = Field(default="", max_length=400, description="One short sentence.")


class BuyLikelihoodResult(BaseModel):
    """How likely the shopper is to buy now."""

    probability: float = Field(ge=0, le=1, description="Probability of a purchase soon, 0..1.")
    rationale: str = Field(default="", max_length=400, description="One short sentence.")


class NextMessageResult(BaseModel):
    """The type of the next message: the LLM-decided edge of the graph."""

    message_type: MessageType = Field(description="One of the fixed next-message types.")
    rationale: str = Field(default="", max_length=400, description="One short sentence.")


class FitResult(BaseModel):
    """Whether the product asked about is the best fit, and what to highlight."""

    best_fit_id: str | None = Field(
        default=None, description="Id of the best product for this shopper, from the candidates."
    )
    is_asked_product_best: bool = Field(
        default=True, description="True when the product they asked about is the best fit."
    )
    alternative_ids: list[str] = Field(
        default_factory=list, max_length=2, description="Up to two better or cheaper candidates."
    )
    highlights: list[str] = Field(
        default_factory=list,
        max_length=3,
        description="1-3 selling points of the best product, copied from its selling points.",
    )
    reason: str = Field(default="", max_length=400, description="One sentence, grounded in facts.")


class SmsDraft(BaseModel):
    """The text of one outbound SMS."""

    text: str = Field(min_length=1, max_length=480, description="The SMS text to send.")


# --- Graph state ------------------------------------------------------------------------


class Decision(TypedDict):
    """One decision as recorded in state: what was decided, by whom, and why."""

    name: DecisionName
    value: Any
    decider: DeciderKind
    fallback_reason: str | None
    rationale: str
    latency_ms: float


class Behaviour(TypedDict):
    """Behaviour features computed from the shopper's recent events (the buy-likelihood input)."""

    product_views_7d: int
    distinct_products_viewed_7d: int
    cart_adds_7d: int
    checkout_started_7d: bool
    purchases_90d: int
    sessions_7d: int
    minutes_since_last_activity: float | None
    returning_customer: bool
    # The turn's calendar, in the zone of the clock `behaviour_features` is given. Always
    # set live; absent where there is no turn time (the prompt file's examples).
    month: NotRequired[int]
    weekend: NotRequired[bool]
    gift_holiday_closeness: NotRequired[float]


class ShopperContext(TypedDict):
    """Everything known about the shopper at the start of a turn (loaded, never decided)."""

    shopper_id: str
    first_name: str | None
    timezone: str | None
    consent: Literal["subscribed", "opted_out", "pending", "not_subscribed"]
    """Only `subscribed` may get proactive texts; `pending` asked to JOIN and not yet said Y."""
    preferences: dict[str, Any]
    behaviour: Behaviour
    viewed_ids: list[str]
    cart_ids: list[str]
    purchased_ids: list[str]
    last_message_type: str | None
    turns_so_far: int
    proactive_sent_24h: int


class ProductCard(TypedDict):
    """A retrieved product, trimmed to what the later nodes and the SMS may mention."""

    id: str
    title: str
    category: str
    price: float
    compare_at_price: float | None
    in_stock: bool
    sizes_in_stock: list[str]
    rating: float | None
    selling_points: list[str]
    url: str | None
    score: float


class Personalisation(TypedDict):
    """What the shopper's history contributed to this turn's product search."""

    behaviour_from: list[str]
    behaviour_weight: float
    price_band: list[float] | None
    sizes: list[str]
    colors: list[str]
    line: str | None
    deal_seeker: bool
    excluded_ids: list[str]
    history_titles: list[str]
    interests: list[str]
    affinity: dict[str, float]
    closest_viewed: dict[str, str]


class Recommended(TypedDict):
    """The products the store last put in front of the shopper, in the order shown."""

    at: str
    products: list[ProductCard]
    # The first product this conversation was about: "I'll stick with the first one" after
    # other picks were shown means it, not the first of the latest list.
    first_discussed: NotRequired[ProductCard | None]


class GateResult(TypedDict):
    """What the deterministic compliance gate decided before any model ran."""

    action: Literal["continue", "fixed_reply", "silent"]
    reason: str
    consent_change: Literal["opted_out", "subscribed", "pending"] | None
    fixed_text: str | None


class Outbound(TypedDict):
    """The message that leaves (or was stopped by) the output guard."""

    message_type: str
    text: str | None
    segments: int
    encoding: Literal["GSM-7", "UCS-2"]
    guard_notes: list[str]
    blocked: bool


class TranscriptLine(TypedDict):
    """One line of the conversation on this shopper's thread."""

    role: Literal["shopper", "store"]
    text: str
    at: str
    message_type: str | None


class TurnInput(TypedDict, total=False):
    """What starts a turn: an inbound text, or a proactive trigger."""

    shopper_id: str
    text: str | None
    trigger: Trigger | None
    message_id: str
    received_at: str


class HumanReview(TypedDict):
    """What a person decided about a hand-off reply before it left."""

    action: Literal["send", "edit", "skip"]
    text: str | None
    reviewer: str | None


class TurnState(TurnInput, total=False):
    """The state of one shopper's thread.

    Per-turn fields (gate, decisions, products, draft, outbound) are reset by
    `load_context` at the start of every turn; `transcript` accumulates across turns
    (reducer: list concatenation) and is what a later turn sees of earlier ones.
    """

    shopper: ShopperContext
    gate: GateResult | None
    intent: Decision | None
    buy_likelihood: Decision | None
    tone: Decision | None
    products: list[ProductCard]
    asked_product_id: str | None
    needs: ShopperNeeds | None
    retrieval_note: str | None
    personalisation: Personalisation | None
    # Kept across turns (not reset): what "the first one" or "the cheaper one" refers to.
    recommended: Recommended | None
    fit: Decision | None
    # What the text asks (kind, size, colour, policy topic) and the answer built from
    # evidence; the reply says the answer first.
    question: AskedQuestion | None
    answer: Answer | None
    next_message: Decision | None
    wording: Decision | None
    review: HumanReview | None
    outbound: Outbound | None
    delivery: dict[str, Any] | None
    transcript: Annotated[list[TranscriptLine], operator.add]


DECISION_NAMES: tuple[DecisionName, ...] = get_args(DecisionName)


def decisions_of(state: TurnState) -> dict[DecisionName, Decision]:
    """The decisions taken so far this turn, by name."""
    found: dict[DecisionName, Decision] = {}
    for name in DECISION_NAMES:
        decision = state.get(name)
        if isinstance(decision, dict):
            found[name] = decision  # type: ignore[assignment]
    return found


def decision_value(state: TurnState, name: DecisionName, default: Any = None) -> Any:
    """The value of one decision this turn, or `default` when it was not taken."""
    decision = decisions_of(state).get(name)
    return decision["value"] if decision else default
