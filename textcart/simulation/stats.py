"""Compare policies: conversion, reply and opt-out rates, messages per conversion, with CIs.

Rates get Wilson score intervals; messages per conversion is a ratio of two sums, so its
interval comes from a seeded bootstrap over conversations. Two policies run on the same
seeded shoppers are also compared pair by pair: the difference in conversion and opt-out
with a bootstrap over shoppers, which sees a difference the two separate intervals hide.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from textcart.rules.attribution import wilson
from textcart.simulation.population import ConversationResult


def ratio(numerators: Sequence[float], denominators: Sequence[float]) -> float | None:
    """sum(numerators) / sum(denominators), or None when the denominator is 0."""
    below = sum(denominators)
    return sum(numerators) / below if below else None


def bootstrap_ratio_ci(
    numerators: Sequence[float],
    denominators: Sequence[float],
    *,
    resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float] | None:
    """Percentile bootstrap interval of a ratio of sums, resampling whole units.

    Resamples with a zero denominator are dropped; None when too few are left.
    """
    n = len(numerators)
    if n == 0:
        return None
    rng = random.Random(seed)
    values = []
    for _ in range(resamples):
        picks = [rng.randrange(n) for _ in range(n)]
        value = ratio([numerators[i] for i in picks], [denominators[i] for i in picks])
        if value is not None:
            values.append(value)
    if len(values) < resamples // 2:
        return None
    values.sort()
    tail = (1 - level) / 2
    low = values[int(math.floor(tail * (len(values) - 1)))]
    high = values[int(math.ceil((1 - tail) * (len(values) - 1)))]
    return (low, high)


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _ci(bounds: tuple[float, float] | None) -> list[float] | None:
    return None if bounds is None else [round(bounds[0], 4), round(bounds[1], 4)]


def paired_difference(
    first: list[ConversationResult], other: list[ConversationResult], seed: int = 0
) -> dict[str, Any]:
    """`first` minus `other` on the shoppers both met (matched by persona), with 95% CIs."""
    theirs = {r.persona: r for r in other}
    pairs = [(r, theirs[r.persona]) for r in first if r.persona in theirs]
    if not pairs:
        raise ValueError("the two runs share no shopper: nothing to compare pair by pair")
    ones = [1.0] * len(pairs)
    row: dict[str, Any] = {"shoppers": len(pairs)}
    for name, attr in (("conversion", "converted"), ("opt_out", "opted_out")):
        diffs = [float(getattr(a, attr)) - float(getattr(b, attr)) for a, b in pairs]
        row[f"{name}_diff"] = _r(ratio(diffs, ones))
        row[f"{name}_diff_ci"] = _ci(bootstrap_ratio_ci(diffs, ones, seed=seed))
    return row


def policy_row(policy: str, results: list[ConversationResult], seed: int = 0) -> dict[str, Any]:
    """One policy's figures, with exactly the keys the comparison report reads."""
    n = len(results)
    conversions = sum(r.converted for r in results)
    opted_out = sum(r.opted_out for r in results)
    messages = sum(r.messages for r in results)
    replies = sum(r.replies for r in results)
    per_conversion = ratio([r.messages for r in results], [r.converted for r in results])
    return {
        "policy": policy,
        "conversations": n,
        "conversions": conversions,
        "conversion_rate": _r(conversions / n if n else 0.0),
        "conversion_ci": _ci(wilson(conversions, n)),
        "reply_rate": _r(replies / messages if messages else 0.0),
        "reply_ci": _ci(wilson(replies, messages)),
        "opt_out_rate": _r(opted_out / n if n else 0.0),
        "opt_out_ci": _ci(wilson(opted_out, n)),
        "messages": messages,
        "messages_per_conversion": _r(per_conversion),
        "messages_per_conversion_ci": _ci(
            bootstrap_ratio_ci(
                [r.messages for r in results], [r.converted for r in results], seed=seed
            )
        ),
    }
