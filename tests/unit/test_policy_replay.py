"""Exploration at a rate, the logged decision probabilities, and the offline replay."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import pytest

from textcart.deciders.next_message import ClassicNextMessage, NextMessageCase, prior_examples
from textcart.deciders.next_message_policy import (
    Choice,
    LearnedPolicy,
    LoggedDecision,
    choice_probabilities,
)
from textcart.deciders.next_message_replay import logged_value, replay

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
