"""Offline replay: what a next-message policy would have earned on the logged decisions.

Each logged decision keeps the chance the deciding policy had of sending what it sent
(`propensity`). A candidate policy is scored on the log without sending anything:

- inverse propensity (IPS): the mean of reward / propensity over the decisions where the
  candidate would have sent the same type (zero elsewhere); unbiased when every
  propensity is right and positive, noisy when they are small;
- doubly robust (DR): the candidate's own estimate of its choice's reward, corrected by
  the IPS-weighted error of that estimate on the decisions it agrees with; unbiased if
  either the propensities or the estimates are right, and usually far less noisy.

Intervals are normal approximations over decisions (95%). Decisions with no logged
propensity (an LLM decided) are left out and counted.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textcart.deciders.next_message_policy import LearnedPolicy, LoggedDecision, NextMessagePolicy
from textcart.rules.attribution import Z95


@dataclass(frozen=True)
class ReplayEstimate:
    """A policy's value on the log: mean reward per decision, with 95% intervals."""

    decisions: int
    without_propensity: int
    matched: int
    ips: float
    ips_ci: tuple[float, float]
    dr: float
    dr_ci: tuple[float, float]

    def as_json(self) -> dict[str, Any]:
        """For `--json` output and the report."""
        return {
            "decisions": self.decisions,
            "without_propensity": self.without_propensity,
            "matched": self.matched,
            "ips": round(self.ips, 4),
            "ips_ci95": [round(x, 4) for x in self.ips_ci],
            "dr": round(self.dr, 4),
            "dr_ci95": [round(x, 4) for x in self.dr_ci],
        }


def _mean_ci(values: Sequence[float]) -> tuple[float, tuple[float, float]]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, (mean, mean)
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = Z95 * math.sqrt(var / n)
    return mean, (mean - half, mean + half)


def _estimate(policy: NextMessagePolicy, case: dict[str, Any], message_type: str) -> float:
    """The candidate's own expected reward for a type in a state (0 when it has none)."""
    if isinstance(policy, LearnedPolicy):
        return policy.posterior(case).get(message_type, (0.0, 0.0))[0]
    return 0.0


def _usable(decisions: Sequence[LoggedDecision]) -> list[LoggedDecision]:
    usable = [d for d in decisions if d.propensity is not None and d.propensity > 0]
    if not usable:
        raise ValueError("no logged decision has a propensity: nothing to replay")
    return usable


def _terms(
    policy: NextMessagePolicy, usable: Sequence[LoggedDecision]
) -> tuple[list[float], list[float], int]:
    """Per decision: the IPS term, the DR term; and how many decisions the policy matches."""
    ips_terms, dr_terms, matched = [], [], 0
    for d in usable:
        assert d.propensity is not None
        chosen = policy.choose(d.case, None).message_type
        weight = (1.0 / d.propensity) if chosen == d.message_type else 0.0
        matched += weight > 0
        ips_terms.append(weight * d.reward)
        predicted = _estimate(policy, d.case, chosen)
        dr_terms.append(predicted + weight * (d.reward - _estimate(policy, d.case, d.message_type)))
    return ips_terms, dr_terms, matched


def replay(policy: NextMessagePolicy, decisions: Sequence[LoggedDecision]) -> ReplayEstimate:
    """Score `policy` (exploiting, as it would be served) on the logged decisions."""
    usable = _usable(decisions)
    ips_terms, dr_terms, matched = _terms(policy, usable)
    ips, ips_ci = _mean_ci(ips_terms)
    dr, dr_ci = _mean_ci(dr_terms)
    return ReplayEstimate(
        len(usable), len(decisions) - len(usable), matched, ips, ips_ci, dr, dr_ci
    )


def replay_difference(
    candidate: NextMessagePolicy, current: NextMessagePolicy, decisions: Sequence[LoggedDecision]
) -> tuple[float, tuple[float, float]]:
    """Candidate minus current, doubly robust, decision by decision on the same log.

    Both policies are scored on the same decisions, so the paired interval is narrower than
    the two estimates' own intervals side by side.
    """
    usable = _usable(decisions)
    _, new, _ = _terms(candidate, usable)
    _, old, _ = _terms(current, usable)
    return _mean_ci([a - b for a, b in zip(new, old, strict=True)])


def logged_value(decisions: Sequence[LoggedDecision]) -> tuple[float, tuple[float, float]]:
    """The mean reward of the decisions as logged (the on-policy value of the logger)."""
    if not decisions:
        raise ValueError("no logged decisions")
    return _mean_ci([d.reward for d in decisions])
