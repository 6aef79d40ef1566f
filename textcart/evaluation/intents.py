"""Intent evaluation: read labelled texts, predict them with a decider, score the predictions.

The metrics are pure functions of gold and predicted labels. A text whose prediction
failed (an LLM error or timeout) carries the `FAILED` label, which is never gold, so it
counts as wrong everywhere.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sklearn.metrics import precision_recall_fscore_support

from textcart.deciders.embedding_classifier import EmbeddingClassifier
from textcart.deciders.intent import NO_CONTEXT, ClassicIntent, IntentContext, example_context
from textcart.tools.embeddings import Embedder
from textcart.vocabulary.labels import INTENTS, MESSAGE_TYPES
from textcart.vocabulary.outputs import IntentResult

FAILED = "(failed)"


class IntentDataError(ValueError):
    """The labelled-texts file cannot be evaluated as it is."""


@dataclass(frozen=True)
class LabelledTexts:
    """Texts with their gold intent labels, in file order.

    `afters` holds, per text, the type of the store message it answers (None: the shopper
    wrote first); empty when the file has no `after` column.
    """

    texts: list[str]
    labels: list[str]
    afters: list[str | None] = field(default_factory=list)

    def first(self, n: int | None) -> LabelledTexts:
        """The first `n` texts (all of them when `n` is None)."""
        if n is None:
            return self
        return LabelledTexts(self.texts[:n], self.labels[:n], self.afters[:n])

    def contexts(self) -> list[IntentContext]:
        """What the store said before each text, as the decider sees it."""
        if not self.afters:
            return [NO_CONTEXT] * len(self.texts)
        return [example_context(after) for after in self.afters]


def read_labelled(path: Path) -> LabelledTexts:
    """Read a `text,label[,after]` CSV (other columns ignored); labels must be known intents.

    `after`, when present, is the type of the store's message just before the text (empty:
    none), so texts like "yes please" can be scored in their conversation.
    """
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        fields = set(reader.fieldnames or [])
        missing = {"text", "label"} - fields
        if missing:
            raise IntentDataError(f"{path} lacks the column(s) {', '.join(sorted(missing))}")
        texts, labels, afters = [], [], []
        for row in reader:
            texts.append(row["text"] or "")
            labels.append((row["label"] or "").strip())
            afters.append((row.get("after") or "").strip() or None)
    if not texts:
        raise IntentDataError(f"{path} has no rows")
    odd = sorted({a for a in afters if a is not None and a not in MESSAGE_TYPES})
    if odd:
        raise IntentDataError(
            f"{path}: 'after' must be a message type ({', '.join(MESSAGE_TYPES)}); "
            f"found {', '.join(repr(a) for a in odd)}"
        )
    unknown = sorted(set(labels) - set(INTENTS))
    if unknown:
        rows = sum(label in unknown for label in labels)
        raise IntentDataError(
            f"{path}: {rows} row(s) have labels outside the intent vocabulary: "
            f"{', '.join(repr(label) for label in unknown)}. Known intents: {', '.join(INTENTS)}"
        )
    return LabelledTexts(texts, labels, afters if "after" in fields else [])


# --- Metrics ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelScore:
    """Precision, recall and F1 of one label, and how many gold texts carry it."""

    precision: float
    recall: float
    f1: float
    support: int


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of texts whose predicted label equals the gold one."""
    _check_lengths(gold, predicted)
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)


def gold_labels(gold: Sequence[str]) -> list[str]:
    """The labels present in the gold data, in the vocabulary's order."""
    present = set(gold)
    return [label for label in INTENTS if label in present] + sorted(present - set(INTENTS))


def per_label(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, LabelScore]:
    """Precision, recall, F1 and support for each label present in the gold data.

    A label never predicted has precision 0 (not undefined), so it cannot look good.
    """
    _check_lengths(gold, predicted)
    labels = gold_labels(gold)
    precision, recall, f1, support = precision_recall_fscore_support(
        list(gold), list(predicted), labels=labels, zero_division=0
    )
    return {
        label: LabelScore(float(precision[i]), float(recall[i]), float(f1[i]), int(support[i]))
        for i, label in enumerate(labels)
    }


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Unweighted mean of the F1 of each label present in the gold data."""
    scores = per_label(gold, predicted)
    return sum(s.f1 for s in scores.values()) / len(scores)


def confusion(
    gold: Sequence[str], predicted: Sequence[str]
) -> tuple[list[str], list[str], list[list[int]]]:
    """Counts of (gold row, predicted column): gold labels, predicted labels, matrix.

    Rows are the gold labels; columns are the gold labels followed by any other label
    that was predicted (e.g. `FAILED`, or an intent absent from the gold data).
    """
    _check_lengths(gold, predicted)
    rows = gold_labels(gold)
    extra = sorted(set(predicted) - set(rows), key=lambda p: (p == FAILED, p))
    columns = rows + extra
    pairs = Counter(zip(gold, predicted, strict=True))
    return rows, columns, [[pairs[(row, column)] for column in columns] for row in rows]


@dataclass(frozen=True)
class IntentScores:
    """Everything the report shows about one decider's predictions."""

    n: int
    accuracy: float
    macro_f1: float
    failures: int
    per_label: dict[str, LabelScore]
    confusion_rows: list[str]
    confusion_columns: list[str]
    confusion: list[list[int]]

    def summary(self) -> dict[str, object]:
        """The scores as plain JSON-ready data."""
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "failures": self.failures,
            "per_label": {
                label: {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(s).items()}
                for label, s in self.per_label.items()
            },
            "confusion": {
                "rows": self.confusion_rows,
                "columns": self.confusion_columns,
                "matrix": self.confusion,
            },
        }


def score(gold: Sequence[str], predicted: Sequence[str]) -> IntentScores:
    """All metrics of predicted against gold labels."""
    rows, columns, matrix = confusion(gold, predicted)
    return IntentScores(
        n=len(gold),
        accuracy=accuracy(gold, predicted),
        macro_f1=macro_f1(gold, predicted),
        failures=sum(p == FAILED for p in predicted),
        per_label=per_label(gold, predicted),
        confusion_rows=rows,
        confusion_columns=columns,
        confusion=matrix,
    )


def _check_lengths(gold: Sequence[str], predicted: Sequence[str]) -> None:
    if len(gold) != len(predicted) or not gold:
        raise ValueError("need the same, non-zero number of gold and predicted labels")


# --- Deciders ---------------------------------------------------------------------------


def fit_classifier(embedder: Embedder, training: LabelledTexts) -> EmbeddingClassifier:
    """Logistic regression on the embeddings of labelled texts (embedded in batches)."""
    return EmbeddingClassifier(embedder, method="logreg").fit(training.texts, training.labels)


def classic_predictions(
    embedder: Embedder,
    texts: Sequence[str],
    classifier: EmbeddingClassifier | None = None,
    contexts: Sequence[IntentContext] | None = None,
) -> list[str]:
    """Labels from `ClassicIntent`: its prompt-example classifier unless one is given.

    The texts are embedded in batches rather than through `decide`, one at a time; the
    classifier, and so each label, is the same. Without `contexts` each text is judged as
    a shopper's first message (no store message before it).
    """
    decider = ClassicIntent(embedder, classifier)
    return [label for label, _ in decider.predict(texts, contexts)]


IntentCall = Callable[[str, IntentContext], Awaitable[IntentResult]]


async def llm_predictions(
    decide: IntentCall,
    texts: Sequence[str],
    on_text: Callable[[], None] = lambda: None,
    contexts: Sequence[IntentContext] | None = None,
) -> tuple[list[str], list[str]]:
    """Ask `decide` about each text in its context, in turn: (labels, one line per failure).

    Calls are sequential so that a single local model server is not queued up and the
    per-call time budget measures the model, not the queue. A call that raises gives
    the label `FAILED`. Without `contexts` every text is the shopper's first message.
    """
    labels: list[str] = []
    failures: list[str] = []
    for i, text in enumerate(texts):
        context = contexts[i] if contexts is not None else NO_CONTEXT
        try:
            labels.append((await decide(text, context)).label)
        except Exception as exc:  # noqa: BLE001 - any failure of the model is a wrong answer
            labels.append(FAILED)
            failures.append(f"{text[:60]!r}: {type(exc).__name__}: {str(exc)[:200]}")
        on_text()
    return labels, failures
