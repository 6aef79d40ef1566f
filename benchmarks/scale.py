"""Catalog ingestion and search latency at 1k, 10k and 50k products on one machine.

For each size, a catalog made by `scripts/make_scale_catalog.py` (seeded, from the real
Flipkart and CrowdFlower products in `../shared/data`; written under `var/scale/` once and
reused) is loaded into a fresh Weaviate: the project's own embedded server, started for
that size alone in a temporary directory and stopped afterwards, so its memory is that
catalog's. Measured per size:

* ingest rate: `Catalog.ingest` over the whole catalog, MiniLM embedding included
  (products/s);
* embedding only: the same embedder over the embedding texts of (up to) 2,000 of the
  products, nothing written (products/s);
* writing only: those products with their precomputed vectors written to a scratch
  collection (products/s). Ingest close to the embedding rate and far below the writing
  rate means ingestion is bound by embedding, not by Weaviate;
* query p50/p95: hybrid search (BM25 + vectors, rank fusion, limit 10) with the filters
  the agent uses (in stock, and for some queries a budget and a size), over `--queries`
  queries (CrowdFlower's dev queries and words from product titles), after 20 warm-up
  queries. Query vectors are computed beforehand, so this is Weaviate's time as seen by
  the async client; embedding a query adds 3-10 ms on these cores (cached when repeated);
* Weaviate RSS: VmRSS (and the peak, VmHWM) of the weaviate-server process, read from
  /proc/<pid>/status after the queries.

    .venv/bin/python benchmarks/scale.py                          # 1k, 10k, 50k (~15 min)
    .venv/bin/python benchmarks/scale.py --sizes 1000,10000       # quicker
    .venv/bin/python benchmarks/scale.py --json                   # one JSON row per size too

Target on a 2-core machine: query p95 <= 30 ms at 50k products.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import random
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import weaviate  # noqa: E402
from make_scale_catalog import DEFAULT_OUT, SEED, ensure_catalog  # noqa: E402

from textcart.evaluation.retrieval import percentile  # noqa: E402
from textcart.tools.catalog import Catalog, Product, SearchFilters  # noqa: E402
from textcart.tools.catalog_files import read_products  # noqa: E402
from textcart.tools.embeddings import Embedder, aembed, get_embedder  # noqa: E402
from textcart.tools.weaviate_server import EmbeddedWeaviate  # noqa: E402

DEV_QUERIES = ROOT.parent / "shared" / "data" / "relevance" / "crowdflower" / "queries_dev.csv"
SAMPLE = 2000
WARM_UP = 20


@dataclass
class Row:
    """The figures for one catalog size."""

    products: int
    ingest_per_s: float
    embed_only_per_s: float
    write_only_per_s: float
    query_p50_ms: float
    query_p95_ms: float
    queries: int
    rss_mb: float
    peak_rss_mb: float


def memory_mb(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MB, from /proc/<pid>/status."""
    fields: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024  # kB -> MB
    return fields["VmRSS"], fields["VmHWM"]


def query_specs(products: list[Product], count: int, seed: int) -> list[tuple[str, SearchFilters]]:
    """Seeded search requests: shopper-like words with in-stock, budget and size filters."""
    rng = random.Random(seed)
    words: list[str] = []
    if DEV_QUERIES.exists():
        with DEV_QUERIES.open(newline="", encoding="utf-8") as f:
            words += [row["query"] for row in csv.DictReader(f)]
    while len(words) < count:
        title = rng.choice(products).title.split()
        start = rng.randrange(max(len(title) - 2, 1))
        words.append(" ".join(title[start : start + rng.randint(1, 3)]))
    rng.shuffle(words)
    prices = sorted(p.price for p in products)
    sizes = sorted({s for p in products for s in p.sizes_in_stock})
    specs = []
    for text in words[:count]:
        filters = SearchFilters(in_stock_only=True)
        if rng.random() < 0.5:
            filters.max_price = prices[int(rng.uniform(0.3, 0.9) * (len(prices) - 1))]
        if sizes and rng.random() < 0.2:
            filters.size = rng.choice(sizes)
        specs.append((text, filters))
    return specs


async def measure(size: int, seed: int, queries: int, out: Path, embedder: Embedder) -> Row:
    """Load one catalog size into its own fresh Weaviate and measure it."""
    path = ensure_catalog(size, seed, out)
    products = list(read_products(path))
    specs = query_specs(products, queries, seed)
    query_vectors = await aembed(embedder, [text for text, _ in specs])
    with tempfile.TemporaryDirectory(prefix=f"scale-{size}-") as data:
        server = EmbeddedWeaviate(Path(data) / "weaviate").start()
        client = weaviate.use_async_with_local(
            host="127.0.0.1", port=server.http_port, grpc_port=server.grpc_port
        )
        try:
            await client.connect()
            catalog = Catalog(client, "ScaleProduct")
            start = time.perf_counter()
            written = await catalog.ingest(products, embedder)
            ingest_rate = written / (time.perf_counter() - start)

            sample = products[:SAMPLE]
            start = time.perf_counter()
            vectors = await aembed(embedder, [p.embedding_text() for p in sample])
            embed_rate = len(sample) / (time.perf_counter() - start)
            scratch = Catalog(client, "ScaleWriteOnly")
            start = time.perf_counter()
            await scratch.write_embedded(sample, vectors)
            write_rate = len(sample) / (time.perf_counter() - start)
            await client.collections.delete("ScaleWriteOnly")

            latencies = []
            for i, ((text, filters), vector) in enumerate(
                zip(specs, np.asarray(query_vectors), strict=True)
            ):
                began = time.perf_counter()
                await catalog.search(text, vector, filters, limit=10)
                if i >= WARM_UP:
                    latencies.append((time.perf_counter() - began) * 1000)
            rss, peak = memory_mb(server.pid)
        finally:
            await client.close()
            server.stop()
    return Row(
        products=written,
        ingest_per_s=round(ingest_rate, 1),
        embed_only_per_s=round(embed_rate, 1),
        write_only_per_s=round(write_rate, 1),
        query_p50_ms=round(percentile(latencies, 50), 2),
        query_p95_ms=round(percentile(latencies, 95), 2),
        queries=len(latencies),
        rss_mb=round(rss, 1),
        peak_rss_mb=round(peak, 1),
    )


def table(rows: list[Row]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| products | ingest /s (with embedding) | embedding only /s | writing only /s "
        "| query p50 ms | query p95 ms | Weaviate RSS MB (peak) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.products:,} | {r.ingest_per_s:.0f} | {r.embed_only_per_s:.0f} "
        f"| {r.write_only_per_s:,.0f} | {r.query_p50_ms:.1f} | {r.query_p95_ms:.1f} "
        f"| {r.rss_mb:,.0f} ({r.peak_rss_mb:,.0f}) |"
        for r in rows
    ]
    return "\n".join(lines)


async def main(sizes: list[int], seed: int, queries: int, out: Path, as_json: bool) -> None:
    """Measure every size in turn and print the table."""
    embedder = get_embedder()
    rows = []
    for size in sizes:
        row = await measure(size, seed, queries + WARM_UP, out, embedder)
        rows.append(row)
        print(
            f"{size:,} products: ingest {row.ingest_per_s:.0f}/s, p95 {row.query_p95_ms:.1f} ms",
            flush=True,
        )
        if as_json:
            print(json.dumps(asdict(row)), flush=True)
    print(table(rows))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="comma-separated counts")
    parser.add_argument("--queries", type=int, default=300, help="timed queries per size")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where catalogs go")
    parser.add_argument("--json", action="store_true", help="also print one JSON row per size")
    args = parser.parse_args()
    asyncio.run(
        main(
            [int(s) for s in args.sizes.split(",") if s.strip()],
            args.seed,
            args.queries,
            args.out,
            args.json,
        )
    )
