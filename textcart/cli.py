"""The `textcart` command line: run the demo, chat as a shopper, load a catalog."""

from __future__ import annotations

import asyncio
import json
import logging
import statistics
import tempfile
from collections.abc import Coroutine
from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from textcart import handoff_cli, settings, shopper_cli, store_cli
from textcart.agent import Agent, InvalidInput
from textcart.catalog_cli import load_catalog, load_store_catalog, print_summary
from textcart.conversations import (
    TurnRecord,
    conversation_clock,
    play,
    record_turn,
    seed_demo_shoppers,
)
from textcart.demo_store.loader import catalog_files, load_conversations, load_shoppers
from textcart.evaluation import (
    answers_cli,
    attribution_cli,
    buy_likelihood_cli,
    fit_cli,
    intents_cli,
    retrieval_cli,
)
from textcart.evaluation import report as comparison_report
from textcart.graph.context import Context
from textcart.graph.services import close_default_services, default_services
from textcart.model_check import check_models
from textcart.paths import data_dir, store_dir
from textcart.prompts.loader import PromptFileError
from textcart.simulation import cli as simulation_cli
from textcart.storefolder.settings import StoreFolderError
from textcart.tools.llm import llm_timeout_s
from textcart.vocabulary.money import format_money

app = typer.Typer(
    help="textcart: an SMS commerce agent built as a LangGraph state machine.",
    no_args_is_help=True,
    add_completion=False,
)
catalog_app = typer.Typer(help="Manage the product catalog in Weaviate.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
eval_app = typer.Typer(
    help="Measure deciders and retrieval on labelled data.", no_args_is_help=True
)
intents_cli.register(eval_app)
retrieval_cli.register(eval_app)
buy_likelihood_cli.register(eval_app)
answers_cli.register(eval_app)
comparison_report.register(app)
attribution_cli.register(app)
app.add_typer(eval_app, name="eval")
simulation_cli.register(app)
fit_cli.register(app)
shopper_cli.register(app)
handoff_cli.register(app)
store_cli.register(app)
console = Console()
T = TypeVar("T")

ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="'provider:model', 'local' for the bundled llama.cpp model, or omit for "
        "classic deciders. Default: $TEXTCART_MODEL.",
    ),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Run data: threads, shopper stores, the embedded Weaviate and model server. "
        "Default: $TEXTCART_DATA_DIR or ./var.",
    ),
]


def _run(coro: Coroutine[Any, Any, T]) -> T:
    async def main() -> T:
        try:
            return await coro
        finally:
            await close_default_services()

    return asyncio.run(main())


def _data_dir(data: Path | None) -> Path:
    """Use `data` for everything this process keeps (the servers' state included)."""
    if data is not None:
        settings.configure(data_dir=data)
    return data_dir()


def _context(model: str | None) -> Context:
    # The demo and scripted runs show what texting does: nobody is held out.
    context = replace(Context(), holdout_share=0.0)
    if model:
        context = replace(context, model=model)
    return replace(context, llm_timeout_s=llm_timeout_s(context.model))


EMPTY_CATALOG_WARNING = (
    "the catalog is empty: product questions will be answered with 'can't look that up'. "
    "Load one with `textcart catalog load FILE`."
)


async def _warn_if_empty_catalog(context: Context) -> None:
    """Say at start, not turn by turn, that there are no products to answer from."""
    try:
        catalog = await (await default_services()).catalog(context.catalog_collection)
        empty = await catalog.count() == 0
    except Exception as exc:  # noqa: BLE001 - the turn reports the catalog being unavailable
        console.print(f"[yellow]warning:[/] the catalog is unavailable ({type(exc).__name__})")
        return
    if empty:
        console.print(f"[yellow]warning:[/] {EMPTY_CATALOG_WARNING}")


def _whole_price(product: dict[str, Any]) -> str:
    return format_money(round(product["price"]), product.get("currency", "USD"))


def _print_turn(record: TurnRecord) -> None:
    said = escape(record.said) if record.said is not None else f"(proactive: {record.trigger})"
    console.print(f"\n[bold cyan]{record.shopper}>[/] {said}")
    table = Table(show_header=False, box=None, padding=(0, 1))
    table.add_column(style="dim")
    table.add_column()
    if record.intent is not None:
        table.add_row("intent", f"{record.intent}  [dim]({record.deciders.get('intent')})[/]")
    if record.buy_likelihood is not None:
        table.add_row(
            "buy-likelihood",
            f"{record.buy_likelihood:.2f}  [dim]({record.deciders.get('buy_likelihood')})[/]",
        )
    if record.tone is not None:
        table.add_row("tone", f"{record.tone}  [dim]({record.deciders.get('tone')})[/]")
    if record.products:
        table.add_row(
            "products",
            "; ".join(f"{p['title']} {_whole_price(p)}" for p in record.products),
        )
    if record.fit_reason:
        table.add_row("fit", escape(record.fit_reason))
    if record.next_message:
        table.add_row(
            "next message",
            f"{record.next_message}  [dim]({record.deciders.get('next_message', 'gate')})[/]",
        )
    if record.gate and not record.gate.startswith("continue"):
        table.add_row("gate", record.gate)
    for note in record.notes:
        table.add_row("note", f"[dim]{escape(note)}[/]")
    table.add_row("latency", f"{record.latency_ms:.0f} ms")
    console.print(table)
    if record.reply:
        console.print(f"[bold green]store>[/] {escape(record.reply)}")
    else:
        console.print("[bold yellow]store>[/] (no message sent)")
    for failure in record.failed_expectations:
        console.print(f"[red]  expectation not met: {failure}[/]")


@app.command()
def demo(model: ModelOption = None, data: DataDirOption = None) -> None:
    """Load the store (the demo's by default) and play its scripted conversations."""
    directory, context = _data_dir(data), _context(model)

    folder = store_dir()
    if not (folder / "conversations").is_dir():
        console.print(f"[red]error:[/] {folder} has no conversations/ folder to play")
        raise typer.Exit(2)

    async def main() -> list[TurnRecord]:
        await check_models(context, console)
        summary = await load_store_catalog(context.catalog_collection, console)
        loaded = summary.loaded + summary.updated
        console.print(f"{context.store_name}: {loaded} products in Weaviate")
        # Each run starts the demo shoppers afresh (their own threads and store, deleted
        # afterwards), so what it shows never depends on earlier runs.
        with tempfile.TemporaryDirectory(prefix="demo-", dir=directory) as fresh:
            return await play_demo(Path(fresh))

    async def play_demo(fresh: Path) -> list[TurnRecord]:
        records: list[TurnRecord] = []
        async with Agent.open(fresh, context) as agent:
            await seed_demo_shoppers(agent, load_shoppers(folder), pinned=True)
            for conversation in load_conversations(folder):
                console.rule(f"[bold]{conversation.name}[/] — {conversation.description}")
                turns = await play(agent, conversation, clock=conversation_clock(conversation))
                for record in turns:
                    _print_turn(record)
                records += turns
        return records

    records = _run(main())
    latencies = sorted(r.latency_ms for r in records)
    missed = sum(len(r.failed_expectations) for r in records)
    console.rule("summary")
    console.print(
        f"{len(records)} turns; expectations not met: {missed}; "
        f"turn latency p50 {statistics.median(latencies):.0f} ms, "
        f"max {latencies[-1]:.0f} ms"
    )


@app.command()
def chat(
    phone: Annotated[str, typer.Option(help="The shopper's phone number.")] = "+14155550100",
    model: ModelOption = None,
    data: DataDirOption = None,
) -> None:
    """Text the agent as a shopper (one line per text; Ctrl-D to end)."""
    directory, context = _data_dir(data), _context(model)

    async def main() -> None:
        await _warn_if_empty_catalog(context)
        await check_models(context, console)
        async with Agent.open(directory, context) as agent:
            while True:
                try:
                    text = await asyncio.to_thread(input, "you> ")
                except EOFError:
                    return
                try:
                    state = await agent.receive(phone, text)
                except InvalidInput as exc:
                    console.print(f"[red]{exc}[/]")
                    continue
                _print_turn(record_turn("you", text, None, state, 0.0))

    _run(main())


@app.command()
def send(
    phone: Annotated[str, typer.Argument(help="The shopper's phone number.")],
    text: Annotated[str, typer.Argument(help="What the shopper texted.")],
    message_id: Annotated[
        str | None, typer.Option(help="Inbound message id (idempotency).")
    ] = None,
    model: ModelOption = None,
    data: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the turn as JSON.")] = False,
) -> None:
    """Run one inbound text through the graph and print the outcome."""
    directory, context = _data_dir(data), _context(model)

    async def main() -> TurnRecord:
        await _warn_if_empty_catalog(context)
        # No start-up model check here: this is one turn, and its state says which decider
        # answered and why a model fell back (a check would add a model round trip). The
        # models are started, though, so the turn's time budget is not spent starting them.
        await (await default_services()).start(context)
        async with Agent.open(directory, context) as agent:
            state = await agent.receive(phone, text, message_id)
            return record_turn("shopper", text, None, state, 0.0)

    try:
        record = _run(main())
    except InvalidInput as exc:
        console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        print(json.dumps(asdict(record)))
    else:
        _print_turn(record)


@catalog_app.command("load")
def catalog_load(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="Products as JSONL or CSV (Shopify and Flipkart exports too). Default: "
            "the store folder's catalog files.",
        ),
    ] = None,
    collection: Annotated[str, typer.Option(help="Weaviate collection.")] = "Product",
    sync: Annotated[
        bool | None,
        typer.Option(
            help="Remove products no file has any more. Default: on when loading the store "
            "folder's catalog, off for files named here."
        ),
    ] = None,
) -> None:
    """Load (or re-load: ids are stable) product files into Weaviate, then summarise."""
    files = list(paths or catalog_files(store_dir()))
    do_sync = (not paths) if sync is None else sync
    summary = _run(load_catalog(files, collection, console, sync=do_sync))
    print_summary(summary, collection, console)


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="Port to listen on; fails if taken.")] = 2024,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    catalog: Annotated[
        Path | None,
        typer.Option(help="Product file to load first (default: the store folder's catalog)."),
    ] = None,
    demo_shoppers: Annotated[
        bool, typer.Option(help="Seed the demo store's shoppers, orders and histories.")
    ] = True,
    jobs: Annotated[int, typer.Option(help="Runs the server executes at once.")] = 8,
    log_file: Annotated[Path | None, typer.Option(help="Write the server's log here.")] = None,
    data: DataDirOption = None,
    production: Annotated[
        bool,
        typer.Option(help="Serve on Aegra with PostgreSQL and Redis instead of `langgraph dev`."),
    ] = False,
    instances: Annotated[
        int, typer.Option(help="Server processes with --production (one port).")
    ] = 2,
    services_ports: Annotated[
        str, typer.Option(help="PostgreSQL,Redis ports with --production (started if needed).")
    ] = "54330,56380",
) -> None:
    """Serve the graph through the LangGraph server API (Studio, SDK, SMS webhook, events)."""
    from textcart.server.security import door_warnings, insecure_dev
    from textcart.server.serve import PortTaken, ensure_port_free, run_server

    for warning in door_warnings():
        console.print(f"[{'bold red' if insecure_dev() else 'yellow'}]warning:[/] {warning}")
    directory = _data_dir(data).resolve()
    settings.configure(data_dir=directory)
    try:
        ensure_port_free(host, port)
    except PortTaken as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    engine_env: dict[str, str] | None = None
    if production:
        from textcart.server import production_serve

        pg_port, redis_port = (int(p) for p in services_ports.split(","))
        database, redis = production_serve.start_services(directory, pg_port, redis_port)
        settings.configure(database_url=database)  # demo shoppers go there too
        engine_env = production_serve.engine_env(directory, host, port, database, redis)
        console.print(f"PostgreSQL {database}; Redis {redis}; {instances} instances")

    async def prepare() -> int:
        collection = Context().catalog_collection
        files = [catalog] if catalog is not None else catalog_files(store_dir())
        summary = await load_catalog(files, collection, console)
        loaded = summary.loaded + summary.updated
        await check_models(Context(), console)
        if demo_shoppers and (store_dir() / "shoppers.yaml").is_file():
            async with Agent.open(directory) as agent:
                await seed_demo_shoppers(agent, load_shoppers(store_dir()))
        return loaded

    loaded = _run(prepare())
    console.print(f"catalog: {loaded} products in Weaviate; data in {directory}")
    if loaded == 0:
        console.print(f"[yellow]warning:[/] {EMPTY_CATALOG_WARNING}")
    if engine_env is not None:
        from textcart.server.production_serve import run_production

        raise typer.Exit(run_production(directory, host, port, instances, engine_env, log_file))
    raise typer.Exit(run_server(directory, host, port, jobs, log_file))


@app.command()
def stop(data: DataDirOption = None) -> None:
    """Stop the embedded Weaviate, local model, PostgreSQL and Redis started for this data dir."""
    from textcart.server.production_serve import stop_services
    from textcart.tools.local_llm import stop_local_server
    from textcart.tools.weaviate_server import stop_embedded

    directory = _data_dir(data)
    stopped = [
        name
        for name, was_running in (
            ("Weaviate", stop_embedded(directory / "weaviate")),
            ("local model", stop_local_server(directory / "llm")),
            ("PostgreSQL and Redis", stop_services(directory.resolve())),
        )
        if was_running
    ]
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="The store folder (store.yaml, knowledge/, prompts/). Default: "
            "$TEXTCART_STORE_DIR, else the demo store.",
        ),
    ] = None,
) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if store is not None:
        settings.configure(store_dir=store.resolve())
    if settings.current().store_dir is not None:
        try:
            store_cli.check_store_folder()
        except (StoreFolderError, PromptFileError) as exc:
            console.print(f"[red]error in the store folder:[/] {exc}")
            raise typer.Exit(2) from None


if __name__ == "__main__":
    app()
