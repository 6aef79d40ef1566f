"""Exploration at a rate, the logged decision probabilities, the offline replay and its gate."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from logged_replies import CASE as LOG_CASE
from logged_replies import log_reply

from textcart.deciders.next_message import ClassicNextMessage, NextMessageCase, prior_examples
from textcart.deciders.next_message_fit import in_replay_share, last_refit, refit
from textcart.deciders.next_message_policy import (
    Choice,
    LearnedPolicy,
    LoggedDecision,
    choice_probabilities,
)
from textcart.deciders.next_message_replay import logged_value, replay, replay_difference
from textcart.evaluation.report_policy import log_replay_lines, read_log_replay
from textcart.persistence import open_persistence
from textcart.tools.shopper_store import ShopperStore, shopper_id_for_phone

CASE = NextMessageCase(
    intent="product_question", buy_likelihood_band="medium", last_message_type=None,
    turns_so_far=0, has_products=True,
)  # fmt: skip


class Silent:
    """Best is to answer; any draw says nothing (a policy that explores into silence)."""

    def choose(self, case: Mapping[str, Any], rng: random.Random | None = None) -> Choice:
        return Choice("answer_question" if rng is None else "no_reply", {}, "stub")


class Always:
    def __init__(self, message_type: str) -> None:
        self.message_type = message_type

    def choose(self, case: Mapping[str, Any], rng: random.Random | None = None) -> Choice:
        return Choice(self.message_type, {}, "stub")


async def test_exploration_never_answers_a_shoppers_text_with_silence() -> None:
    decider = ClassicNextMessage(Silent(), explore=True)  # type: ignore[arg-type]
    assert (await decider.decide(CASE, question=True)).message_type == "answer_question"
    assert (await decider.decide(CASE, question=False)).message_type == "no_reply"


async def test_the_exploration_rate_is_the_share_of_decisions_that_explore() -> None:
    decider = ClassicNextMessage(Silent(), explore_rate=0.2, seed=3)  # type: ignore[arg-type]
    picks = [(await decider.decide(CASE)).message_type for _ in range(2000)]
    assert 0.17 < picks.count("no_reply") / len(picks) < 0.23
    still = ClassicNextMessage(Silent())  # type: ignore[arg-type]
    assert {(await still.decide(CASE)).message_type for _ in range(50)} == {"answer_question"}
    with pytest.raises(ValueError):
        ClassicNextMessage(explore_rate=1.5)


def test_decision_probabilities_follow_the_rate() -> None:
    policy = LearnedPolicy(prior_examples())
    exploit = choice_probabilities(policy, CASE, 0.0)
    assert list(exploit.values()) == [1.0]
    explore = choice_probabilities(policy, CASE, 0.3)
    greedy = next(iter(exploit))
    assert abs(sum(explore.values()) - 1) < 1e-9 and explore[greedy] >= 0.7
    assert explore == choice_probabilities(policy, CASE, 0.3)  # seeded by the state


def _uniform_log(n: int, seed: int) -> list[LoggedDecision]:
    """Two types sent at random (propensity 0.5): `nudge_checkout` earns 1, the other 0."""
    rng = random.Random(seed)
    log = []
    for _ in range(n):
        sent = rng.choice(["nudge_checkout", "recommend_products"])
        reward = float(sent == "nudge_checkout" and rng.random() < 0.6)
        log.append(LoggedDecision(dict(CASE), sent, reward, propensity=0.5))
    return log


def test_replay_estimates_what_each_policy_would_have_earned() -> None:
    log = _uniform_log(4000, 1)
    good = replay(Always("nudge_checkout"), log)  # type: ignore[arg-type]
    bad = replay(Always("recommend_products"), log)  # type: ignore[arg-type]
    assert good.ips_ci[0] <= 0.6 <= good.ips_ci[1]
    assert bad.ips == 0.0 and good.dr == good.ips  # no model of its own: DR is IPS
    assert 1900 < good.matched < 2100
    logged, (low, high) = logged_value(log)
    assert low <= 0.3 <= high and abs(logged - 0.3) < 0.03


def test_a_learned_policy_replays_with_its_own_estimates() -> None:
    log = _uniform_log(3000, 2)
    learned = LearnedPolicy.fit(prior_examples(), _uniform_log(3000, 3))
    assert learned.choose(CASE).message_type == "nudge_checkout"
    estimate = replay(learned, log)
    assert estimate.dr_ci[0] <= 0.6 <= estimate.dr_ci[1]
    assert estimate.dr_ci[1] - estimate.dr_ci[0] < estimate.ips_ci[1] - estimate.ips_ci[0]


def test_a_log_without_probabilities_cannot_be_replayed() -> None:
    log = [LoggedDecision(dict(CASE), "nudge_checkout", 1.0)]
    with pytest.raises(ValueError, match="propensity"):
        replay(Always("nudge_checkout"), log)  # type: ignore[arg-type]


# --- the refit's gate and the report, on a real SQLite log -------------------------------

GREEDY = LearnedPolicy(prior_examples()).choose(LOG_CASE).message_type
OTHER = "recommend_products" if GREEDY != "recommend_products" else "answer_question"


async def _write_log(directory: Path, buys: Callable[[str, str], bool]) -> None:
    """80 shoppers asked the same; half got the prior's choice, half the other type."""
    async with open_persistence(directory) as (_, store):
        shoppers = ShopperStore(store)
        for i in range(80):
            sid = shopper_id_for_phone(f"+1212555{3000 + i}")
            sent = GREEDY if i % 2 else OTHER
            outcome = "purchased" if buys(sid, sent) else None
            await log_reply(shoppers, sid, sent, propensity=0.5, outcome=outcome)


async def test_a_candidate_that_replays_better_is_adopted_and_the_report_shows_why(
    tmp_path: Path,
) -> None:
    await _write_log(tmp_path, lambda sid, sent: sent == OTHER)
    out = tmp_path / "policy.json"
    async with open_persistence(tmp_path) as (_, store):
        report = await refit(store, out)
        assert report.adopted and out.exists()
        assert report.comparison is not None and report.comparison.candidate_wins
        assert report.comparison.dr_difference_ci is not None
        assert report.comparison.dr_difference_ci[0] > 0  # clearly better, decision by decision
        last = await last_refit(store)
    assert last is not None and last["adopted"] and not last["forced"]
    assert last["comparison"]["current_from"] == "the prompt's examples"
    assert LearnedPolicy.load(out, prior_examples()).choose(LOG_CASE).message_type == OTHER

    found = await read_log_replay(tmp_path, out)
    assert found is not None
    text = "\n".join(log_replay_lines(found))
    assert "| candidate (fit on 70%) | " in text and f"({out})" in text
    assert "The last refit (" in text and "adopted its candidate." in text


async def test_a_candidate_that_replays_worse_is_not_adopted(tmp_path: Path) -> None:
    # The shoppers it is fit on bought after the other type; the replayed ones after the
    # prior's choice: the candidate learns what does not hold on shoppers it never saw.
    await _write_log(
        tmp_path, lambda sid, sent: sent == (GREEDY if in_replay_share(sid) else OTHER)
    )
    out = tmp_path / "policy.json"
    async with open_persistence(tmp_path) as (_, store):
        report = await refit(store, out)
        last = await last_refit(store)
    assert not report.adopted and not out.exists()
    assert report.candidate is not None and report.current is not None
    assert report.candidate.dr < report.current.dr
    assert last is not None and not last["adopted"]
    found = await read_log_replay(tmp_path, out)
    text = "\n".join(log_replay_lines(found))
    assert "keep the policy in place (the candidate replays worse)" in text
    assert "kept the policy in place." in text


async def test_the_report_says_when_there_is_nothing_to_replay(tmp_path: Path) -> None:
    assert await read_log_replay(tmp_path, tmp_path / "policy.json") is None
    assert "Not included" in "\n".join(log_replay_lines(None))
    async with open_persistence(tmp_path) as (_, store):
        sid = shopper_id_for_phone("+12125553999")
        await log_reply(ShopperStore(store), sid, OTHER, propensity=None, outcome="clicked")
    found = await read_log_replay(tmp_path, tmp_path / "policy.json")
    assert found is not None and found["comparison"]["candidate"] is None
    assert "Not replayed: no logged decision has a propensity" in "\n".join(log_replay_lines(found))


def test_the_paired_difference_is_the_difference_of_the_estimates() -> None:
    log = _uniform_log(2000, 4)
    good, bad = Always("nudge_checkout"), Always("recommend_products")
    diff, (low, high) = replay_difference(good, bad, log)  # type: ignore[arg-type]
    assert abs(diff - (replay(good, log).dr - replay(bad, log).dr)) < 1e-9  # type: ignore[arg-type]
    assert low > 0.5 and high < 0.7
