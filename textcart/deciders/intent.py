"""Intent: what the shopper wants from this text."""

from __future__ import annotations

import asyncio
from typing import Any

from langchain_core.language_models import BaseChatModel

from textcart.deciders.base import load_prompt_file, prompt_messages
from textcart.deciders.embedding_classifier import EmbeddingClassifier
from textcart.graph.state import IntentResult
from textcart.tools.embeddings import Embedder
from textcart.tools.llm import ainvoke_structured


def prompt_examples() -> tuple[list[str], list[str]]:
    """The labelled texts in `prompts/intent.yaml`."""
    examples = load_prompt_file("intent")["examples"]
    return [e["text"] for e in examples], [e["label"] for e in examples]


class ClassicIntent:
    """Nearest-centroid (or, fit on real data, logistic regression) on MiniLM embeddings."""

    def __init__(self, embedder: Embedder, classifier: EmbeddingClassifier | None = None):
        """Fit from the prompt's examples unless a fitted classifier is given."""
        if classifier is None:
            texts, labels = prompt_examples()
            classifier = EmbeddingClassifier(embedder).fit(texts, labels)
        self.classifier = classifier

    async def decide(self, text: str) -> IntentResult:
        """Classify one text."""
        label, confidence = await asyncio.to_thread(self.classifier.predict_one, text)
        return IntentResult(
            label=label,  # type: ignore[arg-type]
            confidence=round(confidence, 3),
            rationale=f"closest labelled examples are {label}",
        )


def _few_shot(per_label: int = 3) -> str:
    counts: dict[str, int] = {}
    lines = []
    for example in load_prompt_file("intent")["examples"]:
        if counts.get(example["label"], 0) < per_label:
            counts[example["label"]] = counts.get(example["label"], 0) + 1
            lines.append(f'- "{example["text"]}" -> {example["label"]}')
    return "\n".join(lines)


async def llm_intent(
    model: BaseChatModel,
    *,
    method: Any,
    timeout_s: float,
    text: str,
    recent_lines: list[str],
) -> IntentResult:
    """Ask the LLM for the intent of one text, given the last few lines of conversation."""
    messages = prompt_messages(
        "intent",
        {"earlier_in_conversation": recent_lines[-4:]},
        _few_shot(),
        untrusted_text=text,
    )
    return await ainvoke_structured(
        model, IntentResult, messages, method=method, timeout_s=timeout_s
    )
