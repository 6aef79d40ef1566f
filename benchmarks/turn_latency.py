"""Turn latency and catalog ingestion rate on the embedded defaults.

Everything real and in process: classic deciders, SQLite checkpointer and store, an
embedded Weaviate server started for this run (in a temporary directory, stopped at the
end), MiniLM embeddings on onnxruntime.

    .venv/bin/python benchmarks/turn_latency.py [--turns 240] [--shoppers 24]

Prints catalog ingestion in products/s (embedding included) for the demo catalog and, when
`../shared/data` is present, for the 1,002 Flipkart products with their long descriptions;
then turn latency p50/p95 over the demo conversations' texts, spread over many shoppers.
Targets on a 2-core machine: p50 <= 50 ms, p95 <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

from textcart.evaluation.retrieval import percentile

SHARED_FLIPKART = (
    Path(__file__).resolve().parents[1].parent / "shared/data/catalog/flipkart_products.csv"
)


async def ingest_rate(path: Path, collection: str) -> tuple[int, float]:
    """Load a product file into a fresh collection; returns (products, products per second)."""
    from textcart.graph.services import default_services
    from textcart.tools.catalog_files import read_products

    services = await default_services()
    catalog = await services.catalog(collection)
    await catalog.delete_all()
    products = list(read_products(path))
    start = time.perf_counter()
    written = await catalog.ingest(products, services.embedder)
    return written, written / (time.perf_counter() - start)


async def turn_latencies(directory: Path, turns: int, shoppers: int) -> list[float]:
    """Run `turns` inbound texts from the demo scripts over `shoppers` seeded shoppers."""
    from textcart.agent import Agent
    from textcart.demo_store.loader import load_conversations, load_shoppers
    from textcart.graph.context import Context

    demo_shoppers = list(load_shoppers().values())
    texts = [t.text for c in load_conversations() for t in c.turns if t.text]
    async with Agent.open(directory, Context(model=None)) as agent:
        phones = []
        for i in range(shoppers):
            template = demo_shoppers[i % len(demo_shoppers)]
            phone = f"+1415555{1000 + i:04d}"
            await agent.seed_shopper(
                phone,
                first_name=template.first_name,
                timezone=template.timezone,
                preferences=template.preferences.model_dump(exclude_none=True),
                events=[e.model_dump() for e in template.events],
            )
            phones.append(phone)
        for i in range(5):  # warm-up: first-use costs (model load, connections) excluded
            await agent.receive(phones[i % shoppers], texts[i % len(texts)])
        latencies = []
        for i in range(turns):
            start = time.perf_counter()
            await agent.receive(phones[i % shoppers], texts[i % len(texts)])
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


async def main(turns: int, shoppers: int) -> None:
    """Run both measurements and print them."""
    from textcart.demo_store.loader import catalog_path
    from textcart.graph.services import default_services

    print(f"cores: {os.cpu_count()}")
    count, rate = await ingest_rate(catalog_path(), "Product")
    print(f"ingest demo catalog: {count} products, {rate:.0f} products/s (embedding included)")
    if SHARED_FLIPKART.exists():
        count, rate = await ingest_rate(SHARED_FLIPKART, "BenchFlipkart")
        print(f"ingest Flipkart catalog: {count} products, {rate:.0f} products/s")
    else:
        print(f"skipped Flipkart ingestion: {SHARED_FLIPKART} not present")
    with tempfile.TemporaryDirectory() as sqlite_dir:
        latencies = await turn_latencies(Path(sqlite_dir), turns, shoppers)
    print(
        f"turn latency over {len(latencies)} turns ({shoppers} shoppers, classic deciders, "
        f"SQLite, embedded Weaviate): p50 {percentile(latencies, 50):.1f} ms, "
        f"p95 {percentile(latencies, 95):.1f} ms, mean {statistics.fmean(latencies):.1f} ms, "
        f"max {max(latencies):.1f} ms"
    )
    await (await default_services()).drop_catalog_connection()


def run_on_embedded(job: Coroutine[Any, Any, None]) -> None:
    """Run a benchmark on an embedded Weaviate in a temporary data dir, stopped at the end."""
    with tempfile.TemporaryDirectory() as data:
        os.environ["TEXTCART_DATA_DIR"] = data
        os.environ.pop("WEAVIATE_URL", None)
        from textcart.tools.weaviate_server import stop_embedded

        try:
            asyncio.run(job)
        finally:
            stop_embedded(Path(data) / "weaviate")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=240)
    parser.add_argument("--shoppers", type=int, default=24)
    args = parser.parse_args()
    run_on_embedded(main(args.turns, args.shoppers))
