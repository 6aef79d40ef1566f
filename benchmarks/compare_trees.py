"""Turn latency of two source trees side by side: alternating runs, ratios, an interval.

    .venv/bin/python benchmarks/compare_trees.py BEFORE_TREE AFTER_TREE [--pairs 8]

Each run is a fresh process with `PYTHONPATH` set to one tree, using that tree's own
`benchmarks/turn_latency.py`: the demo catalog is loaded into a new embedded Weaviate and
240 texts are answered (the Flipkart ingestion is skipped). The trees alternate, the first
of each pair swapping every pair, so a machine that speeds up or slows down during the
run weighs on both. Prints each run, then the after/before ratios of p50 and of the
process's CPU per turn, pair by pair, with their medians and a bootstrap 95% interval of
the median. A tree is a checkout of the project, e.g. `git worktree add /tmp/before REV`.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
from pathlib import Path

# Runs inside the tree's process: its own benchmark functions, its own code.
_CHILD = """
import asyncio, os, statistics, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, os.path.join(os.getcwd(), "benchmarks"))
import turn_latency as tl
from textcart.evaluation.retrieval import percentile
from textcart.graph import services as s
services = getattr(s, "default_services", None) or s.get_services

async def main():
    from textcart.demo_store.loader import catalog_path
    await tl.ingest_rate(catalog_path(), "Product")
    with tempfile.TemporaryDirectory() as d:
        cpu = time.process_time()
        latencies = await tl.turn_latencies(Path(d), TURNS, 24)
        cpu = (time.process_time() - cpu) / (TURNS + 5) * 1000
    print(f"p50 {percentile(latencies, 50):.1f} p95 {percentile(latencies, 95):.1f} cpu {cpu:.1f}")
    await (await services()).drop_catalog_connection()

tl.run_on_embedded(main())
"""
_FIGURES = re.compile(r"p50 ([\d.]+) p95 ([\d.]+) cpu ([\d.]+)")


def run(tree: Path, turns: int) -> tuple[float, float, float]:
    """(p50 ms, p95 ms, CPU ms per turn) of one run of `tree`."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD.replace("TURNS", str(turns))],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = _FIGURES.search(done.stdout)
    if found is None:
        raise RuntimeError(f"{tree}: no figures in\n{done.stdout}\n{done.stderr[-2000:]}")
    p50, p95, cpu = map(float, found.groups())
    return p50, p95, cpu


def interval(ratios: list[float], draws: int = 5000) -> tuple[float, float]:
    """Bootstrap 95% interval of the median ratio (seeded: the same runs, the same interval)."""
    rng = random.Random(1)
    medians = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(draws))
    return medians[int(0.025 * draws)], medians[int(0.975 * draws) - 1]


def main() -> None:
    """Run the pairs and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--turns", type=int, default=240)
    args = parser.parse_args()
    p50s: list[float] = []
    cpus: list[float] = []
    for pair in range(args.pairs):
        order = [args.before, args.after] if pair % 2 == 0 else [args.after, args.before]
        figures = {}
        for tree in order:
            figures[tree] = run(tree.resolve(), args.turns)
            p50, p95, cpu = figures[tree]
            print(f"pair {pair + 1} {tree}: p50 {p50} ms, p95 {p95} ms, CPU {cpu} ms per turn")
        p50s.append(figures[args.after][0] / figures[args.before][0])
        cpus.append(figures[args.after][2] / figures[args.before][2])
    for name, ratios in (("p50", p50s), ("CPU per turn", cpus)):
        low, high = interval(ratios)
        print(
            f"{name} after/before: {', '.join(f'{r:.2f}' for r in ratios)}; median "
            f"{statistics.median(ratios):.3f} (bootstrap 95% interval {low:.3f}-{high:.3f})"
        )


if __name__ == "__main__":
    main()
