"""`textcart eval intents`: the metrics on a hand-worked example, and the command end to end."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from textcart.deciders.intent import NO_CONTEXT, IntentContext
from textcart.evaluation.intents import (
    FAILED,
    IntentDataError,
    accuracy,
    confusion,
    llm_predictions,
    macro_f1,
    per_label,
    read_labelled,
    score,
)
from textcart.evaluation.intents_cli import average_scores, register
from textcart.vocabulary.outputs import IntentResult

# Worked by hand: order_status 1 of 2 right and never over-predicted (P 1, R 1/2, F1 2/3);
# complaint 2 of 2 right plus one false alarm (P 2/3, R 1, F1 4/5); other never right
# (its one text failed): P 0, R 0, F1 0. Accuracy 3/5; macro-F1 (2/3 + 4/5 + 0) / 3.
GOLD = ["order_status", "order_status", "complaint", "complaint", "other"]
PREDICTED = ["order_status", "complaint", "complaint", "complaint", FAILED]


def test_accuracy_and_macro_f1_match_the_hand_worked_example() -> None:
    assert accuracy(GOLD, PREDICTED) == pytest.approx(0.6)
    assert macro_f1(GOLD, PREDICTED) == pytest.approx((2 / 3 + 4 / 5 + 0) / 3)


def test_per_label_scores_match_the_hand_worked_example() -> None:
    scores = per_label(GOLD, PREDICTED)
    assert list(scores) == ["order_status", "complaint", "other"]
    assert scores["order_status"].precision == pytest.approx(1.0)
    assert scores["order_status"].recall == pytest.approx(0.5)
    assert scores["order_status"].f1 == pytest.approx(2 / 3)
    assert scores["complaint"].precision == pytest.approx(2 / 3)
    assert scores["complaint"].recall == pytest.approx(1.0)
    assert scores["complaint"].f1 == pytest.approx(0.8)
    assert (scores["other"].f1, scores["other"].support) == (0.0, 1)
    assert [s.support for s in scores.values()] == [2, 2, 1]


def test_confusion_puts_gold_in_rows_and_failures_in_their_own_column() -> None:
    rows, columns, matrix = confusion(GOLD, PREDICTED)
    assert rows == ["order_status", "complaint", "other"]
    assert columns == ["order_status", "complaint", "other", FAILED]
    assert matrix == [[1, 1, 0, 0], [0, 2, 0, 0], [0, 0, 0, 1]]


def test_macro_f1_averages_only_over_labels_in_the_gold_data() -> None:
    gold = ["order_status", "order_status"]
    predicted = ["order_status", "complaint"]
    assert macro_f1(gold, predicted) == pytest.approx(2 / 3)
    assert confusion(gold, predicted)[1] == ["order_status", "complaint"]


def test_score_counts_failures() -> None:
    scores = score(GOLD, PREDICTED)
    assert (scores.n, scores.failures) == (5, 1)
    assert set(scores.summary()) >= {"n", "accuracy", "macro_f1", "per_label", "failures"}


def test_metrics_refuse_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="same"):
        accuracy(["other"], [])


def _write(path: Path, rows: list[tuple[str, str]], extra_column: bool = False) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label", "source"] if extra_column else ["text", "label"])
        for text, label in rows:
            writer.writerow([text, label, "test"] if extra_column else [text, label])
    return path


def test_read_labelled_ignores_other_columns_and_names_unknown_labels(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.csv", [("where is my order?", "order_status")], True)
    assert read_labelled(good).labels == ["order_status"]
    bad = _write(
        tmp_path / "bad.csv",
        [("hi", "greeting"), ("yo", "greeting"), ("refund me", "return_or_refund")],
    )
    with pytest.raises(IntentDataError, match="2 row.*'greeting'"):
        read_labelled(bad)
    no_label = tmp_path / "no_label.csv"
    no_label.write_text("text\nhello\n")
    with pytest.raises(IntentDataError, match="label"):
        read_labelled(no_label)


async def test_llm_predictions_turn_failed_calls_into_wrong_answers() -> None:
    async def decide(text: str, context: IntentContext) -> IntentResult:
        assert context == NO_CONTEXT
        if "boom" in text:
            raise TimeoutError("no answer")
        return IntentResult(label="order_status", confidence=0.9, rationale="asks where")

    seen: list[int] = []
    labels, failures = await llm_predictions(
        decide, ["where is it", "boom", "and now?"], lambda: seen.append(1)
    )
    assert labels == ["order_status", FAILED, "order_status"]
    assert len(failures) == 1 and "TimeoutError" in failures[0]
    assert len(seen) == 3


# --- The command, with the real local embedder ------------------------------------------

EVAL_ROWS = [
    ("where is my package? it still has not arrived", "order_status"),
    ("can you track my order for me", "order_status"),
    ("I want to return these boots, they do not fit", "return_or_refund"),
    ("how do I get my money back for the jacket", "return_or_refund"),
    ("please cancel my order", "cancel_or_change_order"),
    ("let me talk to a real person", "human_agent"),
]


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def _json(cli: typer.Typer, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_classic_decider_reports_json(cli: typer.Typer, tmp_path: Path) -> None:
    data = _write(tmp_path / "eval.csv", EVAL_ROWS, extra_column=True)
    report = _json(cli, "--data", str(data))
    assert {"accuracy", "macro_f1", "n", "per_label", "decider"} <= set(report)
    assert report["n"] == len(EVAL_ROWS)
    assert report["decider"] == "classic (prompt examples)"
    assert 0.0 <= float(report["accuracy"]) <= 1.0
    assert set(report["per_label"]) == {label for _, label in EVAL_ROWS}
    assert _json(cli, "--data", str(data), "--limit", "2")["n"] == 2


def test_unknown_labels_fail_with_a_clear_message(cli: typer.Typer, tmp_path: Path) -> None:
    data = _write(tmp_path / "eval.csv", [*EVAL_ROWS, ("hello there", "greeting")])
    result = CliRunner().invoke(cli, ["--data", str(data)])
    assert result.exit_code == 2
    assert "outside the intent vocabulary" in result.output
    assert "'greeting'" in result.output


def test_llm_decider_without_a_model_says_how_to_name_one(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEXTCART_MODEL", raising=False)
    data = _write(tmp_path / "eval.csv", EVAL_ROWS)
    result = CliRunner().invoke(cli, ["--data", str(data), "--decider", "llm"])
    assert result.exit_code == 2
    assert "TEXTCART_MODEL" in result.output


def test_fit_moves_predictions_to_the_training_labels(cli: typer.Typer, tmp_path: Path) -> None:
    # Deliberately unusual labels: the prompt's examples cannot know that this shop files
    # delivery questions as complaints and returns as hand-offs; a fit on its data can.
    shop_labels = {"order_status": "complaint", "return_or_refund": "human_agent"}
    rows = [(text, shop_labels[label]) for text, label in EVAL_ROWS if label in shop_labels]
    data = _write(tmp_path / "eval.csv", rows)
    training = _write(
        tmp_path / "train.csv",
        [
            ("my parcel has not shown up yet", "complaint"),
            ("where is my delivery", "complaint"),
            ("has my order shipped? I am still waiting", "complaint"),
            ("I would like to send back the shoes", "human_agent"),
            ("refund me for the tent please", "human_agent"),
            ("these pants are too small, can I return them", "human_agent"),
        ],
    )
    before = _json(cli, "--data", str(data))
    after = _json(cli, "--data", str(data), "--fit", str(training))
    assert float(before["accuracy"]) <= 0.25
    assert after["accuracy"] == 1.0
    assert "logreg" in str(after["decider"])


def test_several_files_print_each_file_and_their_average(cli: typer.Typer, tmp_path: Path) -> None:
    orders = _write(tmp_path / "orders.csv", EVAL_ROWS[:2])
    everything = _write(tmp_path / "everything.csv", EVAL_ROWS)
    one = _json(cli, "--data", str(orders))
    other = _json(cli, "--data", str(everything))
    both = _json(cli, "--data", str(orders), "--data", str(everything))
    assert set(both) == {"decider", "files", "average"}
    assert both["files"][str(orders)]["accuracy"] == one["accuracy"]
    assert both["files"][str(everything)]["n"] == len(EVAL_ROWS)
    expected = (float(one["accuracy"]) + float(other["accuracy"])) / 2
    assert both["average"]["accuracy"] == pytest.approx(expected, abs=1e-4)
    assert both["average"]["files"] == 2

    table = CliRunner().invoke(cli, ["--data", str(orders), "--data", str(everything)])
    assert table.exit_code == 0, table.output
    assert "2 files" in table.output and "average" in table.output


def test_average_counts_each_file_once_whatever_its_size() -> None:
    small = score(["order_status"], ["order_status"])
    large = score(["complaint"] * 9 + ["other"], ["other"] * 10)
    assert average_scores([small, large])["accuracy"] == pytest.approx((1.0 + 0.1) / 2)


def test_the_after_column_puts_each_text_in_its_conversation(
    cli: typer.Typer, tmp_path: Path
) -> None:
    path = tmp_path / "replies.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label", "after"])
        writer.writerow(["yes please", "purchase_intent", "send_offer"])
        writer.writerow(["yes please", "human_agent", "handoff_to_human"])
        writer.writerow(["where is my order", "order_status", ""])
    data = read_labelled(path)
    assert data.afters == ["send_offer", "handoff_to_human", None]
    assert data.contexts()[2] == NO_CONTEXT
    # The same words get two labels only if the command passes each row's context on.
    assert _json(cli, "--data", str(path))["accuracy"] == 1.0


def test_an_after_that_is_no_message_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "replies.csv"
    path.write_text("text,label,after\nyes please,purchase_intent,an offer\n", encoding="utf-8")
    with pytest.raises(IntentDataError, match="'an offer'"):
        read_labelled(path)
