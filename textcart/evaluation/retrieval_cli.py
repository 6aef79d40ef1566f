"""`textcart eval retrieval`: nDCG@10, recall@50 and latency of catalog search on judged queries."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from textcart.evaluation.retrieval import (
    BM25,
    DENSE,
    HYBRID,
    MODES,
    EvalDataError,
    ModeScores,
    collection_for,
    evaluate,
    prepare_catalog,
    read_products,
    read_qrels,
    read_queries,
)
from textcart.graph.services import default_services
from textcart.progress import progress_bar

# Progress and notes go to stderr so that `--json` leaves exactly one JSON object on stdout.
_console = Console(stderr=True)
_out = Console()


async def _run(
    products_path: Path,
    queries_path: Path,
    qrels_path: Path,
    collection: str,
    limit_queries: int | None,
) -> tuple[dict[str, ModeScores], bool]:
    products = read_products(products_path)
    queries = read_queries(queries_path)
    qrels = read_qrels(qrels_path)
    judged = [qid for qid in queries if qrels.get(qid)]
    if limit_queries is not None:
        judged = judged[:limit_queries]
    if not judged:
        raise EvalDataError(f"no query in {queries_path} has judgments in {qrels_path}")
    services = await default_services()
    try:
        catalog = await services.catalog(collection)
        with progress_bar(_console) as bar:
            loading = bar.add_task(f"loading {collection}", total=len(products))
            loaded = await prepare_catalog(
                catalog, products, services.embedder, lambda n: bar.advance(loading, n)
            )
            bar.remove_task(loading)
            searching = bar.add_task("searching", total=len(judged))
            scores = await evaluate(
                catalog,
                services.embedder,
                {qid: queries[qid] for qid in judged},
                qrels,
                MODES,
                on_query=lambda: bar.advance(searching),
            )
    finally:
        await services.drop_catalog_connection()
    return scores, loaded


def _report(scores: dict[str, ModeScores]) -> dict[str, Any]:
    report: dict[str, Any] = dict(scores[HYBRID.name].summary())
    report["baselines"] = {mode.name: scores[mode.name].summary() for mode in (BM25, DENSE)}
    return report


def _table(scores: dict[str, ModeScores]) -> Table:
    table = Table(title="catalog retrieval")
    table.add_column("search")
    for heading in ("nDCG@10", "recall@50", "queries", "p50 ms", "p95 ms"):
        table.add_column(heading, justify="right")
    labels = {HYBRID.name: "hybrid (alpha 0.5)", BM25.name: "BM25 only", DENSE.name: "dense only"}
    for mode in MODES:
        s = scores[mode.name].summary()
        table.add_row(
            labels[mode.name],
            f"{s['ndcg@10']:.3f}",
            f"{s['recall@50']:.3f}",
            str(s["n_queries"]),
            f"{s['latency_ms_p50']:.1f}",
            f"{s['latency_ms_p95']:.1f}",
        )
    return table


def retrieval(
    products: Annotated[
        Path,
        typer.Option(
            exists=True, dir_okay=False, help="Products CSV: product_id,title,description."
        ),
    ],
    queries: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Queries CSV: query_id,query.")
    ],
    qrels: Annotated[
        Path,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Judgments CSV: query_id,product_id,relevance (1 = irrelevant … 4 = perfect).",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    collection: Annotated[
        str | None,
        typer.Option(help="Weaviate collection. Default: Eval_<hash of the products file>."),
    ] = None,
    limit_queries: Annotated[
        int | None, typer.Option(min=1, help="Evaluate only the first N judged queries.")
    ] = None,
) -> None:
    """Score catalog search on judged queries: hybrid, BM25 only and dense only.

    nDCG@10 uses gain = relevance − 1 with unjudged products at 0; recall@50 counts
    products judged relevance >= 3 as relevant. Products are loaded once per file content.
    """
    name = collection or collection_for(products)
    try:
        scores, loaded = asyncio.run(_run(products, queries, qrels, name, limit_queries))
    except EvalDataError as exc:
        _console.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc
    _console.print(f"collection {name}: {'loaded now' if loaded else 'reused (already loaded)'}")
    if as_json:
        print(json.dumps(_report(scores)))
    else:
        _out.print(_table(scores))


def register(app: typer.Typer) -> None:
    """Add the `retrieval` command to `app` (mounted as `textcart eval retrieval`)."""
    app.command("retrieval")(retrieval)
