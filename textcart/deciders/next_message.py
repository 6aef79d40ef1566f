"""Next message type: the edge of the graph, where a team would otherwise fit a Markov model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel

from textcart.deciders.base import load_prompt_file, prompt_messages
from textcart.graph.state import NextMessageResult
from textcart.tools.llm import ainvoke_structured


class NextMessageCase(TypedDict):
    """What the next-message decision sees."""

    intent: str
    buy_likelihood_band: str
    last_message_type: str | None
    turns_so_far: int
    has_products: bool


class TransitionTable:
    """Most frequent next message per state, backing off to coarser states when unseen.

    States go from (intent, band, last message, has products) down to (intent) and the
    overall majority, so every case gets an answer learned from labelled examples or logs.
    """

    def __init__(self, rows: Iterable[Mapping[str, Any]]):
        """Count labelled rows: each has the NextMessageCase keys and a `label`."""
        self._counts: dict[tuple[Any, ...], Counter[str]] = {}
        for row in rows:
            for key in self._keys(row):
                self._counts.setdefault(key, Counter())[row["label"]] += 1
        if not self._counts:
            raise ValueError("no labelled rows to learn from")

    @staticmethod
    def _keys(case: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        intent, band = case["intent"], case["buy_likelihood_band"]
        return [
            ("full", intent, band, case.get("last_message_type"), bool(case["has_products"])),
            ("products", intent, band, bool(case["has_products"])),
            ("band", intent, band),
            ("intent", intent),
            ("all",),
        ]

    def choose(self, case: Mapping[str, Any]) -> tuple[str, str]:
        """The message type and the state level it was learned at."""
        for key in self._keys(case):
            counts = self._counts.get(key)
            if counts:
                label, seen = counts.most_common(1)[0]
                return label, f"{label} in {seen}/{sum(counts.values())} examples at level {key[0]}"
        raise AssertionError("the 'all' level always exists")


class ClassicNextMessage:
    """The transition table fit from `prompts/next_message.yaml`."""

    def __init__(self, table: TransitionTable | None = None):
        """Fit from the prompt examples unless a table is given."""
        self.table = table or TransitionTable(load_prompt_file("next_message")["examples"])

    async def decide(self, case: NextMessageCase) -> NextMessageResult:
        """Choose the next message type."""
        label, why = self.table.choose(case)
        return NextMessageResult(message_type=label, rationale=why)  # type: ignore[arg-type]


def _few_shot(limit: int = 16) -> str:
    lines = []
    for e in load_prompt_file("next_message")["examples"][:limit]:
        case = {k: e[k] for k in NextMessageCase.__annotations__ if k in e}
        lines.append(f"- {case} -> {e['label']} ({e.get('why', '')})")
    return "\n".join(lines)


async def llm_next_message(
    model: BaseChatModel,
    *,
    method: Any,
    timeout_s: float,
    case: NextMessageCase,
    text: str | None,
    recent_lines: list[str],
) -> NextMessageResult:
    """Ask the LLM which message to send next."""
    messages = prompt_messages(
        "next_message",
        {**case, "earlier_in_conversation": recent_lines[-6:]},
        _few_shot(),
        untrusted_text=text or "(no text: proactive message)",
    )
    return await ainvoke_structured(
        model, NextMessageResult, messages, method=method, timeout_s=timeout_s
    )
