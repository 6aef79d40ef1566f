"""Which classic intent model to ship: cross-validation on our examples, then real data.

    .venv/bin/python benchmarks/intent_models.py [--folds 5] [--no-real-data]

Candidate models, all on the same MiniLM embeddings of the examples in
`textcart/prompts/intent.yaml`:

- centroid: nearest label centroid (text only);
- knn: 5 nearest examples by cosine, weighted by similarity (text only);
- logreg: logistic regression on the embedding (text only; the decider before issue 12);
- logreg+context: the same beside the store's previous message type and whether it showed
  products (`ContextualIntentModel` without character n-grams), label weights balanced
  (and, once, unbalanced), context weight 0.5 and 1;
- logreg+context×text: the same plus the embedding crossed with the message type;
- logreg+context+chars: plus character 2-4-gram TF-IDF of the text, context weight 0.5,
  1 and 2 (1 is the live decider, `ClassicIntent`).

Prints, per model: accuracy and macro-F1 of stratified k-fold cross-validation on our own
examples (an example and its augmented copy always fall in the same fold; each held-out
example is judged in its own context), the same accuracy on the examples that carry a
store message (`cv ctx`), and, fit on all examples, accuracy and recall of
product_question / recommendation_request on `../shared/data/intents/shopping_dev.csv`
and macro-F1 on `../shared/data/intents/dev.csv` (when present; those texts carry no
conversation, so they are judged with no store message before them).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from textcart.deciders.base import load_prompt_file
from textcart.deciders.intent import (
    CONTEXT_WEIGHT,
    NO_CONTEXT,
    ContextualIntentModel,
    IntentContext,
    context_features,
    example_context,
    training_rows,
)
from textcart.evaluation.intents import accuracy, macro_f1, per_label, read_labelled
from textcart.tools.embeddings import get_embedder

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "intents"

Rows = tuple[np.ndarray, list[IntentContext], list[str]]


@dataclass
class Candidate:
    """A model: fit(vectors, contexts, texts, labels) -> predict(vectors, contexts, texts)."""

    name: str
    fit: Callable[..., Callable[[np.ndarray, list[IntentContext], list[str]], list[str]]]


def _centroid(v: np.ndarray, c: list[IntentContext], t: list[str], y: list[str]) -> Any:
    labels = sorted(set(y))
    ya = np.array(y)
    cents = np.stack([v[ya == label].mean(axis=0) for label in labels])
    cents /= np.linalg.norm(cents, axis=1, keepdims=True)
    return lambda v2, c2, t2: [labels[i] for i in (v2 @ cents.T).argmax(axis=1)]


def _knn(v: np.ndarray, c: list[IntentContext], t: list[str], y: list[str], k: int = 5) -> Any:
    labels = sorted(set(y))
    yi = np.array([labels.index(label) for label in y])

    def predict(v2: np.ndarray, c2: list[IntentContext], t2: list[str]) -> list[str]:
        sims = v2 @ v.T
        out = []
        for row in sims:
            top = np.argsort(-row)[:k]
            votes = np.bincount(yi[top], weights=np.maximum(row[top], 0), minlength=len(labels))
            out.append(labels[int(votes.argmax())])
        return out

    return predict


def _logreg(v: np.ndarray, c: list[IntentContext], t: list[str], y: list[str]) -> Any:
    labels = sorted(set(y))
    model = LogisticRegression(C=10.0, max_iter=3000).fit(v, [labels.index(x) for x in y])
    return lambda v2, c2, t2: [labels[i] for i in model.predict(v2)]


def _contextual(weight: float, balanced: bool = True, chars: bool = False) -> Callable[..., Any]:
    def fit(v: np.ndarray, c: list[IntentContext], t: list[str], y: list[str]) -> Any:
        model = ContextualIntentModel(weight=weight, balanced=balanced, chars=chars)
        model.fit(v, c, t, y)
        return lambda v2, c2, t2: [label for label, _ in model.predict(v2, c2, t2)]

    return fit


def _interactions(v: np.ndarray, c: list[IntentContext], t: list[str], y: list[str]) -> Any:
    labels = sorted(set(y))

    def rows(v2: np.ndarray, c2: list[IntentContext]) -> np.ndarray:
        ctx = context_features(c2, 1.0)
        crossed = (v2[:, :, None] * ctx[:, None, :]).reshape(len(v2), -1)
        return np.hstack([v2, ctx, crossed * 0.5])

    model = LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced").fit(
        rows(v, c), [labels.index(x) for x in y]
    )
    return lambda v2, c2, t2: [labels[i] for i in model.predict(rows(v2, c2))]


CANDIDATES = [
    Candidate("centroid", _centroid),
    Candidate("knn", _knn),
    Candidate("logreg", _logreg),
    Candidate("logreg+context unbalanced", _contextual(CONTEXT_WEIGHT, balanced=False)),
    Candidate("logreg+context w0.5", _contextual(0.5)),
    Candidate("logreg+context w1", _contextual(1.0)),
    Candidate("logreg+context×text", _interactions),
    Candidate("logreg+context+chars w0.5", _contextual(0.5, chars=True)),
    Candidate("logreg+context+chars w1 (live)", _contextual(CONTEXT_WEIGHT, chars=True)),
    Candidate("logreg+context+chars w2", _contextual(2.0, chars=True)),
]


def _augmented(
    indices: Sequence[int], texts: list[str], labels: list[str], afters: list[str | None]
) -> tuple[list[int], list[IntentContext]]:
    """Training rows for some examples, as the live decider makes them (row indices)."""
    rows = training_rows(
        [str(i) for i in indices], [labels[i] for i in indices], [afters[i] for i in indices]
    )
    return [int(i) for i in rows.texts], rows.contexts


def main() -> None:
    """Print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--no-real-data", action="store_true")
    args = parser.parse_args()

    examples = load_prompt_file("intent")["examples"]
    texts = [e["text"] for e in examples]
    labels = [e["label"] for e in examples]
    afters = [e.get("after") for e in examples]
    embedder = get_embedder()
    vectors = embedder.embed(texts)
    real: dict[str, Rows] = {}
    real_texts: dict[str, list[str]] = {}
    if not args.no_real_data:
        for name in ("shopping_dev", "dev"):
            path = SHARED / f"{name}.csv"
            if path.is_file():
                data = read_labelled(path)
                contexts = [NO_CONTEXT] * len(data.texts)
                real[name] = (embedder.embed(data.texts), contexts, data.labels)
                real_texts[name] = data.texts
            else:
                print(f"{path} not present: skipping it")

    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=12)
    print(
        f"{len(texts)} examples ({sum(a is not None for a in afters)} in context), "
        f"{args.folds}-fold cross-validation"
    )
    header = f"{'model':30} {'cv acc':>7} {'cv mF1':>7} {'cv ctx':>7}"
    if "shopping_dev" in real:
        header += f" {'shop acc':>8} {'pq rec':>6} {'rr rec':>6}"
    if "dev" in real:
        header += f" {'dev mF1':>7}"
    print(header + f" {'fit s':>6}")
    for candidate in CANDIDATES:
        predicted = [""] * len(texts)
        for train, test in folds.split(texts, labels):
            rows, contexts = _augmented(train, texts, labels, afters)
            model = candidate.fit(
                vectors[rows], contexts, [texts[i] for i in rows], [labels[i] for i in rows]
            )
            out = model(
                vectors[test],
                [example_context(afters[i]) for i in test],
                [texts[i] for i in test],
            )
            for i, label in zip(test, out, strict=True):
                predicted[i] = label
        line = f"{candidate.name:30} {accuracy(labels, predicted):7.3f} "
        line += f"{macro_f1(labels, predicted):7.3f}"
        in_context = [i for i, a in enumerate(afters) if a is not None]
        if in_context:
            gold_c = [labels[i] for i in in_context]
            line += f" {accuracy(gold_c, [predicted[i] for i in in_context]):7.3f}"
        start = time.perf_counter()
        rows, contexts = _augmented(range(len(texts)), texts, labels, afters)
        model = candidate.fit(
            vectors[rows], contexts, [texts[i] for i in rows], [labels[i] for i in rows]
        )
        fit_s = time.perf_counter() - start
        if "shopping_dev" in real:
            v, c, gold = real["shopping_dev"]
            out = model(v, c, real_texts["shopping_dev"])
            scores = per_label(gold, out)
            line += f" {accuracy(gold, out):8.3f} {scores['product_question'].recall:6.3f}"
            line += f" {scores['recommendation_request'].recall:6.3f}"
        if "dev" in real:
            v, c, gold = real["dev"]
            line += f" {macro_f1(gold, model(v, c, real_texts['dev'])):7.3f}"
        print(line + f" {fit_s:6.2f}")


if __name__ == "__main__":
    main()
