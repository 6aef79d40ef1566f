"""The answer step's records as they appear in the graph state (plain JSON, Studio-readable).

Kept apart from the modules that compute them so the graph state can name them without
importing the catalog or the order book.
"""

from __future__ import annotations

from typing import Literal, TypedDict, get_args

QuestionKind = Literal[
    "availability",
    "stock",
    "colours",
    "price",
    "fit",
    "spec",
    "material",
    "waterproof",
    "suitability",
    "care",
    "comparison",
    "detail",  # anything else about one product ("is it dishwasher safe?")
    "policy",
    "order_return",
    "order_change",
    "order_status",  # where the shopper's order is ("wheres my stuff?")
]
QUESTION_KINDS: tuple[str, ...] = get_args(QuestionKind)
ORDER_KINDS = frozenset({"order_return", "order_change", "order_status"})
PRODUCT_KINDS = frozenset(QUESTION_KINDS) - {"policy"} - ORDER_KINDS


class AskedQuestion(TypedDict):
    """What a text asks, as the answer step reads it (shown in Studio as `question`)."""

    kind: QuestionKind
    topic: str | None  # the policy topic, or the spec asked about (weight, drop, warmth...)
    topics: list[str]  # every policy topic (or spec, for a spec question) the text asks about
    size: str | None
    colour: str | None
    about_order: bool
    explicit: bool  # a question mark or a question word: the shopper expects an answer


AnswerStatus = Literal["yes", "no", "partly", "info", "unknown"]


class Answer(TypedDict):
    """The answer to this turn's question, and everything it rests on."""

    kind: str
    status: AnswerStatus
    text: str
    product_id: str | None  # the product (colourway) the answer is about
    product_title: str | None
    price: str | None
    link: str | None
    sources: list[str]  # "product:<id>", "knowledge:<chunk id>", "order:<id>"
    facts: list[str]  # the literal evidence the text was built from
    scarcity: str | None  # a low-stock line, only when stock really is low
