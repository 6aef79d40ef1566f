"""Classic models fit on real data, on disk: what `textcart fit` writes and the graph loads.

Without a file, a classic decider fits itself from the labelled examples in `prompts/`
(the prototype). With one, the live graph uses the model fit on real data instead: the
"later trained model", on the same conversations. A file holds the fitted scikit-learn
objects and what they were fit on. It is a pickle, so it runs code when loaded: load only
files you wrote (they live in your data dir). A file that is unreadable, for another
decision, or written by another scikit-learn version is ignored with a warning, and the
decider answers from its examples, as if there were no file.
"""

from __future__ import annotations

import logging
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import sklearn
from sklearn.pipeline import Pipeline

from textcart import settings
from textcart.deciders.embedding_classifier import EmbeddingClassifier
from textcart.paths import data_dir
from textcart.tools.embeddings import Embedder

log = logging.getLogger("textcart.deciders")

FORMAT = 1
Decision = Literal["intent", "buy_likelihood"]


@dataclass(frozen=True)
class ModelFile:
    """A fitted model and where it came from."""

    decision: Decision
    model: Any
    trained_on: str
    rows: int
    sklearn_version: str


def model_path(decision: Decision) -> Path:
    """`$TEXTCART_<DECISION>_MODEL_FILE` if set, else `models/<decision>.pkl` in the data dir."""
    configured: Path | None = getattr(settings.current(), f"{decision}_model_file")
    return configured or data_dir() / "models" / f"{decision}.pkl"


def save_model(path: Path, decision: Decision, model: Any, trained_on: str, rows: int) -> None:
    """Write the file atomically (a running server may be reading the old one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "decision": decision,
        "sklearn": sklearn.__version__,
        "trained_on": trained_on,
        "rows": rows,
        "model": model,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL))
    tmp.replace(path)


def load_model(decision: Decision, path: Path | None = None) -> ModelFile | None:
    """The fitted model for `decision`, or None (no file, or one that cannot be used)."""
    path = path or model_path(decision)
    if not path.exists():
        return None
    try:
        payload = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, see above
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError("not a textcart model file")
        if payload["decision"] != decision:
            raise ValueError(f"it holds the {payload['decision']} model, not the {decision} one")
        if payload["sklearn"] != sklearn.__version__:
            raise ValueError(
                f"written by scikit-learn {payload['sklearn']}, this is {sklearn.__version__}: "
                "fit it again"
            )
        return ModelFile(
            decision,
            payload["model"],
            str(payload["trained_on"]),
            int(payload["rows"]),
            payload["sklearn"],
        )
    except Exception as exc:  # unpickling can raise anything; the decider must still answer
        log.warning("ignoring the %s model file %s: %s", decision, path, exc)
        return None


def _checked(decision: Decision, kind: type, path: Path | None) -> ModelFile | None:
    found = load_model(decision, path)
    if found is not None and not isinstance(found.model, kind):
        log.warning(
            "ignoring the %s model file: it holds a %s, not a %s",
            decision,
            type(found.model).__name__,
            kind.__name__,
        )
        return None
    if found is not None:
        log.info("%s: the model fit on %s (%d rows)", decision, found.trained_on, found.rows)
    return found


def load_intent_classifier(
    embedder: Embedder, path: Path | None = None
) -> EmbeddingClassifier | None:
    """The intent classifier `textcart fit intent` wrote, on `embedder`, or None."""
    found = _checked("intent", EmbeddingClassifier, path)
    if found is None:
        return None
    classifier: EmbeddingClassifier = found.model
    classifier.embedder = embedder
    return classifier


def load_buy_likelihood_pipeline(path: Path | None = None) -> Pipeline | None:
    """The buy-likelihood pipeline `textcart fit buy-likelihood` wrote, or None."""
    found = _checked("buy_likelihood", Pipeline, path)
    return None if found is None else found.model  # type: ignore[no-any-return]
