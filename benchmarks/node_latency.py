"""Where a turn's time goes: each node's latency over the turns of `turn_latency.py`.

Wraps every node of the graph with a timer, then runs the same demo texts over seeded
shoppers as `benchmarks/turn_latency.py` (classic deciders, SQLite, an embedded Weaviate in
a temporary directory, stopped at the end).

    .venv/bin/python benchmarks/node_latency.py [--turns 120] [--shoppers 12]

Prints the turn p50, then each node's p50 and mean in ms, slowest first. The three
classifiers run in parallel, so their times overlap.
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import turn_latency  # noqa: E402

from textcart.graph import nodes  # noqa: E402
from textcart.graph.builder import build_graph  # noqa: E402
from textcart.graph.services import default_services  # noqa: E402

TIMES: dict[str, list[float]] = defaultdict(list)


def _timed(name: str, node: Any) -> Any:
    # `wraps` keeps the node's signature: the builder supplies what it asks for (services).
    @functools.wraps(node)
    async def run(state: Any, **injected: Any) -> Any:
        started = time.perf_counter()
        try:
            return await node(state, **injected)
        finally:
            TIMES[name].append((time.perf_counter() - started) * 1000)

    return run


async def main(turns: int, shoppers: int) -> None:
    """Time every node over `turns` turns."""
    for name in build_graph(default_services).nodes:
        if hasattr(nodes, name):
            setattr(nodes, name, _timed(name, getattr(nodes, name)))
    from textcart.demo_store.loader import catalog_path

    await turn_latency.ingest_rate(catalog_path(), "Product")
    with tempfile.TemporaryDirectory() as folder:
        latencies = await turn_latency.turn_latencies(Path(folder), turns, shoppers)
    await (await default_services()).drop_catalog_connection()
    print(f"turn p50 {statistics.median(latencies):.1f} ms over {len(latencies)} turns")
    for name, values in sorted(TIMES.items(), key=lambda kv: -statistics.median(kv[1])):
        print(
            f"{name:22s} n={len(values):4d} p50 {statistics.median(values):6.1f} ms"
            f"  mean {statistics.mean(values):6.1f} ms"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=120)
    parser.add_argument("--shoppers", type=int, default=12)
    args = parser.parse_args()
    turn_latency.run_on_embedded(main(args.turns, args.shoppers))
