"""`textcart consent import` and `textcart shopper export|forget`: one shopper's data.

`consent import` records opt-ins with their proof, from a file an operator holds.

The CSV has a header row with `phone`, `source`, `disclosure` and optionally `at` (ISO 8601
with a zone) and `timezone` (IANA). Every row is checked first; if any is wrong, nothing
is imported and every problem is listed with its line, so a file is never half-imported.

`shopper export PHONE --json` prints everything held on a shopper; `shopper forget PHONE`
deletes it (thread, store, inbox, queue, outbox), keeping only a hashed suppression entry
if they had opted out. Both work on SQLite and on PostgreSQL (`TEXTCART_DATABASE_URL`).
"""

from __future__ import annotations

import asyncio
import csv
import json
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from textcart.agent import Agent
from textcart.paths import data_dir
from textcart.tools import consent as consent_rules
from textcart.tools.privacy import export_shopper, forget_shopper
from textcart.tools.shopper_store import normalize_phone, now_utc, shopper_id_for_phone

console = Console(stderr=True)
REQUIRED_COLUMNS = ("phone", "source", "disclosure")
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Default: $TEXTCART_DATA_DIR or ./var."),
]


def read_opt_ins(path: Path) -> tuple[list[tuple[int, consent_rules.OptIn]], list[str]]:
    """The file's opt-ins with their line numbers, and every problem found."""
    problems: list[str] = []
    rows: list[tuple[int, consent_rules.OptIn]] = []
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                return [], [f"{path}: missing column(s) {', '.join(missing)}"]
            now = now_utc()
            for record in reader:
                line = reader.line_num
                try:
                    rows.append((line, consent_rules.parse_opt_in(dict(record), now)))
                except ValueError as exc:
                    problems.append(f"{path}:{line}: {exc}")
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return [], [f"{path}: cannot read it as a UTF-8 CSV file ({exc})"]
    if not rows and not problems:
        problems.append(f"{path}: no rows")
    return rows, problems


def _phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except ValueError as exc:
        console.print(f"[red]error:[/] {raw!r}: {exc}")
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    """Add the `consent` and `shopper` commands to the CLI."""
    consent_app = typer.Typer(help="Shoppers' consent to texts, with proof.", no_args_is_help=True)
    app.add_typer(consent_app, name="consent")

    @consent_app.command("import")
    def consent_import(
        path: Annotated[Path, typer.Argument(dir_okay=False, help="CSV of opt-ins with proof.")],
        data: Annotated[
            Path | None, typer.Option("--data-dir", help="Default: $TEXTCART_DATA_DIR or ./var.")
        ] = None,
    ) -> None:
        """Record opt-ins (phone, source, disclosure, at, timezone); sends nothing."""
        rows, problems = read_opt_ins(path)
        if problems:
            for problem in problems:
                console.print(f"[red]error:[/] {problem}")
            console.print("nothing was imported")
            raise typer.Exit(2)
        directory = data if data is not None else data_dir()

        async def main() -> Counter[str]:
            outcomes: Counter[str] = Counter()
            async with Agent.open(directory) as agent:
                for line, opt_in in rows:
                    outcome = await consent_rules.record_opt_in(
                        agent.shoppers, opt_in, via="import", reference=f"{path.name}:{line}"
                    )
                    outcomes[outcome] += 1
            return outcomes

        outcomes = asyncio.run(main())
        print(", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items())))

    shopper_app = typer.Typer(help="One shopper's data: export or forget.", no_args_is_help=True)
    app.add_typer(shopper_app, name="shopper")

    @shopper_app.command("export")
    def shopper_export(
        phone: Annotated[str, typer.Argument(help="The shopper's phone number.")],
        as_json: Annotated[
            bool, typer.Option("--json", help="One line of JSON (else indented).")
        ] = False,
        data: DataDir = None,
    ) -> None:
        """Print everything held on a shopper: profile, consent, events, messages, thread."""
        number = _phone(phone)
        directory = data if data is not None else data_dir()

        async def main() -> dict[str, object]:
            async with Agent.open(directory) as agent:
                assert agent.graph.checkpointer is not None
                return await export_shopper(
                    agent.store,
                    agent.graph.checkpointer,  # type: ignore[arg-type]
                    shopper_id_for_phone(number),
                    number,
                    directory / "outbox.jsonl",
                )

        print(json.dumps(asyncio.run(main()), indent=2 if not as_json else None, default=str))

    @shopper_app.command("forget")
    def shopper_forget(
        phone: Annotated[str, typer.Argument(help="The shopper's phone number.")],
        data: DataDir = None,
    ) -> None:
        """Delete everything held on a shopper; an opt-out survives as a hashed entry."""
        number = _phone(phone)
        directory = data if data is not None else data_dir()

        async def main() -> dict[str, int | bool]:
            async with Agent.open(directory) as agent:
                assert agent.graph.checkpointer is not None
                return await forget_shopper(
                    agent.store,
                    agent.graph.checkpointer,  # type: ignore[arg-type]
                    shopper_id_for_phone(number),
                    number,
                    directory / "outbox.jsonl",
                )

        counts = asyncio.run(main())
        print(json.dumps({"forgotten": True, **counts}))
