"""Learn the next-message policy from a message log, and adopt it only if it replays better.

The log's shoppers are split (by a hash of their id) into 70% to fit a trial policy on and
30% to replay it on; the policy in place (the file at `out`, else the prompt's examples) is
replayed on the same 30%. The policy fit on the whole log replaces the one in place only
if the trial's doubly robust estimate is at least the current one's (`force` skips the
check). The policy in place may have learned from the replayed shoppers, the trial has not:
the comparison leans towards keeping what is there.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from langgraph.store.base import BaseStore

from textcart.deciders.next_message import prior_examples
from textcart.deciders.next_message_log import read_decisions_by_shopper
from textcart.deciders.next_message_policy import LearnedPolicy, LoggedDecision
from textcart.deciders.next_message_replay import ReplayEstimate, replay

REPLAY_SHARE = 0.3


@dataclass(frozen=True)
class FitReport:
    """What was learned from how much, and whether it replaced the policy in place."""

    decisions: int
    states: int
    base_rate: float
    path: Path
    adopted: bool = True
    candidate: ReplayEstimate | None = None
    current: ReplayEstimate | None = None
    note: str = ""


def _replayed(shopper_id: str) -> bool:
    digest = hashlib.sha256(f"replay:{shopper_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < REPLAY_SHARE


def _current(out: Path, offer_bands: frozenset[str]) -> LearnedPolicy:
    if out.exists():
        return LearnedPolicy.load(out, prior_examples())
    return LearnedPolicy(prior_examples(), offer_bands=offer_bands)


async def refit(
    store: BaseStore,
    out: Path,
    offer_bands: frozenset[str] = frozenset({"medium"}),
    *,
    force: bool = False,
) -> FitReport:
    """Learn from every logged reply in `store`; write it to `out` if it replays better."""
    by_shopper = await read_decisions_by_shopper(store)
    decisions = [d for found in by_shopper.values() for d in found]
    if not decisions:
        raise ValueError("no logged replies to learn from")
    policy = LearnedPolicy.fit(prior_examples(), decisions, offer_bands)
    states = sum(1 for key in policy.stats if key.startswith("full:"))
    train: list[LoggedDecision] = []
    held: list[LoggedDecision] = []
    for shopper_id, found in by_shopper.items():
        (held if _replayed(shopper_id) else train).extend(found)
    candidate = current = None
    note = ""
    try:
        trial = LearnedPolicy.fit(prior_examples(), train, offer_bands)
        candidate, current = replay(trial, held), replay(_current(out, offer_bands), held)
        adopted = force or candidate.dr >= current.dr
    except ValueError as exc:
        # No propensities logged (an older log, or an LLM decided everything).
        note = f"not replayed: {exc}"
        adopted = force or not out.exists()
    if adopted:
        policy.save(out)
    return FitReport(
        len(decisions), states, policy.base_rate, out, adopted, candidate, current, note
    )
