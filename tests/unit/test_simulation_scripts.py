"""Simulation scripts: the format parses, rejects mistakes, covers the vocabularies, and
every kind of expectation passes and fails when it should."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from textcart.conversations import TurnRecord, check_expectations, script_phone
from textcart.demo_store.loader import demo_dir, load_scripts, script_paths
from textcart.simulation.scripted import ScriptResult, simulation_context, summarise
from textcart.tools.llm import LOCAL_TIMEOUT_S, REMOTE_TIMEOUT_S
from textcart.vocabulary.labels import INTENTS, MESSAGE_TYPES

SCRIPTS = Path(__file__).resolve().parents[2] / "textcart" / "simulation" / "scripts"


def test_the_suite_has_thirty_scripts_covering_every_intent_and_message_type() -> None:
    scripts = load_scripts([SCRIPTS])
    assert len(scripts) >= 30
    intents = {t.expect.intent for s in scripts for t in s.turns}
    types = {t.expect.next_message for s in scripts for t in s.turns}
    types |= {"handoff_to_human" for s in scripts for t in s.turns if t.expect.handoff}
    assert set(INTENTS) <= intents
    assert set(MESSAGE_TYPES) <= types
    assert sum(len(s.turns) > 1 for s in scripts) >= 15, "multi-turn scripts"
    assert any(not isinstance(s.shopper, str) for s in scripts), "inline shoppers"
    assert any(isinstance(s.shopper, str) for s in scripts), "demo shoppers"


def test_demo_conversations_and_the_suite_load_together() -> None:
    both = load_scripts([SCRIPTS, demo_dir() / "conversations"])
    assert len(both) == len(script_paths([SCRIPTS])) + 8


def _write(tmp_path: Path, name: str, body: dict[str, Any]) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "description": "d", **body}), "utf-8")
    return path


INLINE = {"first_name": "Test", "timezone": "America/Denver"}


def test_inline_shopper_with_events_and_settings_parses(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "inline",
        {
            "shopper": {
                **INLINE,
                "events": [{"type": "viewed", "product_id": "TH-ICEGRIP-BLK", "minutes_ago": 5}],
            },
            "events": [
                {
                    "type": "added_to_cart",
                    "product_id": "TH-ICEGRIP-BLK",
                    "size": "M",
                    "minutes_ago": 3,
                }
            ],
            "settings": {"proactive_cap_24h": 1},
            "turns": [
                {"text": "hi", "expect": {"max_chars": 160, "mentions": ["Icegrip"]}},
                {"trigger": "cart_abandonment", "events": [], "expect": {"handoff": False}},
            ],
        },
    )
    (script,) = load_scripts([path])
    assert not isinstance(script.shopper, str) and script.shopper.first_name == "Test"
    assert script.settings.proactive_cap_24h == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"shopper": "nobody"}, "unknown shopper"),
        ({"shopper": {**INLINE, "phone": "+14155551234"}}, "fictional"),
        ({"shopper": {**INLINE, "timezone": "Mars/Base"}}, "time zone"),
        ({"turns": [{"text": "x", "expect": {"next_message": "upsell"}}]}, "next_message"),
        (
            {"turns": [{"text": "x", "expect": {"no_message": True, "mentions": ["a"]}}]},
            "contradicts",
        ),
        (
            {
                "turns": [
                    {
                        "text": "x",
                        "expect": {"next_message": "no_reply", "not_next_message": ["no_reply"]},
                    }
                ]
            },
            "also listed",
        ),
        ({"turns": [{"text": "x", "expect": {"max_segments": 0}}]}, "max_segments"),
        ({"turns": [{"text": "x", "expect": {"category": "toys/"}}]}, "no catalog category"),
        ({"settings": {"quiet_hours_start": 25}}, "quiet_hours_start"),
        ({"events": [{"type": "viewed", "product_id": "TH-NOPE", "minutes_ago": 1}]}, "TH-NOPE"),
    ],
)
def test_mistakes_are_rejected_with_the_file_named(
    tmp_path: Path, body: dict[str, Any], message: str
) -> None:
    base = {"shopper": INLINE, "turns": [{"text": "hi"}]}
    path = _write(tmp_path, "broken", {**base, **body})
    with pytest.raises(ValueError, match=message) as err:
        load_scripts([path])
    assert "broken.yaml" in str(err.value)


def test_bad_yaml_and_duplicate_names_are_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\ndescription: a: b: c\n", "utf-8")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_scripts([bad])
    one = _write(tmp_path, "same", {"shopper": INLINE, "turns": [{"text": "hi"}]})
    (tmp_path / "other").mkdir()
    twin = tmp_path / "other" / "same.yaml"
    twin.write_text(one.read_text("utf-8"), "utf-8")
    with pytest.raises(ValueError, match="share a name"):
        load_scripts([one, twin])
    with pytest.raises(ValueError, match="no such file"):
        load_scripts([tmp_path / "missing.yaml"])


def _record(**changes: Any) -> TurnRecord:
    base: dict[str, Any] = {
        "shopper": "s",
        "said": "hi",
        "trigger": None,
        "intent": "product_question",
        "buy_likelihood": 0.45,
        "tone": "friendly",
        "products": [{"id": "A", "title": "Icegrip", "price": 69.0, "category": "gear/traction"}],
        "fit_reason": None,
        "next_message": "answer_question",
        "reply": "The Icegrip Traction Cleats are $69.",
        "gate": "continue: inbound text",
        "deciders": {},
        "notes": [],
        "latency_ms": 1.0,
        "segments": 1,
    }
    return TurnRecord(**{**base, **changes})


@pytest.mark.parametrize(
    ("expect", "changes", "failure"),
    [
        ({"intent": "product_question"}, {"intent": "other"}, "intent other"),
        ({"next_message": "answer_question"}, {"next_message": "no_reply"}, "next message"),
        ({"not_next_message": ["send_offer"]}, {"next_message": "send_offer"}, "must not"),
        ({"no_message": True}, {}, "none was expected"),
        ({"handoff": True}, {}, "hand-off missing"),
        ({"handoff": False}, {"next_message": "handoff_to_human"}, "hand-off happened"),
        ({"category": "gear/traction"}, {"products": []}, "no product in category"),
        ({"tone": "friendly"}, {"tone": "urgent"}, "tone"),
        ({"buy_likelihood_band": "medium"}, {"buy_likelihood": 0.9}, "band high"),
        ({"has_products": True}, {"products": []}, "products found"),
        ({"max_chars": 36}, {"reply": "x" * 37}, "37 > 36"),
        ({"max_segments": 1}, {"segments": 2}, "2 > 1"),
        ({"mentions": ["icegrip"]}, {"reply": "Sure."}, "does not mention"),
        ({"not_mentions": ["TRAIL10"]}, {"reply": "Code TRAIL10"}, "mentions 'TRAIL10'"),
        ({"consent": "subscribed"}, {"consent_change": "opted_out"}, "consent changed"),
    ],
)
def test_each_expectation_passes_and_fails(
    expect: dict[str, Any], changes: dict[str, Any], failure: str
) -> None:
    passing = {
        "no_message": {"reply": None},
        "handoff": {"next_message": "handoff_to_human"} if expect.get("handoff") else {},
    }
    good = _record(**passing.get(next(iter(expect)), {}))
    assert check_expectations(good, expect) == [], expect
    assert good.checked == 1
    failures = check_expectations(_record(**changes), expect)
    assert len(failures) == 1 and failure in failures[0]


def test_summary_counts_scripts_turns_and_checks() -> None:
    ok, bad = _record(), _record(failed_expectations=["x"])
    ok.checked = bad.checked = 3
    results = [
        ScriptResult("a", "d", [ok, ok]),
        ScriptResult("b", "d", [ok, bad]),
        ScriptResult("c", "d", [], error="boom"),
    ]
    summary = summarise(results)
    assert (summary.scripts, summary.scripts_passed) == (3, 1)
    assert (summary.turns, summary.turns_passed, summary.checks) == (4, 3, 12)
    assert summary.failures == 2 and not summary.passed
    assert results[1].as_json()["turns"][1]["failures"] == ["x"]


def test_script_phones_are_fictional_and_stable() -> None:
    phones = {script_phone(f"script-{i}") for i in range(50)}
    assert len(phones) == 50
    assert all(p[5:10] == "55501" and len(p) == 12 for p in phones)
    assert script_phone("a") == script_phone("a")


def test_a_simulated_model_gets_the_time_budget_of_its_kind(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The local model needs its own budget; with the remote one every decision timed out.
    monkeypatch.delenv("TEXTCART_LLM_TIMEOUT_S", raising=False)
    assert simulation_context("local").llm_timeout_s == LOCAL_TIMEOUT_S
    assert simulation_context("openai:gpt-test").llm_timeout_s == REMOTE_TIMEOUT_S
    monkeypatch.setenv("TEXTCART_LLM_TIMEOUT_S", "7")
    assert simulation_context("local").llm_timeout_s == 7
