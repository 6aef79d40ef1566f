"""Attribution, the holdout draw and its interval, wording arms: the rules, without a graph."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from scripted_model import SPEC, ScriptedModel

from textcart.deciders.wording import ClassicWording, llm_wording, variant_instruction
from textcart.rules.attribution import (
    Arm,
    Windows,
    answered_message,
    attribute,
    compare_arms,
    difference_interval,
    final_outcome,
)
from textcart.rules.holdout import holdout_draw, is_held_out, wording_variant
from textcart.tools.llm import structured_method
from textcart.vocabulary.records import SmsFacts

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def sent(message_id: str, at: datetime, text: str = "Hi!", **extra: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "direction": "outbound",
        "text": text,
        "at": at.isoformat(),
        "delivery": {"status": "sent"},
        "outcomes": [],
        **extra,
    }


def clicked(message: dict[str, Any], at: datetime) -> dict[str, Any]:
    message["outcomes"].append({"outcome": "clicked", "at": at.isoformat()})
    return message


def test_a_click_within_seven_days_beats_a_later_message() -> None:
    log = [
        clicked(sent("a", T0), T0 + timedelta(hours=1)),
        sent("b", T0 + timedelta(days=5)),
    ]
    found = attribute(T0 + timedelta(days=5, hours=2), log, Windows())
    assert found is not None and (found.message_id, found.rule) == ("a", "click")
    assert found.rule_text == "click within 7 d"


def test_a_click_older_than_the_window_falls_back_to_a_recent_message() -> None:
    log = [clicked(sent("a", T0), T0), sent("b", T0 + timedelta(days=8))]
    found = attribute(T0 + timedelta(days=8, hours=3), log, Windows())
    assert found is not None and (found.message_id, found.rule) == ("b", "message")


def test_the_latest_message_within_24_hours_wins_and_older_ones_do_not_count() -> None:
    log = [sent("a", T0), sent("b", T0 + timedelta(hours=10))]
    found = attribute(T0 + timedelta(hours=20), log, Windows())
    assert found is not None and found.message_id == "b"
    assert attribute(T0 + timedelta(hours=40), log, Windows()) is None


def test_the_offer_code_credits_the_text_that_carried_it() -> None:
    log = [sent("offer", T0, "Use TRAIL10 for 10% off"), sent("other", T0 + timedelta(days=2))]
    at = T0 + timedelta(days=4)
    found = attribute(at, log, Windows(), offer_code="trail10")
    assert found is not None and (found.message_id, found.rule) == ("offer", "offer_code")
    assert attribute(at, log, Windows(), offer_code="OTHER5") is None
    assert attribute(at, log, Windows()) is None


def test_a_purchase_before_the_message_is_not_credited_to_it() -> None:
    log = [sent("a", T0)]
    assert attribute(T0 - timedelta(hours=1), log, Windows()) is None
    # A click recorded after the purchase is not credited either.
    log = [clicked(sent("a", T0 - timedelta(hours=2)), T0 + timedelta(hours=1))]
    found = attribute(T0, log, Windows())
    assert found is not None and found.rule == "message"


def test_clock_skew_within_the_slack_still_credits_the_click() -> None:
    log = [clicked(sent("a", T0), T0 + timedelta(minutes=10))]
    # The store's clock is 3 minutes behind ours: its purchase time is before our click.
    found = attribute(T0 + timedelta(minutes=7), log, Windows(skew_s=300))
    assert found is not None and found.rule == "click"
    found = attribute(T0 + timedelta(minutes=7), log, Windows(skew_s=0))
    assert found is not None and found.rule == "message"


def test_windows_are_configurable() -> None:
    log = [sent("a", T0)]
    at = T0 + timedelta(hours=30)
    assert attribute(at, log, Windows()) is None
    found = attribute(at, log, Windows(message_hours=48))
    assert found is not None and found.rule_text == "message within 48 h"


@pytest.mark.parametrize(
    "extra",
    [{"held_out": True}, {"delivery": {"status": "failed"}}, {"text": None},
     {"direction": "inbound"}, {"message_type": "compliance"}],
)  # fmt: skip
def test_only_delivered_texts_earn_anything(extra: dict[str, Any]) -> None:
    assert attribute(T0 + timedelta(hours=1), [sent("a", T0, **extra)], Windows()) is None


def test_replies_silence_and_pending() -> None:
    log = [sent("a", T0), sent("b", T0 + timedelta(hours=2))]
    answered = answered_message(log, T0 + timedelta(hours=3), Windows())
    assert answered is not None and answered["message_id"] == "b"
    assert answered_message(log, T0 + timedelta(days=3), Windows()) is None
    message = sent("c", T0)
    assert final_outcome(message, T0 + timedelta(hours=1), Windows()) == "pending"
    assert final_outcome(message, T0 + timedelta(hours=25), Windows()) == "silence"
    message["outcomes"] += [{"outcome": "replied"}, {"outcome": "opted_out"}]
    assert final_outcome(message, T0 + timedelta(hours=25), Windows()) == "opted_out"


def test_the_holdout_draw_is_deterministic_per_shopper_and_experiment() -> None:
    ids = [f"s_{i:020d}" for i in range(5000)]
    held = [i for i in ids if is_held_out(i, "exp-1", 0.1)]
    assert 0.08 < len(held) / len(ids) < 0.12
    assert held == [i for i in ids if is_held_out(i, "exp-1", 0.1)]
    assert held != [i for i in ids if is_held_out(i, "exp-2", 0.1)]
    assert not any(is_held_out(i, "exp-1", 0.0) for i in ids)
    assert all(is_held_out(i, "exp-1", 1.0) for i in ids)
    assert all(0 <= holdout_draw(i, "x") < 1 for i in ids[:100])
    with pytest.raises(ValueError):
        is_held_out(ids[0], "exp-1", 1.5)


def test_the_difference_interval_covers_the_truth_about_95_percent_of_the_time() -> None:
    rng = random.Random(7)
    p_a, p_b, n_a, n_b = 0.08, 0.05, 400, 100
    covered = 0
    for _ in range(400):
        a = sum(rng.random() < p_a for _ in range(n_a))
        b = sum(rng.random() < p_b for _ in range(n_b))
        interval = difference_interval(a, n_a, b, n_b)
        assert interval is not None and -1 <= interval[0] <= interval[1] <= 1
        covered += interval[0] <= p_a - p_b <= interval[1]
    assert 0.92 <= covered / 400 <= 0.99
    assert difference_interval(0, 50, 0, 5) is not None
    assert difference_interval(1, 10, 0, 0) is None


def test_the_holdout_block_reads_per_1000_triggers() -> None:
    block = compare_arms(Arm(200, 10, 500.0), Arm(20, 0, 0.0))
    assert block["sent"]["conversions_per_1000"] == 50.0
    assert block["sent"]["revenue_per_1000"] == 2500.0
    assert block["held_out"]["conversions_per_1000"] == 0.0
    assert block["difference_per_1000"] == 50.0
    low, high = block["difference_ci95_per_1000"]
    assert low < 50.0 < high
    empty = compare_arms(Arm(3, 1, 0.0), Arm(0, 0, 0.0))
    assert (
        empty["difference_per_1000"] is None and empty["held_out"]["conversions_per_1000"] is None
    )


def test_wording_variants_split_shoppers_evenly_and_stay_put() -> None:
    ids = [f"s_{i:020d}" for i in range(4000)]
    picks = [wording_variant(i, "nudge_checkout") for i in ids]
    assert set(picks) == {"A", "B"} and 0.46 < picks.count("A") / len(picks) < 0.54
    assert picks == [wording_variant(i, "nudge_checkout") for i in ids]


async def test_a_wording_variant_picks_its_template() -> None:
    wording = ClassicWording()
    facts = SmsFacts(name="Ann", product="Ridgeline", price="$115", link="https://x.example/p")
    with_link = await wording.decide("nudge_checkout", "friendly", facts, "seed", variant=0)
    without = await wording.decide("nudge_checkout", "friendly", facts, "seed", variant=1)
    assert "https://x.example/p" in with_link.text and "https://" not in without.text


async def test_a_text_the_model_writes_in_a_wording_test_gets_its_arms_instruction() -> None:
    prompts: list[str] = []

    def answer(title: str, prompt: str) -> str:
        prompts.append(prompt)
        return json.dumps({"text": "Ann, your Ridgeline is waiting. Still keen?"})

    facts = SmsFacts(name="Ann", product="Ridgeline", price="$115", link="https://x.example/p")
    for variant in ("B", None):
        await llm_wording(
            ScriptedModel(answer=answer, calls=[]), method=structured_method(SPEC), timeout_s=5,
            message_type="nudge_checkout", tone="friendly", facts=facts, text=None,
            variant=variant,
        )  # fmt: skip
    arm_b, untested = prompts
    assert '"arm": "B"' in arm_b and json.dumps(variant_instruction("B"))[1:-1] in arm_b
    assert '"wording_test_arm"' not in untested and '"wording_test_arm"' in arm_b
    assert variant_instruction("A") != variant_instruction("B")
    with pytest.raises(ValueError, match="no instruction for arm"):
        variant_instruction("C")
