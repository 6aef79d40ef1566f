"""Structured outputs: what a decider (LLM or classic) must return.

Pydantic models with constrained fields; anything that does not validate never reaches the
graph.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from textcart.vocabulary.labels import Intent, MessageType, Tone


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
