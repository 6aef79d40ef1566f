"""Learn the next-message policy from the message log in a data dir and write its file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textcart.deciders.next_message import prior_examples
from textcart.deciders.next_message_log import read_decisions
from textcart.deciders.next_message_policy import LearnedPolicy
from textcart.persistence import open_persistence


@dataclass(frozen=True)
class FitReport:
    """What was learned from how much."""

    decisions: int
    states: int
    base_rate: float
    path: Path


async def fit_policy(
    directory: Path,
    out: Path,
    offer_bands: frozenset[str] = frozenset({"medium"}),
    database_url: str | None = None,
) -> FitReport:
    """Read every logged reply in the store under `directory`, learn, and save to `out`."""
    async with open_persistence(directory, database_url) as (_, store):
        decisions = await read_decisions(store)
    if not decisions:
        raise ValueError(f"no logged replies to learn from in {directory}")
    policy = LearnedPolicy.fit(prior_examples(), decisions, offer_bands)
    policy.save(out)
    states = sum(1 for key in policy.stats if key.startswith("full:"))
    return FitReport(len(decisions), states, policy.base_rate, out)
