"""Learn the next-message policy from a message log, and adopt it only if it replays better.

The log's shoppers are split (by a hash of their id) into 70% to fit a trial policy on and
30% to replay it on; the policy in place (the file at `out`, else the prompt's examples) is
replayed on the same 30%. The policy fit on the whole log replaces the one in place only
if the trial's doubly robust estimate is at least the current one's (`force` skips the
check). The policy in place may have learned from the replayed shoppers, the trial has not:
the comparison leans towards keeping what is there.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from langgraph.store.base import BaseStore

from textcart.deciders.next_message import prior_examples
from textcart.deciders.next_message_log import read_decisions_by_shopper
from textcart.deciders.next_message_policy import LearnedPolicy, LoggedDecision
from textcart.deciders.next_message_replay import ReplayEstimate, replay, replay_difference

REPLAY_SHARE = 0.3
# Where the last refit's outcome is kept in the store.
REFITS: tuple[str, ...] = ("policy", "refits")
LAST_REFIT = "last"


@dataclass(frozen=True)
class ReplayComparison:
    """A policy fit on 70% of the log's shoppers against the one in place, on the other 30%."""

    decisions: int
    replayed_decisions: int
    current_from: str
    candidate: ReplayEstimate | None = None
    current: ReplayEstimate | None = None
    # Candidate minus current, doubly robust, paired decision by decision.
    dr_difference: float | None = None
    dr_difference_ci: tuple[float, float] | None = None
    note: str = ""

    @property
    def candidate_wins(self) -> bool:
        """Whether the trial replays at least as well as the policy in place (the gate)."""
        return (
            self.candidate is not None
            and self.current is not None
            and (self.candidate.dr >= self.current.dr)
        )

    def as_json(self) -> dict[str, Any]:
        """For the store's refit record and the report."""
        return {
            "decisions": self.decisions,
            "replayed_decisions": self.replayed_decisions,
            "current_from": self.current_from,
            "candidate": self.candidate.as_json() if self.candidate else None,
            "current": self.current.as_json() if self.current else None,
            "dr_difference": None if self.dr_difference is None else round(self.dr_difference, 4),
            "dr_difference_ci95": None
            if self.dr_difference_ci is None
            else [round(x, 4) for x in self.dr_difference_ci],
            "candidate_wins": self.candidate_wins,
            "note": self.note,
        }


@dataclass(frozen=True)
class FitReport:
    """What was learned from how much, and whether it replaced the policy in place."""

    decisions: int
    states: int
    base_rate: float
    path: Path
    adopted: bool = True
    comparison: ReplayComparison | None = None

    @property
    def candidate(self) -> ReplayEstimate | None:
        """The trial policy's replay, if the log could be replayed."""
        return self.comparison.candidate if self.comparison else None

    @property
    def current(self) -> ReplayEstimate | None:
        """The replay of the policy in place, if the log could be replayed."""
        return self.comparison.current if self.comparison else None

    @property
    def note(self) -> str:
        """Why there was no replay, if there was none."""
        return self.comparison.note if self.comparison else ""


def in_replay_share(shopper_id: str) -> bool:
    """Whether the shopper is among the 30% a trial policy is replayed on (not fit on)."""
    digest = hashlib.sha256(f"replay:{shopper_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < REPLAY_SHARE


def _current(out: Path, offer_bands: frozenset[str]) -> tuple[LearnedPolicy, str]:
    if out.exists():
        return LearnedPolicy.load(out, prior_examples()), str(out)
    return LearnedPolicy(prior_examples(), offer_bands=offer_bands), "the prompt's examples"


def compare(
    by_shopper: dict[str, list[LoggedDecision]],
    current_file: Path,
    offer_bands: frozenset[str] = frozenset({"medium"}),
) -> ReplayComparison:
    """Fit a trial on 70% of the shoppers; replay it and the policy in place on the rest."""
    train: list[LoggedDecision] = []
    held: list[LoggedDecision] = []
    for shopper_id, found in by_shopper.items():
        (held if in_replay_share(shopper_id) else train).extend(found)
    current, current_from = _current(current_file, offer_bands)
    total = len(train) + len(held)
    if not held:
        return ReplayComparison(
            total, 0, current_from, note="not replayed: no shopper in the replay share yet"
        )
    try:
        trial = LearnedPolicy.fit(prior_examples(), train, offer_bands)
        candidate, in_place = replay(trial, held), replay(current, held)
        diff, diff_ci = replay_difference(trial, current, held)
    except ValueError as exc:
        # No propensities logged (an older log, or an LLM decided everything).
        return ReplayComparison(total, len(held), current_from, note=f"not replayed: {exc}")
    return ReplayComparison(total, len(held), current_from, candidate, in_place, diff, diff_ci)


async def read_comparison(
    store: BaseStore, current_file: Path, offer_bands: frozenset[str] = frozenset({"medium"})
) -> ReplayComparison:
    """The comparison the next refit would make on `store`'s log (nothing is written)."""
    by_shopper = await read_decisions_by_shopper(store)
    if not any(by_shopper.values()):
        raise ValueError("no logged replies to learn from")
    return compare(by_shopper, current_file, offer_bands)


async def last_refit(store: BaseStore) -> dict[str, Any] | None:
    """The latest refit's record (when, adopted or not, its comparison), if any."""
    item = await store.aget(REFITS, LAST_REFIT)
    return dict(item.value) if item is not None else None


def _fit_and_gate(
    by_shopper: dict[str, list[LoggedDecision]],
    out: Path,
    offer_bands: frozenset[str],
    force: bool,
) -> FitReport:
    """Fit on the whole log, replay, and write the policy file if it is adopted."""
    decisions = [d for found in by_shopper.values() for d in found]
    policy = LearnedPolicy.fit(prior_examples(), decisions, offer_bands)
    states = sum(1 for key in policy.stats if key.startswith("full:"))
    comparison = compare(by_shopper, out, offer_bands)
    replayed = comparison.candidate is not None
    adopted = force or comparison.candidate_wins or (not replayed and not out.exists())
    if adopted:
        policy.save(out)
    return FitReport(len(decisions), states, policy.base_rate, out, adopted, comparison)


async def refit(
    store: BaseStore,
    out: Path,
    offer_bands: frozenset[str] = frozenset({"medium"}),
    *,
    force: bool = False,
) -> FitReport:
    """Learn from every logged reply in `store`; write it to `out` if it replays better.

    The outcome (adopted or kept, and the comparison behind it) is recorded in the store,
    so the report can show what the last refit decided and why. Fitting, replaying and the
    policy files run in a worker thread: the server refits on its event loop, where a
    blocking file read fails the task (and a long fit would stall every turn).
    """
    by_shopper = await read_decisions_by_shopper(store)
    if not any(by_shopper.values()):
        raise ValueError("no logged replies to learn from")
    report = await asyncio.to_thread(_fit_and_gate, by_shopper, out, offer_bands, force)
    assert report.comparison is not None
    await store.aput(
        REFITS,
        LAST_REFIT,
        {
            "at": datetime.now(UTC).isoformat(),
            "adopted": report.adopted,
            "forced": force,
            "policy_file": str(out),
            "decisions": report.decisions,
            "comparison": report.comparison.as_json(),
        },
    )
    return report
