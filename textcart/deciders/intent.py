"""Intent: what the shopper wants from this text, read in the conversation it belongs to.

A text is judged together with what the store said just before it: the type of the store's
previous message and whether it showed products. "yes please" after an offer is a purchase;
the same words with nothing before them are small talk; "the grey one" after a list of
products asks about one of them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.language_models import BaseChatModel
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from textcart.deciders.base import load_prompt_file, prompt_messages
from textcart.deciders.embedding_classifier import EmbeddingClassifier
from textcart.tools.embeddings import Embedder
from textcart.tools.llm import ainvoke_structured
from textcart.vocabulary.labels import MESSAGE_TYPES
from textcart.vocabulary.outputs import IntentResult

# Store messages that put products in front of the shopper (the ones "it" can refer to).
PRODUCT_MESSAGE_TYPES = frozenset(
    {"recommend_products", "send_offer", "nudge_checkout", "answer_question"}
)
# How much the context columns weigh against the unit-length text embedding. Chosen by
# cross-validation on the prompt's examples (benchmarks/intent_models.py): strong enough to
# decide a "yes please", too weak to overrule a text that says what it wants.
CONTEXT_WEIGHT = 1.0
# Seed of the augmentation below, so the live model is the same on every start.
AUGMENT_SEED = 12


@dataclass(frozen=True)
class IntentContext:
    """What the store said just before the shopper's text (nothing: the shopper spoke first)."""

    previous_type: str | None = None
    shown_products: tuple[str, ...] = ()

    @property
    def showed_products(self) -> bool:
        """Whether products were in front of the shopper when they wrote."""
        return bool(self.shown_products)


NO_CONTEXT = IntentContext()


@dataclass(frozen=True)
class IntentExamples:
    """The prompt's labelled texts, each with the store message it answers (if any)."""

    texts: list[str]
    labels: list[str]
    contexts: list[IntentContext]


def prompt_examples() -> tuple[list[str], list[str]]:
    """The labelled texts in `prompts/intent.yaml` (context-free and in context alike)."""
    examples = load_prompt_file("intent")["examples"]
    return [e["text"] for e in examples], [e["label"] for e in examples]


def example_context(after: str | None) -> IntentContext:
    """The context an example's `after:` names; product messages count as showing one."""
    if after is None:
        return NO_CONTEXT
    shown = ("(shown)",) if after in PRODUCT_MESSAGE_TYPES else ()
    return IntentContext(previous_type=after, shown_products=shown)


def training_rows(
    texts: Sequence[str],
    labels: Sequence[str],
    afters: Sequence[str | None],
    seed: int = AUGMENT_SEED,
) -> IntentExamples:
    """Labelled examples as training rows, context-free ones also in a random context.

    An example without `after:` means the same whatever the store said before, so it is
    taught twice: with no context and after a message type drawn at random. Without that,
    every example in context would teach that the context alone decides the label.
    """
    rng = random.Random(seed)
    rows = IntentExamples([], [], [])
    for text, label, after in zip(texts, labels, afters, strict=True):
        rows.texts.append(text)
        rows.labels.append(label)
        rows.contexts.append(example_context(after))
        if after is None:
            drawn = rng.choice(MESSAGE_TYPES)
            shown = ("(shown)",) if rng.random() < 0.5 else ()
            rows.texts.append(text)
            rows.labels.append(label)
            rows.contexts.append(IntentContext(previous_type=drawn, shown_products=shown))
    return rows


def training_examples() -> IntentExamples:
    """The prompt's examples as the live decider's training rows."""
    examples = load_prompt_file("intent")["examples"]
    return training_rows(
        [e["text"] for e in examples],
        [e["label"] for e in examples],
        [e.get("after") for e in examples],
    )


def context_features(contexts: Sequence[IntentContext], weight: float = CONTEXT_WEIGHT) -> Any:
    """One row per context: the store's previous message type (one-hot, or none) and shown."""
    slots = [None, *MESSAGE_TYPES]
    rows = np.zeros((len(contexts), len(slots) + 1), dtype=np.float32)
    for i, context in enumerate(contexts):
        previous = context.previous_type if context.previous_type in MESSAGE_TYPES else None
        rows[i, slots.index(previous)] = 1.0
        rows[i, -1] = float(context.showed_products)
    return rows * weight


class ContextualIntentModel:
    """Logistic regression on what a text says, how it is spelled, and what came before it.

    Columns: the text's MiniLM embedding (meaning); TF-IDF of its character 2-4-grams
    (spelling: "u", "pls", "hav", typos and fragments that embeddings blur); and the
    context features (`context_features`). benchmarks/intent_models.py measures each part.
    """

    def __init__(
        self,
        weight: float = CONTEXT_WEIGHT,
        c: float = 10.0,
        balanced: bool = True,
        chars: bool = True,
    ) -> None:
        """Create an unfitted model; `weight` scales the context columns.

        `balanced` weighs every label alike, however many examples we happened to write
        for it (logistic regression otherwise leans to the labels with the most).
        """
        self.weight = weight
        self.c = c
        self.balanced = balanced
        self.labels: list[str] = []
        self._chars = (
            TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=(2, 4),
                min_df=2,
                max_features=4000,
                sublinear_tf=True,
            )
            if chars
            else None
        )
        self._logreg: LogisticRegression | None = None

    def _rows(
        self,
        vectors: np.ndarray,
        contexts: Sequence[IntentContext],
        texts: Sequence[str],
        fit: bool = False,
    ) -> Any:
        dense = np.hstack([vectors, context_features(contexts, self.weight)])
        if self._chars is None:
            return dense
        lowered = [text.casefold() for text in texts]
        grams = self._chars.fit_transform(lowered) if fit else self._chars.transform(lowered)
        return sparse.hstack([sparse.csr_matrix(dense), grams]).tocsr()

    def fit(
        self,
        vectors: np.ndarray,
        contexts: Sequence[IntentContext],
        texts: Sequence[str],
        labels: Sequence[str],
    ) -> ContextualIntentModel:
        """Fit from text embeddings, their contexts, the texts and labels; returns self."""
        self.labels = sorted(set(labels))
        y = np.array([self.labels.index(label) for label in labels])
        # tol 1e-3: the same predictions as the default 1e-4 on every set we measure, in
        # half the start-up time.
        self._logreg = LogisticRegression(
            C=self.c,
            tol=1e-3,
            max_iter=3000,
            class_weight="balanced" if self.balanced else None,
        ).fit(self._rows(vectors, contexts, texts, fit=True), y)
        return self

    def predict(
        self, vectors: np.ndarray, contexts: Sequence[IntentContext], texts: Sequence[str]
    ) -> list[tuple[str, float]]:
        """Label and confidence (0..1) for each text (and its embedding) in its context."""
        if self._logreg is None:
            raise RuntimeError("model is not fitted")
        probs = self._logreg.predict_proba(self._rows(vectors, contexts, texts))
        best = probs.argmax(axis=1)
        return [(self.labels[i], float(probs[row, i])) for row, i in enumerate(best)]


class ClassicIntent:
    """The classic intent decider on MiniLM embeddings.

    From the prompt's examples: logistic regression on the embedding, character n-grams and
    the store's previous message (`ContextualIntentModel`). With a classifier `textcart fit intent`
    wrote (text only, fit on real logs), that classifier, and the context is not used.
    """

    def __init__(self, embedder: Embedder, classifier: EmbeddingClassifier | None = None):
        """Fit from the prompt's examples unless a fitted classifier is given."""
        self.embedder = embedder
        self.classifier: EmbeddingClassifier | ContextualIntentModel
        if classifier is None:
            examples = training_examples()
            vectors = embedder.embed(examples.texts)
            self.classifier = ContextualIntentModel().fit(
                vectors, examples.contexts, examples.texts, examples.labels
            )
        else:
            self.classifier = classifier

    def _predict(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        contexts: Sequence[IntentContext] | None,
    ) -> list[tuple[str, float]]:
        if isinstance(self.classifier, ContextualIntentModel):
            given = list(contexts) if contexts is not None else [NO_CONTEXT] * len(texts)
            return self.classifier.predict(vectors, given, texts)
        return self.classifier.predict_vectors(vectors)

    def predict(
        self, texts: Sequence[str], contexts: Sequence[IntentContext] | None = None
    ) -> list[tuple[str, float]]:
        """Label and confidence for each text, embedded in batches (no context: first text)."""
        return self._predict(self.embedder.embed(list(texts)), texts, contexts)

    def _predict_one(self, text: str, context: IntentContext) -> tuple[str, float]:
        return self._predict(self.embedder.embed_query(text)[None, :], [text], [context])[0]

    async def decide(self, text: str, context: IntentContext = NO_CONTEXT) -> IntentResult:
        """Classify one text in its context."""
        label, confidence = await asyncio.to_thread(self._predict_one, text, context)
        after = f" after the store's {context.previous_type}" if context.previous_type else ""
        return IntentResult(
            label=label,  # type: ignore[arg-type]
            confidence=round(confidence, 3),
            rationale=f"closest labelled examples{after} are {label}",
        )


def _few_shot(per_label: int = 3, in_context: int = 14) -> str:
    """Some context-free examples of every label, then examples that need their context."""
    counts: dict[str, int] = {}
    plain: list[str] = []
    contextual: list[str] = []
    for example in load_prompt_file("intent")["examples"]:
        after = example.get("after")
        if after is not None:
            if len(contextual) < in_context:
                contextual.append(
                    f'- after the store\'s {after}: "{example["text"]}" -> {example["label"]}'
                )
        elif counts.get(example["label"], 0) < per_label:
            counts[example["label"]] = counts.get(example["label"], 0) + 1
            plain.append(f'- "{example["text"]}" -> {example["label"]}')
    return "\n".join(plain + contextual)


async def llm_intent(
    model: BaseChatModel,
    *,
    method: Any,
    timeout_s: float,
    text: str,
    recent_lines: list[str],
    context: IntentContext = NO_CONTEXT,
) -> IntentResult:
    """Ask the LLM for the intent of one text, given the conversation just before it."""
    case: dict[str, Any] = {
        "earlier_in_conversation": recent_lines[-4:],
        "store_previous_message_type": context.previous_type,
        "products_the_store_showed": list(context.shown_products[:5]),
    }
    messages = prompt_messages("intent", case, _few_shot(), untrusted_text=text)
    return await ainvoke_structured(
        model, IntentResult, messages, method=method, timeout_s=timeout_s
    )
