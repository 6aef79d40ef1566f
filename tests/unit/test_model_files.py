"""`textcart fit` writes a model file; the live graph's classic deciders load it, and a bad
file never stops them from answering (they fall back to the prompt's examples)."""

from __future__ import annotations

import csv
import logging
import pickle
from pathlib import Path

import pytest
from sklearn.pipeline import Pipeline
from typer.testing import CliRunner

from textcart.cli import app
from textcart.deciders.buy_likelihood import ClassicBuyLikelihood
from textcart.deciders.intent import ClassicIntent
from textcart.deciders.model_files import (
    load_buy_likelihood_pipeline,
    load_intent_classifier,
    load_model,
    save_model,
)
from textcart.graph.services import build_services
from textcart.tools.embeddings import get_embedder

TEXTS = {
    "order_status": ["where is my parcel", "has my order shipped", "track package 5521"],
    "complaint": ["this is terrible service", "the boots fell apart", "very unhappy with you"],
}


def _texts(path: Path) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        for label, texts in TEXTS.items():
            writer.writerows([t, label] for t in texts)
    return path


def _sessions(path: Path, n: int = 60) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["ProductRelated", "PageValues", "VisitorType", "Revenue"])
        for i in range(n):
            buys = i % 3 == 0
            writer.writerow([5 + i % 30, 40.0 if buys else 0.0, "Returning_Visitor", buys])
    return path


def test_a_fitted_intent_model_is_what_the_live_decider_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "models" / "intent.pkl"
    data = str(_texts(tmp_path / "t.csv"))
    args = ["fit", "intent", "--data", data, "--out", str(out), "--no-examples"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "6 rows" in result.output
    loaded = load_intent_classifier(get_embedder(), out)
    assert loaded is not None and loaded.labels == ["complaint", "order_status"]
    assert loaded.predict_one("where's my package?")[0] == "order_status"
    # The live graph: the classic intent decider knows only the two fitted labels now.
    monkeypatch.setenv("TEXTCART_INTENT_MODEL_FILE", str(out))
    services = build_services(get_embedder())
    assert services.intent.classifier.labels == ["complaint", "order_status"]
    # By default the prompt's examples join the data: every intent stays known.
    result = CliRunner().invoke(app, args[:-1])
    said = " ".join(result.output.split())
    assert "only the prompt's examples cover: billing_or_payment, cancel_or_change_order, " in said
    assert "complaint" not in said.split("cover:")[1].split(" fit ")[0]
    assert len(build_services(get_embedder()).intent.classifier.labels) == 14
    monkeypatch.delenv("TEXTCART_INTENT_MODEL_FILE")
    assert len(build_services(get_embedder()).intent.classifier.labels) == 14


def test_a_fitted_buy_likelihood_model_is_what_the_live_decider_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "bl.pkl"
    data = _sessions(tmp_path / "s.csv")
    result = CliRunner().invoke(
        app, ["fit", "buy-likelihood", "--data", str(data), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    pipeline = load_buy_likelihood_pipeline(out)
    assert isinstance(pipeline, Pipeline)
    monkeypatch.setenv("TEXTCART_BUY_LIKELIHOOD_MODEL_FILE", str(out))
    live = build_services(get_embedder()).buy_likelihood
    assert live.model is not ClassicBuyLikelihood().model
    assert live.model[-1].coef_.tolist() == pipeline[-1].coef_.tolist()


def test_bad_input_files_are_refused_clearly(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("nothing,useful\n1,2\n")
    for command in ("intent", "buy-likelihood"):
        result = CliRunner().invoke(app, ["fit", command, "--data", str(bad)])
        assert result.exit_code != 0
        assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not a pickle", "ignoring the intent model file"),
        (pickle.dumps({"format": 99}), "not a textcart model file"),
        (None, "holds the buy_likelihood model"),
        ("old-sklearn", "fit it again"),
        ("wrong-type", "holds a str"),
    ],
)
def test_an_unusable_file_is_ignored_with_a_warning(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    payload: bytes | str | None,
    reason: str,
) -> None:
    path = tmp_path / "intent.pkl"
    if payload is None:  # the buy-likelihood model, named as the intent one
        save_model(path, "buy_likelihood", "a model", "x.csv", 1)
    elif payload == "old-sklearn":
        save_model(path, "intent", "a model", "x.csv", 1)
        raw = pickle.loads(path.read_bytes())
        path.write_bytes(pickle.dumps({**raw, "sklearn": "0.1"}))
    elif payload == "wrong-type":
        save_model(path, "intent", "a str, not a classifier", "x.csv", 1)
    else:
        path.write_bytes(payload)
    monkeypatch.setenv("TEXTCART_INTENT_MODEL_FILE", str(path))
    with caplog.at_level(logging.WARNING, logger="textcart.deciders"):
        assert load_intent_classifier(get_embedder()) is None
        services = build_services(get_embedder())
    assert reason in caplog.text
    # The decider still answers, from the prompt's examples.
    assert isinstance(services.intent, ClassicIntent)
    assert len(services.intent.classifier.labels) == 14


def test_a_missing_file_is_no_file(tmp_path: Path) -> None:
    assert load_model("intent", tmp_path / "absent.pkl") is None
