"""Confidence intervals for the policy comparison: Wilson for rates, bootstrap for ratios."""

from __future__ import annotations

import pytest

from textcart.simulation.population import ConversationResult
from textcart.simulation.stats import (
    bootstrap_ratio_ci,
    paired_difference,
    policy_row,
    ratio,
    wilson,
)

REPORT_KEYS = [
    "policy", "conversations", "conversions", "conversion_rate", "conversion_ci", "reply_rate",
    "reply_ci", "opt_out_rate", "opt_out_ci", "messages", "messages_per_conversion",
    "messages_per_conversion_ci",
]  # fmt: skip


@pytest.mark.parametrize(
    ("k", "n", "low", "high"),
    [
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_matches_published_values(k: int, n: int, low: float, high: float) -> None:
    got = wilson(k, n)
    assert got == pytest.approx((low, high), abs=5e-4)


def test_wilson_without_data_is_uninformative() -> None:
    assert wilson(0, 0) == (0.0, 1.0)


def test_bootstrap_ratio_is_seeded_and_brackets_the_estimate() -> None:
    messages = [3, 4, 2, 6, 5, 3, 2, 4, 3, 5] * 4
    converted = [1, 0, 1, 0, 0, 1, 0, 1, 0, 0] * 4
    point = ratio(messages, converted)
    assert point == pytest.approx(37 / 4)
    low_high = bootstrap_ratio_ci(messages, converted, seed=7)
    assert low_high == bootstrap_ratio_ci(messages, converted, seed=7)
    assert low_high is not None and low_high[0] < point < low_high[1]
    wider = bootstrap_ratio_ci(messages[:10], converted[:10], seed=7)
    assert wider is not None and wider[1] - wider[0] > low_high[1] - low_high[0]
    assert bootstrap_ratio_ci([3, 4], [0, 0]) is None
    assert ratio([1], [0]) is None


def test_policy_row_has_exactly_the_report_keys() -> None:
    results = [
        ConversationResult("a", True, False, 3, 2, 3),
        ConversationResult("b", False, True, 2, 1, 2),
        ConversationResult("c", False, False, 1, 0, 1),
        ConversationResult("d", True, False, 2, 1, 2),
    ]
    row = policy_row("learned", results)
    assert list(row) == REPORT_KEYS
    assert (row["conversations"], row["conversions"], row["messages"]) == (4, 2, 8)
    assert row["conversion_rate"] == 0.5 and row["opt_out_rate"] == 0.25
    assert row["reply_rate"] == 0.5 and row["messages_per_conversion"] == 4.0
    assert row["conversion_ci"] == [round(x, 4) for x in wilson(2, 4)]
    empty = policy_row("random", [ConversationResult("a", False, False, 0, 0, 1)])
    assert empty["messages_per_conversion"] is None
    assert empty["messages_per_conversion_ci"] is None


def _run(outcomes: str) -> list[ConversationResult]:
    """One result per character: c = converted, o = opted out, . = neither."""
    return [
        ConversationResult(f"p{i}", c == "c", c == "o", 3, 1, 3) for i, c in enumerate(outcomes)
    ]


def test_paired_difference_matches_shoppers_and_sees_what_separate_intervals_hide() -> None:
    # The same 60 shoppers: the first policy converts 6 more of them and loses 3 fewer.
    first = _run("c" * 30 + "." * 27 + "o" * 3)
    other = _run("c" * 24 + "." * 30 + "o" * 6)
    paired = paired_difference(first, other, seed=3)
    assert paired["shoppers"] == 60
    assert paired["conversion_diff"] == pytest.approx(6 / 60)
    assert paired["opt_out_diff"] == pytest.approx(-3 / 60)
    low, high = paired["conversion_diff_ci"]
    assert 0 < low < 0.1 < high, "every change goes one way: the paired interval excludes 0"
    assert wilson(30, 60)[0] < wilson(24, 60)[1], "while the two separate intervals overlap"
    assert paired == paired_difference(first, other, seed=3)
    # Matched by persona, not by position; shoppers only one run met are left out.
    extra = ConversationResult("only-here", True, False, 1, 1, 1)
    assert paired_difference(first, [*reversed(other), extra], seed=3) == paired
    with pytest.raises(ValueError, match="no shopper"):
        paired_difference(first, [ConversationResult("zz", True, False, 1, 1, 1)])
