"""Confidence intervals for the policy comparison: Wilson for rates, bootstrap for ratios."""

from __future__ import annotations

import pytest

from textcart.simulation.population import ConversationResult
from textcart.simulation.stats import bootstrap_ratio_ci, policy_row, ratio, wilson

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
