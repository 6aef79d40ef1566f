"""`textcart eval buy-likelihood`: the session mapping, the metrics and the command."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from typer.testing import CliRunner

from textcart.deciders.buy_likelihood import MIN_SESSIONS_FOR_CALENDAR, ClassicBuyLikelihood
from textcart.evaluation import buy_likelihood_cli
from textcart.evaluation.buy_likelihood import (
    CHECKOUT_PAGE_VALUE,
    FAILED_PROBABILITY,
    LabelledSessions,
    Session,
    SessionDataError,
    brier,
    calibration_table,
    classic_probabilities,
    cross_validated_probabilities,
    llm_probabilities,
    read_sessions,
    roc_auc,
    score,
    session_behaviour,
)
from textcart.vocabulary.outputs import BuyLikelihoodResult
from textcart.vocabulary.records import Behaviour

UCI_COLUMNS = [
    "Administrative",
    "Administrative_Duration",
    "Informational",
    "Informational_Duration",
    "ProductRelated",
    "ProductRelated_Duration",
    "BounceRates",
    "ExitRates",
    "PageValues",
    "SpecialDay",
    "Month",
    "OperatingSystems",
    "Browser",
    "Region",
    "TrafficType",
    "VisitorType",
    "Weekend",
    "Revenue",
]


def uci_row(pages: object, page_value: object, visitor: str, revenue: object) -> dict[str, Any]:
    """A session with the public file's columns; the unmapped ones hold plausible values."""
    return {
        "Administrative": 1,
        "Administrative_Duration": 12.5,
        "Informational": 0,
        "Informational_Duration": 0,
        "ProductRelated": pages,
        "ProductRelated_Duration": 300.0,
        "BounceRates": 0.01,
        "ExitRates": 0.03,
        "PageValues": page_value,
        "SpecialDay": 0.0,
        "Month": "Nov",
        "OperatingSystems": 2,
        "Browser": 2,
        "Region": 1,
        "TrafficType": 2,
        "VisitorType": visitor,
        "Weekend": "False",
        "Revenue": revenue,
    }


def synthetic_rows(n: int = 40) -> list[dict[str, Any]]:
    """Every third session buys; buyers mostly reached pages with value, as in the real data."""
    rows = []
    for i in range(n):
        buys = i % 3 == 0
        page_value = (30.0 + i if i % 2 else 8.0) if buys else (0.0 if i % 5 else 6.0)
        visitor = "Returning_Visitor" if i % 4 else "New_Visitor"
        rows.append(uci_row(5 + (i * 7) % 40, page_value, visitor, str(buys)))
    return rows


def write_sessions(
    path: Path, rows: list[dict[str, Any]], columns: list[str] = UCI_COLUMNS
) -> Path:
    """Write `rows` as a CSV with `columns` (extra keys dropped)."""
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- Mapping ----------------------------------------------------------------------------


def test_page_value_reads_as_the_purchase_funnel() -> None:
    deep = session_behaviour(Session(12, CHECKOUT_PAGE_VALUE, returning_visitor=True))
    assert deep == Behaviour(
        product_views_7d=12,
        distinct_products_viewed_7d=12,
        cart_adds_7d=1,
        checkout_started_7d=True,
        purchases_90d=0,
        sessions_7d=2,
        minutes_since_last_activity=0.0,
        returning_customer=False,
        weekend=False,
        gift_holiday_closeness=0.0,
    )
    shallow = session_behaviour(Session(3, 4.5, returning_visitor=False))
    assert (shallow["cart_adds_7d"], shallow["checkout_started_7d"]) == (1, False)
    assert shallow["sessions_7d"] == 1
    none = session_behaviour(Session(3, 0.0, returning_visitor=False))
    assert (none["cart_adds_7d"], none["checkout_started_7d"]) == (0, False)


def test_without_page_values_only_observed_columns_count() -> None:
    mapped = session_behaviour(Session(7, 80.0, returning_visitor=True), page_values=False)
    assert (mapped["cart_adds_7d"], mapped["checkout_started_7d"]) == (0, False)
    assert (mapped["product_views_7d"], mapped["sessions_7d"]) == (7, 2)


def test_read_sessions_maps_the_columns_and_reads_blank_counts_as_zero(tmp_path: Path) -> None:
    rows = [
        uci_row("4.0", "0.0", "Returning_Visitor", "False"),
        uci_row("", "25.5", "Other", "TRUE"),
        uci_row("9", "", "New_Visitor", "1"),
    ]
    data = read_sessions(write_sessions(tmp_path / "s.csv", rows))
    assert data.sessions == [
        Session(4, 0.0, True, month=11),
        Session(0, 25.5, False, month=11),
        Session(9, 0.0, False, month=11),
    ]
    assert data.bought == [False, True, True]
    assert data.blank_rows == 2
    assert data.first(1).bought == [False]


def test_calendar_columns_map_to_the_turns_calendar(tmp_path: Path) -> None:
    rows = [
        {**uci_row(4, 0, "New_Visitor", "False"), "Month": "June", "Weekend": "True"},
        {**uci_row(4, 0, "New_Visitor", "True"), "Month": "Feb", "SpecialDay": "0.6"},
        {**uci_row(4, 0, "New_Visitor", "False"), "Month": ""},
    ]
    sessions = read_sessions(write_sessions(tmp_path / "s.csv", rows)).sessions
    mapped = [session_behaviour(s) for s in sessions]
    assert [(b.get("month"), b["weekend"], b["gift_holiday_closeness"]) for b in mapped] == [
        (6, True, 0.0),
        (2, False, 0.6),
        (None, False, 0.0),
    ]
    without = [c for c in UCI_COLUMNS if c not in ("Month", "Weekend", "SpecialDay")]
    bare = read_sessions(write_sessions(tmp_path / "bare.csv", rows, without)).sessions
    assert bare[0] == Session(4, 0.0, False)


@pytest.mark.parametrize(
    ("rows", "columns", "message"),
    [
        ([uci_row(3, 0, "New_Visitor", "False")], UCI_COLUMNS[:-1], "lacks the column.*Revenue"),
        (
            [uci_row(3, 0, "New_Visitor", "False")],
            [c for c in UCI_COLUMNS if c not in ("PageValues", "VisitorType")],
            "PageValues, VisitorType",
        ),
        ([], UCI_COLUMNS, "no sessions"),
        ([uci_row("many", 0, "New_Visitor", "False")], UCI_COLUMNS, "line 2: ProductRelated"),
        (
            [uci_row(3, 0, "New_Visitor", "False"), uci_row(3, "$12", "New_Visitor", "True")],
            UCI_COLUMNS,
            "line 3: PageValues must be a number, not '\\$12'",
        ),
        ([uci_row(-2, 0, "New_Visitor", "False")], UCI_COLUMNS, "≥ 0"),
        ([uci_row(3, 0, "New_Visitor", "maybe")], UCI_COLUMNS, "Revenue must be True or False"),
        (
            [{**uci_row(3, 0, "New_Visitor", "False"), "Month": "Smarch"}],
            UCI_COLUMNS,
            "line 2: Month must be a month, not 'Smarch'",
        ),
    ],
)
def test_bad_files_name_the_problem(
    tmp_path: Path, rows: list[dict[str, Any]], columns: list[str], message: str
) -> None:
    with pytest.raises(SessionDataError, match=message):
        read_sessions(write_sessions(tmp_path / "bad.csv", rows, columns))


def test_an_empty_file_lacks_every_column(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(SessionDataError, match="lacks the column"):
        read_sessions(empty)


# --- Metrics ----------------------------------------------------------------------------

# Worked by hand: of the four buyer/non-buyer pairs, (0.9, 0.1), (0.9, 0.6) and (0.4, 0.1)
# are ordered right and (0.4, 0.6) wrong: AUC 3/4. Brier (0.01 + 0.01 + 0.36 + 0.36) / 4.
BOUGHT = [True, False, True, False]
PROBABILITIES = [0.9, 0.1, 0.4, 0.6]


def test_roc_auc_and_brier_match_the_hand_worked_example() -> None:
    assert roc_auc(BOUGHT, PROBABILITIES) == pytest.approx(0.75)
    assert brier(BOUGHT, PROBABILITIES) == pytest.approx(0.185)
    assert roc_auc([True, False], [0.5, 0.5]) == pytest.approx(0.5)


def test_roc_auc_needs_both_outcomes() -> None:
    with pytest.raises(SessionDataError, match="all 2 sessions evaluated are non-buyers"):
        roc_auc([False, False], [0.2, 0.3])
    with pytest.raises(ValueError, match="same"):
        brier([True], [])


def test_calibration_table_has_ten_bins_and_puts_one_in_the_last() -> None:
    table = calibration_table([False, True, False, True], [0.05, 0.15, 0.12, 1.0])
    assert [(b.low, b.high) for b in table][:2] == [(0.0, 0.1), (0.1, 0.2)]
    assert len(table) == 10 and table[-1].high == 1.0
    assert [b.n for b in table] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 1]
    assert table[1].mean_predicted == pytest.approx(0.135)
    assert table[1].observed_rate == pytest.approx(0.5)
    assert (table[2].mean_predicted, table[2].observed_rate) == (None, None)
    assert table[-1].observed_rate == 1.0


def test_score_summary_is_json_ready() -> None:
    summary = score(BOUGHT, PROBABILITIES, failures=1).summary()
    assert {"roc_auc", "brier", "n", "buyers", "base_rate", "failures", "calibration"} <= set(
        summary
    )
    assert (summary["n"], summary["buyers"], summary["failures"]) == (4, 2, 1)
    json.dumps(summary)


# --- Deciders ---------------------------------------------------------------------------


def _synthetic(tmp_path: Path) -> LabelledSessions:
    return read_sessions(write_sessions(tmp_path / "s.csv", synthetic_rows()))


def test_classic_deciders_rank_funnel_sessions_first(tmp_path: Path) -> None:
    data = _synthetic(tmp_path)
    prompt_only = classic_probabilities(data)
    assert all(0.0 <= p <= 1.0 for p in prompt_only)
    assert roc_auc(data.bought, prompt_only) > 0.8
    folded = cross_validated_probabilities(data, folds=3)
    assert len(folded) == len(data.bought)
    assert roc_auc(data.bought, folded) > 0.8
    blind = cross_validated_probabilities(data, folds=3, page_values=False)
    assert blind != folded


async def test_enough_sessions_fit_the_calendar_and_interactions() -> None:
    sessions = [
        session_behaviour(Session(5 + i % 7, 0.0, i % 2 == 0, month=3 + i % 9))
        for i in range(MIN_SESSIONS_FOR_CALENDAR)
    ]
    bought = [b.get("month") == 11 or b["product_views_7d"] > 11 for b in sessions]
    decider = ClassicBuyLikelihood(ClassicBuyLikelihood.fit(sessions, bought))
    november = session_behaviour(Session(6, 0.0, True, month=11))
    march = session_behaviour(Session(6, 0.0, True, month=3))
    assert len(decider.features(november)) > len(ClassicBuyLikelihood().features(november))
    high, low = await decider.decide(november), await decider.decide(march)
    assert high.probability > 0.9 > 0.1 > low.probability
    assert "month_11" in high.rationale


def test_cross_validation_needs_enough_of_each_outcome(tmp_path: Path) -> None:
    data = _synthetic(tmp_path).first(6)
    with pytest.raises(SessionDataError, match="at least 5 buyers"):
        cross_validated_probabilities(data, folds=5)


async def test_failed_llm_calls_score_the_middle() -> None:
    async def decide(behaviour: Behaviour) -> BuyLikelihoodResult:
        if behaviour["product_views_7d"] == 2:
            raise TimeoutError("no answer")
        return BuyLikelihoodResult(probability=0.8, rationale="carted")

    sessions = [session_behaviour(Session(n, 0.0, False)) for n in (1, 2, 3)]
    seen: list[int] = []
    probabilities, failures = await llm_probabilities(decide, sessions, lambda: seen.append(1))
    assert probabilities == [0.8, FAILED_PROBABILITY, 0.8]
    assert len(failures) == 1 and failures[0].startswith("session 2: TimeoutError")
    assert len(seen) == 3


# --- The command --------------------------------------------------------------------------


@pytest.fixture
def cli() -> typer.Typer:
    app = typer.Typer()
    buy_likelihood_cli.register(app)
    return app


def _json(cli: typer.Typer, *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, [*args, "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def test_command_prints_one_json_object(cli: typer.Typer, tmp_path: Path) -> None:
    data = write_sessions(tmp_path / "s.csv", synthetic_rows())
    report = _json(cli, "--data", str(data))
    assert {"roc_auc", "brier", "n", "calibration", "decider", "mapping"} <= set(report)
    assert report["n"] == 40 and report["decider"] == "classic (prompt examples)"
    assert len(report["calibration"]) == 10
    assert _json(cli, "--data", str(data), "--limit", "12")["n"] == 12


def test_fit_on_the_same_file_cross_validates(cli: typer.Typer, tmp_path: Path) -> None:
    data = write_sessions(tmp_path / "s.csv", synthetic_rows())
    report = _json(cli, "--data", str(data), "--fit", str(data), "--folds", "3")
    assert "3-fold cross-validation" in report["decider"]
    other = write_sessions(tmp_path / "train.csv", synthetic_rows(60))
    report = _json(cli, "--data", str(data), "--fit", str(other))
    assert report["decider"] == "classic (logreg fit on 60 sessions)"
    blind = _json(cli, "--data", str(data), "--fit", str(other), "--no-page-values")
    assert blind["mapping"] == "observed columns only"


def test_text_output_shows_the_calibration_table(cli: typer.Typer, tmp_path: Path) -> None:
    data = write_sessions(tmp_path / "s.csv", synthetic_rows())
    result = CliRunner().invoke(cli, ["--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "ROC AUC" in result.output and "0.9-1.0" in result.output


@pytest.mark.parametrize(
    ("rows", "columns", "message"),
    [
        ([uci_row(3, 0, "New_Visitor", "False")], UCI_COLUMNS[:-1], "Revenue"),
        ([], UCI_COLUMNS, "no sessions"),
        ([uci_row("lots", 0, "New_Visitor", "False")], UCI_COLUMNS, "must be a number"),
    ],
)
def test_bad_files_fail_with_a_clear_message(
    cli: typer.Typer, tmp_path: Path, rows: list[dict[str, Any]], columns: list[str], message: str
) -> None:
    data = write_sessions(tmp_path / "bad.csv", rows, columns)
    result = CliRunner().invoke(cli, ["--data", str(data)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_one_outcome_only_says_to_evaluate_more(cli: typer.Typer, tmp_path: Path) -> None:
    data = write_sessions(tmp_path / "s.csv", synthetic_rows())
    result = CliRunner().invoke(cli, ["--data", str(data), "--limit", "1"])
    assert result.exit_code == 2
    assert "ROC AUC needs buyers and non-buyers" in result.output


def test_options_for_the_other_decider_are_refused(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEXTCART_MODEL", raising=False)
    data = write_sessions(tmp_path / "s.csv", synthetic_rows())
    no_model = CliRunner().invoke(cli, ["--data", str(data), "--decider", "llm"])
    assert no_model.exit_code == 2 and "TEXTCART_MODEL" in no_model.output
    fit_llm = CliRunner().invoke(
        cli, ["--data", str(data), "--decider", "llm", "--model", "local", "--fit", str(data)]
    )
    assert fit_llm.exit_code == 2 and "--fit is for --decider classic" in fit_llm.output
    model_classic = CliRunner().invoke(cli, ["--data", str(data), "--model", "local"])
    assert model_classic.exit_code == 2 and "--model is for --decider llm" in model_classic.output


class Probabilities(GenericFakeChatModel):
    """A scripted chat model: the same probability for every session."""

    def __init__(self, reply: str) -> None:
        """Answer `reply` forever."""
        super().__init__(messages=iter(AIMessage(reply) for _ in range(10_000)))


def test_llm_decider_scores_what_the_model_says(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A custom endpoint set to the JSON-object request, which the scripted model answers.
    monkeypatch.setenv("TEXTCART_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("TEXTCART_LLM_STRUCTURED_OUTPUT", "json_object")
    monkeypatch.setattr(
        buy_likelihood_cli,
        "chat_model",
        lambda spec, timeout_s: Probabilities('{"probability": 0.3, "rationale": "x"}'),
    )
    data = write_sessions(tmp_path / "s.csv", synthetic_rows())
    report = _json(cli, "--data", str(data), "--decider", "llm", "--model", "openai:fake")
    assert report["decider"] == "llm (openai:fake)"
    assert report["roc_auc"] == 0.5 and report["failures"] == 0
    assert report["calibration"][3]["n"] == 40
