"""Records kept in graph state and the message log: plain JSON, readable in Studio.

TypedDicts, not classes with behaviour, so that checkpoints deserialize on any server
without registering custom types.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, NotRequired, TypedDict, TypeVar

from textcart.vocabulary.labels import DeciderKind, DecisionName

V = TypeVar("V")


class Decision(TypedDict, Generic[V]):
    """One decision as recorded in state: what was decided, by whom, and why."""

    name: DecisionName
    value: V
    decider: DeciderKind
    fallback_reason: str | None
    rationale: str
    latency_ms: float
    # The next-message decision only: the chance the classic decider had of this choice.
    propensity: NotRequired[float]


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
    currency: NotRequired[str]  # ISO 4217; USD when absent
    model_id: NotRequired[str | None]  # what its colourways share; None: read from the title


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


class RefusedDraft(TypedDict):
    """A draft the output guard refused, and why: `rewrite_draft` replaces it."""

    text: str
    problems: list[str]
    # An LLM draft (that did not fall back) goes back to the model once before the template.
    model_may_retry: bool


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


class HumanReview(TypedDict):
    """What a person decided about a hand-off reply before it left."""

    action: Literal["send", "edit", "skip"]
    text: str | None
    reviewer: str | None


class ShopperNeeds(TypedDict):
    """Constraints for this turn's product search."""

    budget_max: float | None
    size: str | None


class SmsFacts(TypedDict, total=False):
    """Everything a message may say. The output guard checks texts against these facts."""

    name: str
    store: str
    product: str
    price: str
    highlight: str
    alternative: str
    alternative_price: str
    products: str
    link: str
    offer_code: str
    offer_percent: str
    order_line: str
    question: str
    # The answer to what the shopper asked (said first) and the evidence behind it.
    answer: str
    evidence: str
    # A low-stock line, present only when stock really is low.
    scarcity: str
    # What will happen after a hand-off, and only that.
    handoff: str
