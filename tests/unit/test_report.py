"""`textcart report`: every section and plot on small synthetic inputs, and the policy file."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import typer
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from typer.testing import CliRunner

from textcart.evaluation import report as report_module
from textcart.evaluation.intents import LabelledTexts
from textcart.evaluation.report import intent_halves, write_report
from textcart.evaluation.report_policy import PolicyResultsError, read_policy_results
from textcart.evaluation.report_sections import ModelChoice

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
INTENT_TEXTS = {
    "order_status": [
        "where is my package",
        "has my order shipped yet",
        "tracking number please",
        "when will my boots arrive",
        "my parcel is late, where is it",
        "can you check on order 1234",
    ],
    "return_or_refund": [
        "I want to return the jacket",
        "how do I get a refund",
        "these shoes do not fit, can I send them back",
        "refund my order please",
        "what is your return policy",
        "I need to return a tent",
    ],
    "opt_out": [
        "stop texting me",
        "unsubscribe",
        "please remove my number",
        "no more messages",
        "take me off this list",
        "quit sending these",
    ],
    "human_agent": [
        "let me talk to a person",
        "can I speak to someone real",
        "get me a human",
        "I want an agent",
        "connect me to customer service staff",
        "is there a real person there",
    ],
}

POLICIES: list[dict[str, Any]] = [
    {
        "policy": name,
        "conversations": 200,
        "conversions": conversions,
        "conversion_rate": conversions / 200,
        "conversion_ci": [conversions / 200 - 0.04, conversions / 200 + 0.04],
        "reply_rate": 0.5,
        "reply_ci": [0.43, 0.57],
        "opt_out_rate": 0.05,
        "opt_out_ci": [0.02, 0.09],
        "messages": 600,
        "messages_per_conversion": 600 / conversions if conversions else None,
        "messages_per_conversion_ci": [500 / conversions, 700 / conversions]
        if conversions
        else None,
    }
    for name, conversions in (("llm", 30), ("learned", 44), ("random", 20), ("fixed", 0))
]
# `textcart simulate` adds, to every policy after the first, the first minus it per shopper.
POLICIES[1]["paired"] = {
    "first": "llm", "shoppers": 200, "conversion_diff": -0.07,
    "conversion_diff_ci": [-0.12, -0.02], "opt_out_diff": 0.0, "opt_out_diff_ci": [-0.02, 0.02],
}  # fmt: skip


def write_sessions(path: Path, n: int) -> Path:
    """Sessions with only the columns the mapping reads; every third one buys."""
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["ProductRelated", "PageValues", "VisitorType", "Revenue"])
        for i in range(n):
            buys = i % 3 == 0
            value = (30.0 + i if i % 2 else 8.0) if buys else (0.0 if i % 5 else 6.0)
            visitor = "Returning_Visitor" if i % 4 else "New_Visitor"
            writer.writerow([5 + (i * 7) % 40, value, visitor, buys])
    return path


def write_intents(path: Path) -> Path:
    """The labelled texts above, interleaved so that every label runs through the file."""
    rows = [(texts[i], label) for i in range(6) for label, texts in INTENT_TEXTS.items()]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows)
    return path


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    policies = tmp_path / "policies.json"
    policies.write_text(json.dumps(POLICIES))
    return {
        "intents": write_intents(tmp_path / "intents.csv"),
        "sessions": write_sessions(tmp_path / "sessions.csv", 60),
        "policies": policies,
    }


class BothDecisions(GenericFakeChatModel):
    """A scripted chat model: one fixed answer per decision, chosen by the requested schema."""

    def __init__(self) -> None:
        """No script: every answer is computed from the request."""
        super().__init__(messages=iter(()))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        schema = kwargs["response_format"]["schema"]
        reply = (
            '{"probability": 0.35}'
            if "probability" in schema["properties"]
            else '{"label": "order_status", "confidence": 0.6}'
        )
        return ChatResult(generations=[ChatGeneration(message=AIMessage(reply))])


def _png(path: Path) -> None:
    assert path.is_file(), f"{path.name} was not drawn"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert path.stat().st_size > 5_000, f"{path.name} looks empty"


def test_report_without_a_model_has_every_classic_plot(
    tmp_path: Path, inputs: dict[str, Path]
) -> None:
    out = tmp_path / "report"
    path = write_report(
        out,
        intents=inputs["intents"],
        sessions=inputs["sessions"],
        llm=None,
        policy_results=inputs["policies"],
        limit=10,
        reproduce="textcart report --out report",
    )
    for name in (
        "intent_classic_prompt.png",
        "intent_classic_fit.png",
        "buy_likelihood_roc.png",
        "buy_likelihood_calibration.png",
        "policy_comparison.png",
    ):
        _png(out / name)
        assert f"({name})" in path.read_text()
    assert not (out / "intent_llm.png").exists()
    text = path.read_text()
    assert "| intent | macro-F1 |  | not run |" in text
    assert "| next message | conversion | 22.0% | 15.0% | -7.0 points | 200 simulated" in text
    assert "| fixed | 200 | 0.0% [-4.0%, 4.0%]" in text and "| n/a |" in text
    assert (
        "- llm minus learned (200 shoppers): conversion -7.0 points [-12.0, -2.0], "
        "opt-out +0.0 points [-2.0, +2.0]" in text
    )
    assert "    textcart report --out report" in text


def test_report_with_a_model_states_each_gap(tmp_path: Path, inputs: dict[str, Path]) -> None:
    out = tmp_path / "report"
    llm = ModelChoice("openai:scripted", BothDecisions(), "json_object", 5.0)
    text = write_report(
        out,
        intents=inputs["intents"],
        sessions=inputs["sessions"],
        llm=llm,
        policy_results=None,
        limit=12,
        reproduce="textcart report --out report --model openai:scripted",
    ).read_text()
    _png(out / "intent_llm.png")
    assert "| LLM openai:scripted | 12 | 0.250 |" in text  # 3 of 12 texts are order_status
    assert "| LLM openai:scripted | 12 | 0.500 |" in text  # a constant ranks nobody
    assert "first 12 held-out texts" in text and "first 12 sessions" in text
    assert "Not included: no `--policy-results` file was given" in text
    assert "--policy-results POLICY_RESULTS.json" in text


def test_intent_halves_split_every_label_evenly_and_disjointly() -> None:
    texts = [f"text {i}" for i in range(30)]
    labels = ["order_status"] * 20 + ["complaint"] * 9 + ["other"]
    fit, held_out = intent_halves(LabelledTexts(texts, labels))
    assert sorted(fit.texts + held_out.texts, key=texts.index) == texts
    assert held_out.labels.count("order_status") == 10
    assert held_out.labels.count("complaint") == 4
    assert "other" in fit.labels and "other" not in held_out.labels
    assert intent_halves(LabelledTexts(texts, labels)) == (fit, held_out)


def test_policy_results_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(POLICIES))
    results = read_policy_results(path)
    assert [r.policy for r in results] == ["llm", "learned", "random", "fixed"]
    assert results[0].paired is None and results[1].paired is not None
    assert results[1].paired.conversion_diff_ci == (-0.12, -0.02)
    assert results[3].messages_per_conversion is None
    for broken, message in (
        ([{k: v for k, v in POLICIES[0].items() if k != "reply_ci"}], "lacks reply_ci"),
        ([{**POLICIES[0], "opt_out_ci": [0.1]}], "opt_out_ci must be \\[low, high\\]"),
        ({"policy": "llm"}, "non-empty JSON list"),
        ([{**POLICIES[1], "paired": {"first": "llm"}}], "item 1: 'shoppers'"),
        ([{**POLICIES[1], "paired": [1]}], "paired must be an object"),
    ):
        path.write_text(json.dumps(broken))
        with pytest.raises(PolicyResultsError, match=message):
            read_policy_results(path)
    path.write_text("{not json")
    with pytest.raises(PolicyResultsError, match="not readable JSON"):
        read_policy_results(path)


def test_command_fails_clearly_on_a_bad_policy_file(
    tmp_path: Path, inputs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEXTCART_MODEL", raising=False)
    app = typer.Typer()
    report_module.register(app)
    app.command("unused")(lambda: None)  # a second command keeps `report` a subcommand
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"policy": "llm"}]))
    args = ["report", "--out", str(tmp_path / "out"), "--intents", str(inputs["intents"])]
    args += ["--sessions", str(inputs["sessions"]), "--policy-results", str(bad)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "lacks conversations" in result.output
