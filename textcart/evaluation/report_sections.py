"""What each part of `textcart report` hands back: the model it ran, its lines, its gap."""

from __future__ import annotations

from dataclasses import dataclass

from langchain_core.language_models import BaseChatModel

from textcart.tools.llm import StructuredMethod


@dataclass(frozen=True)
class ModelChoice:
    """The chat model behind the LLM stand-ins, and how to ask it."""

    spec: str
    chat: BaseChatModel
    method: StructuredMethod
    timeout_s: float


@dataclass
class Gap:
    """One line of the summary: a decision, the trained model's figure and the LLM's."""

    decision: str
    metric: str
    trained: str
    llm: str
    gap: str
    on: str


@dataclass
class Section:
    """Markdown lines of one part of the report, and its line in the summary."""

    lines: list[str]
    gap: Gap
