"""Learn the next-message policy from the message log in a data dir (SQLite or PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from textcart.deciders.next_message_fit import FitReport, refit
from textcart.persistence import open_persistence

__all__ = ["FitReport", "fit_policy"]


async def fit_policy(
    directory: Path,
    out: Path,
    offer_bands: frozenset[str] = frozenset({"medium"}),
    database_url: str | None = None,
    *,
    force: bool = False,
) -> FitReport:
    """Learn from every logged reply under `directory`; write it to `out` if it replays better."""
    async with open_persistence(directory, database_url) as (_, store):
        try:
            return await refit(store, out, offer_bands, force=force)
        except ValueError as exc:
            raise ValueError(f"{exc} in {directory}") from exc
