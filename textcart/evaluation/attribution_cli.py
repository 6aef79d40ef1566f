"""`textcart attribution`: what the texts earned, from the real message log.

Reads the shopper store the server writes (SQLite in the data dir, or PostgreSQL with
`TEXTCART_DATABASE_URL`): messages, clicks, conversions and attributed revenue under the
attribution rule (`textcart.rules.attribution`), and the holdout comparison, which is the
incremental figure: conversions and revenue per 1,000 triggers, sent against held out,
with the difference and its 95% interval, overall, per trigger and per policy.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from textcart.agent import Agent
from textcart.evaluation.cli_output import with_interval
from textcart.paths import data_dir
from textcart.tools.outcomes import attribution_summary, windows_from_env
from textcart.tools.shopper_store import now_utc

console = Console()


async def read_attribution(directory: Path) -> dict[str, Any]:
    """The attribution summary of the store in `directory` (or `$TEXTCART_DATABASE_URL`)."""
    async with Agent.open(directory) as agent:
        return await attribution_summary(agent.store, windows_from_env(), now_utc())


def _per_1000(value: Any) -> str:
    return "n/a" if value is None else f"{value:g}"


def _difference(block: dict[str, Any]) -> str:
    ci = block["difference_ci95_per_1000"]
    if ci is None:
        return "n/a"
    return with_interval(block["difference_per_1000"], ci, "+g")


def holdout_lines(summary: dict[str, Any]) -> list[str]:
    """The holdout comparison as Markdown lines (shared with `textcart report`)."""
    holdout = summary["holdout"]
    lines = [
        "| arm | triggers | conversions | per 1,000 | revenue per 1,000 |",
        "|---|---|---|---|---|",
    ]
    for arm in ("sent", "held_out"):
        a = holdout[arm]
        lines.append(
            f"| {arm} | {a['triggers']} | {a['conversions']} | "
            f"{_per_1000(a['conversions_per_1000'])} | {_per_1000(a['revenue_per_1000'])} |"
        )
    for kind in ("trigger", "policy"):
        for name, block in holdout.get(f"by_{kind}", {}).items():
            lines.append(
                f"| {kind} {name}: sent {block['sent']['triggers']}, held out "
                f"{block['held_out']['triggers']} | | | "
                f"{_per_1000(block['sent']['conversions_per_1000'])} vs "
                f"{_per_1000(block['held_out']['conversions_per_1000'])}, difference "
                f"{_difference(block)} | "
                f"{_per_1000(block['sent']['revenue_per_1000'])} vs "
                f"{_per_1000(block['held_out']['revenue_per_1000'])} |"
            )
    ci = holdout["difference_ci95_per_1000"]
    lines += [
        "",
        "Sent minus held out: "
        + (
            f"{holdout['difference_per_1000']:+g} conversions per 1,000 triggers "
            f"(95% CI {ci[0]:+g} to {ci[1]:+g})"
            if ci is not None
            else "not measurable yet (an arm has no triggers)"
        )
        + ".",
    ]
    return lines


def summary_lines(summary: dict[str, Any]) -> list[str]:
    """The whole summary as Markdown lines."""
    rules = ", ".join(f"{k}: {v}" for k, v in summary["conversions_by_rule"].items()) or "none"
    outcomes = ", ".join(f"{k}: {v}" for k, v in summary["message_outcomes"].items()) or "none"
    return [
        f"Messages delivered: {summary['messages']} ({summary['proactive_messages']} proactive); "
        f"clicks: {summary['clicks']}; purchases recorded: {summary['purchases']}; "
        f"attributed conversions: {summary['conversions']} ({rules}); attributed revenue: "
        f"{summary['attributed_revenue']:,.2f}.",
        "",
        f"What came of each message: {outcomes}.",
        "",
        *holdout_lines(summary),
        *_wording_lines(summary.get("wording_tests") or {}),
    ]


def _wording_lines(tests: dict[str, Any]) -> list[str]:
    lines = []
    for message_type, t in tests.items():
        ci = t["purchase_rate_b_minus_a_ci95"]
        lines += [
            "",
            f"Wording test on {message_type}: A {t['A']['purchased']}/{t['A']['texts']} "
            f"bought, {t['A']['clicked']} clicked; B {t['B']['purchased']}/{t['B']['texts']} "
            f"bought, {t['B']['clicked']} clicked"
            + (
                f"; purchase rate B minus A {t['purchase_rate_b_minus_a']:+.3f} "
                f"(95% CI {ci[0]:+.3f} to {ci[1]:+.3f})."
                if ci is not None
                else "."
            ),
        ]
        writers = [
            f"{writer}: A {w['A']['purchased']}/{w['A']['texts']}, "
            f"B {w['B']['purchased']}/{w['B']['texts']} bought"
            for writer, w in t.get("by_writer", {}).items()
        ]
        if writers:
            lines += ["", "Written by " + "; ".join(writers) + "."]
        kinds = ", ".join(t.get("holdout_trigger_kinds", [])) or "none"
        lines += [
            "",
            f"Each arm against its own held-out shoppers (triggers: {kinds}):",
            "",
            "| arm | sent: triggers | per 1,000 | held out: triggers | per 1,000 | "
            "difference [95% CI] |",
            "|---|---|---|---|---|---|",
        ]
        for arm, block in t.get("holdout", {}).items():
            sent, held = block["sent"], block["held_out"]
            lines.append(
                f"| {arm} | {sent['triggers']} | {_per_1000(sent['conversions_per_1000'])} | "
                f"{held['triggers']} | {_per_1000(held['conversions_per_1000'])} | "
                f"{_difference(block)} |"
            )
    return lines


def attribution(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
    data: Annotated[
        Path | None, typer.Option("--data-dir", help="Default: $TEXTCART_DATA_DIR or ./var.")
    ] = None,
) -> None:
    """Messages, clicks, conversions, attributed revenue and the holdout lift."""
    directory = data or data_dir()
    try:
        summary = asyncio.run(read_attribution(directory))
    except ValueError as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    for line in summary_lines(summary):
        console.print(line, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add `attribution` to the CLI."""
    app.command("attribution")(attribution)
