"""Next message type: the edge of the graph, where a team would otherwise fit a Markov model.

The classic decider is the policy learned from the message log (`next_message_policy`),
falling back to the prompt's labelled examples where the log is thin; the LLM stand-in is
shown that policy's evidence for the shopper's state.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel

from textcart.deciders.base import load_prompt_file, prompt_messages
from textcart.deciders.next_message_policy import (
    Choice,
    LearnedPolicy,
    NextMessagePolicy,
    choice_probabilities,
    conversation_rng,
    policy_path,
)
from textcart.tools.llm import ainvoke_structured
from textcart.vocabulary.outputs import NextMessageResult

log = logging.getLogger("textcart.deciders.next_message")


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
    """The next-message policy learned from the log, with the prompt's examples as prior.

    Without a policy file it answers from the examples alone. With `explore` it samples
    (Thompson, seeded) instead of taking the best rate; otherwise it is deterministic.
    """

    def __init__(
        self,
        policy: NextMessagePolicy | None = None,
        *,
        explore: bool = False,
        seed: int = 0,
        explore_rate: float = 0.0,
    ):
        """Use `policy` (learned, fixed or random), or the examples alone when none is given.

        `explore` samples on every decision; `explore_rate` on that share of decisions
        (`TEXTCART_EXPLORE_RATE` in production), exploiting on the rest.
        """
        if not 0.0 <= explore_rate <= 1.0:
            raise ValueError(f"the exploration rate must be between 0 and 1, not {explore_rate}")
        self.policy = policy or LearnedPolicy(prior_examples())
        self.explore_rate = 1.0 if explore else explore_rate
        self._rng = random.Random(seed)

    @property
    def explore(self) -> bool:
        """Whether this decider samples at all."""
        return self.explore_rate > 0

    @classmethod
    def from_file(cls, path: Path | None = None, explore_rate: float = 0.0) -> ClassicNextMessage:
        """Load the policy file `textcart policy fit` wrote, if there is one."""
        path = path or policy_path()
        if not path.exists():
            return cls(explore_rate=explore_rate)
        try:
            return cls(LearnedPolicy.load(path, prior_examples()), explore_rate=explore_rate)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring the policy file %s: %s", path, exc)
            return cls(explore_rate=explore_rate)

    async def decide(self, case: NextMessageCase, *, question: bool = False) -> NextMessageResult:
        """Choose the next message type.

        `question`: the shopper texted us. Exploration never answers their text with
        `no_reply`; the best-rated type then stands.
        """
        rng = (conversation_rng.get() or self._rng) if self.explore else None
        if rng is not None and self.explore_rate < 1.0 and rng.random() >= self.explore_rate:
            rng = None  # this decision exploits
        choice = self.policy.choose(case, rng)
        if rng is not None and question and choice.message_type == "no_reply":
            choice = self.policy.choose(case, None)
        return NextMessageResult(
            message_type=choice.message_type,  # type: ignore[arg-type]
            rationale=choice.rationale,
        )

    def propensity(self, case: NextMessageCase, message_type: str) -> float:
        """The chance this decider had of choosing `message_type` in `case` (for replay)."""
        return choice_probabilities(self.policy, case, self.explore_rate).get(message_type, 0.0)


class FixedPolicy:
    """The transition table from the prompt's examples alone: the policy before any log."""

    def __init__(self) -> None:
        """Fit the table from `prompts/next_message.yaml`."""
        self.table = TransitionTable(prior_examples())

    def choose(self, case: Mapping[str, Any], rng: random.Random | None = None) -> Choice:
        """The most frequent type for the state (`rng` is ignored: nothing to explore)."""
        label, why = self.table.choose(case)
        return Choice(label, {}, why)


def prior_examples() -> list[dict[str, Any]]:
    """The labelled situations of `prompts/next_message.yaml`."""
    return list(load_prompt_file("next_message")["examples"])


def _few_shot(limit: int = 16) -> str:
    lines = []
    for e in prior_examples()[:limit]:
        case = {k: e[k] for k in NextMessageCase.__annotations__ if k in e}
        lines.append(f"- {case} -> {e['label']} ({e.get('why', '')})")
    return "\n".join(lines)


def _what_worked_before(policy: NextMessagePolicy, case: NextMessageCase) -> dict[str, Any] | None:
    """The learned policy's evidence for this state, when a log has been learned from."""
    if not isinstance(policy, LearnedPolicy) or not policy.decisions_seen:
        return None
    return policy.evidence(case)


async def llm_next_message(
    model: BaseChatModel,
    *,
    method: Any,
    timeout_s: float,
    case: NextMessageCase,
    text: str | None,
    recent_lines: list[str],
    learned_from: NextMessagePolicy,
) -> NextMessageResult:
    """Ask the LLM which message to send next, showing it what worked before.

    `learned_from` is the policy of the live classic decider: what it learned from the
    message log is shown to the model as evidence.
    """
    shown: dict[str, Any] = {**case, "earlier_in_conversation": recent_lines[-6:]}
    evidence = _what_worked_before(learned_from, case)
    if evidence is not None:
        shown["what_worked_before_for_similar_shoppers"] = evidence
    messages = prompt_messages(
        "next_message",
        shown,
        _few_shot(),
        untrusted_text=text or "(no text: proactive message)",
    )
    return await ainvoke_structured(
        model, NextMessageResult, messages, method=method, timeout_s=timeout_s
    )
