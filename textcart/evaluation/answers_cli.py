"""`textcart eval answers`: does each reply answer the question, with nothing unbacked?"""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from textcart.demo_store.loader import catalog_path, demo_dir
from textcart.evaluation.answers import (
    CaseError,
    CaseResult,
    read_cases,
    read_catalog_rows,
    run_cases,
    spread,
    summarise,
)
from textcart.evaluation.cli_output import console, fail, out
from textcart.graph.context import Context
from textcart.graph.services import default_services
from textcart.paths import data_dir
from textcart.progress import progress_bar
from textcart.tools.catalog_files import read_products
from textcart.tools.llm import llm_timeout_s

DEFAULT_CASES = demo_dir() / "answer_cases"


async def _run(cases_path: Path, model: str | None, limit: int | None) -> dict[str, Any]:
    cases = spread(read_cases(cases_path), limit)
    context = replace(Context(), model=model)
    if model:
        context = replace(context, llm_timeout_s=llm_timeout_s(model, None))
    services = await default_services()
    try:
        catalog = await services.catalog(context.catalog_collection)
        await catalog.ensure_collection()
        if await catalog.count() == 0:
            console.print("catalog is empty: loading the demo catalog")
            await catalog.ingest(list(read_products(catalog_path())), services.embedder)
        rows = read_catalog_rows(catalog_path())
        results: list[CaseResult] = []
        workdir = data_dir() / "eval-answers"
        workdir.mkdir(parents=True, exist_ok=True)
        with progress_bar(console) as bar:
            task = bar.add_task("answering", total=len(cases))
            results = await run_cases(
                cases,
                context,
                workdir,
                rows,
                services.knowledge,
                services.orders,
                on_case=lambda _: bar.advance(task),
            )
    finally:
        await services.drop_catalog_connection()
    return summarise(results)


def _table(report: dict[str, Any]) -> Table:
    table = Table(title=f"answers: {report['n']} cases")
    for heading in ("kind", "n", "answered", "grounded"):
        table.add_column(heading, justify="right" if heading != "kind" else "left")
    for kind, row in report["by_kind"].items():
        table.add_row(kind, str(row["n"]), f"{row['answered']:.2f}", f"{row['grounded']:.2f}")
    table.add_row(
        "[bold]all[/]", str(report["n"]), f"{report['answered']:.3f}", f"{report['grounded']:.3f}"
    )
    return table


def answers(
    cases: Annotated[
        Path,
        typer.Option(exists=True, help="A YAML file of cases, or a folder of them."),
    ] = DEFAULT_CASES,
    model: Annotated[
        str | None,
        typer.Option(help="Chat model for every LLM decision ('local', 'openai:gpt-4o-mini')."),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(min=1, help="Run only N cases, spread evenly over the list (every kind)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run question cases through the real graph: answered, grounded, per kind, latency.

    Without --model every decision is classic (the prompt-fit deciders and templates);
    with it the LLM deciders and the LLM wording run, with the classic ones as fallback.
    Each case starts on a fresh shopper store at the pinned demo clock.
    """
    try:
        report = asyncio.run(_run(cases, model, limit))
    except CaseError as exc:
        raise fail(str(exc)) from exc
    for failure in report["failures"][:20]:
        console.print(
            f"[yellow]{escape(failure['id'])}[/]: {escape(failure['text'])}\n"
            f"  reply: {escape(str(failure['reply']))}\n"
            f"  {escape('; '.join(failure['failed'] + failure['unbacked']))}",
            soft_wrap=True,
            highlight=False,
        )
    if as_json:
        print(json.dumps(report))
    else:
        out.print(_table(report))
        out.print(f"latency p50 {report['latency_ms_p50']} ms, p95 {report['latency_ms_p95']} ms")


def register(app: typer.Typer) -> None:
    """Add the `answers` command to `app` (mounted as `textcart eval answers`)."""
    app.command("answers")(answers)
