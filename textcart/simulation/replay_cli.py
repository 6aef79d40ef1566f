"""`textcart policy replay`: a policy's offline value on a message log, and the log's own.

Reads the learnable decisions of a log (SQLite in a data dir, or PostgreSQL with
`TEXTCART_DATABASE_URL`), scores a policy file on them by inverse propensity and doubly
robust replay, and prints the mean reward of the decisions as logged: when the log was
written by that same policy, exploiting, this is its on-policy value.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from textcart.deciders.next_message import prior_examples
from textcart.deciders.next_message_log import read_decisions
from textcart.deciders.next_message_policy import LearnedPolicy, policy_path
from textcart.deciders.next_message_replay import logged_value, replay
from textcart.paths import data_dir
from textcart.persistence import open_persistence

_out = Console()


async def replay_report(directory: Path, policy_file: Path | None) -> dict[str, Any]:
    """The replay of `policy_file` (the prompt prior when None) and the log's own value."""
    async with open_persistence(directory) as (_, store):
        decisions = await read_decisions(store)
    if not decisions:
        raise ValueError(f"no logged replies in {directory}")
    policy = (
        LearnedPolicy.load(policy_file, prior_examples())
        if policy_file is not None
        else LearnedPolicy(prior_examples())
    )
    value, (low, high) = logged_value(decisions)
    report: dict[str, Any] = {
        "log": str(directory),
        "policy": str(policy_file) if policy_file else "prompt prior",
        "logged_value": round(value, 4),
        "logged_value_ci95": [round(low, 4), round(high, 4)],
        "logged_decisions": len(decisions),
    }
    try:
        report["replay"] = replay(policy, decisions).as_json()
    except ValueError as exc:
        report["replay"] = None
        report["note"] = str(exc)
    return report


def policy_replay(
    data: Annotated[
        Path | None, typer.Option("--data-dir", help="Data dir whose log to replay on.")
    ] = None,
    policy_file: Annotated[
        Path | None, typer.Option(help="Policy to score (default: the data dir's policy).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Score a policy on a logged run without sending anything (offline replay)."""
    directory = data or data_dir()
    path = policy_file or policy_path()
    try:
        report = asyncio.run(replay_report(directory, path if path.exists() else None))
    except ValueError as exc:
        _out.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps(report))
        return
    low, high = report["logged_value_ci95"]
    _out.print(
        f"logged: {report['logged_value']:.3f} [{low:.3f}, {high:.3f}] mean reward over "
        f"{report['logged_decisions']} decisions", highlight=False,
    )  # fmt: skip
    if report["replay"] is None:
        _out.print(report["note"])
        return
    r = report["replay"]
    _out.print(
        f"{report['policy']} replayed: doubly robust {r['dr']:.3f} {r['dr_ci95']}, inverse "
        f"propensity {r['ips']:.3f} {r['ips_ci95']} ({r['matched']} of {r['decisions']} "
        f"decisions agree)", highlight=False,
    )  # fmt: skip


def register(policy_app: typer.Typer) -> None:
    """Add `replay` to the `policy` commands."""
    policy_app.command("replay")(policy_replay)
