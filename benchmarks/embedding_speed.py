"""How fast the local MiniLM embedder loads and embeds, on this machine's CPU.

Measures, for `textcart.tools.embeddings.MiniLMEmbedder` at batch size 32:
- load time with the ONNX graph already cached (the first-ever load also builds the graph,
  and that one-off build time is printed separately when it happens);
- throughput on short product titles (titles/s);
- throughput on ~300-character product descriptions (descriptions/s).

Texts come from `../shared/data/relevance/crowdflower/products.csv` when that file is
present (real titles, descriptions cut to 300 characters); otherwise from generated shop
texts of the same sizes, which the output says.

Each throughput is the median of several rounds, because CPU speed on shared virtual
machines wanders by ±20 % from one second to the next.

Run from the repository root, with textcart installed in the venv:

    .venv/bin/python benchmarks/embedding_speed.py [--threads 2] [--texts 640] [--rounds 5]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import statistics
import time
from pathlib import Path

from textcart.tools.embeddings import MiniLMEmbedder, default_cache_dir

PRODUCTS_CSV = (
    Path(__file__).resolve().parents[1].parent / "shared/data/relevance/crowdflower/products.csv"
)
DESCRIPTION_CHARS = 300
BATCH_SIZE = 32


def shop_texts(count: int) -> tuple[list[str], list[str], str]:
    """Return `count` titles, `count` ~300-char descriptions, and where they came from."""
    if PRODUCTS_CSV.is_file():
        with PRODUCTS_CSV.open(newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        titles = [r["title"] for r in rows[:count]]
        long_enough = (r["description"] for r in rows if len(r["description"]) >= DESCRIPTION_CHARS)
        descriptions = [d[:DESCRIPTION_CHARS] for d in itertools.islice(long_enough, count)]
        return titles, descriptions, str(PRODUCTS_CSV)
    colours = ["red", "navy blue", "black", "white", "olive green"]
    things = ["running shoes", "cotton t-shirt", "wireless earbuds", "steel water bottle"]
    titles = [
        f"{colours[i % len(colours)]} {things[i % len(things)]}, size {i % 12 + 1}"
        for i in range(count)
    ]
    descriptions = [
        (f"{t}: comfortable, durable and easy to care for. " * 10)[:DESCRIPTION_CHARS]
        for t in titles
    ]
    return titles, descriptions, "generated texts (products.csv not present)"


def rate(embedder: MiniLMEmbedder, texts: list[str], rounds: int) -> float:
    """Median texts per second over `rounds` embed calls on all texts, after a warm-up batch."""
    embedder.embed(texts[:BATCH_SIZE], batch_size=BATCH_SIZE)
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        embedder.embed(texts, batch_size=BATCH_SIZE)
        rates.append(len(texts) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    """Print load time, titles/s and descriptions/s."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime intra-op threads")
    parser.add_argument("--texts", type=int, default=640, help="texts per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds per measurement")
    args = parser.parse_args()

    if not any(default_cache_dir().glob("all-MiniLM-L6-v2-*.onnx")):
        start = time.perf_counter()
        MiniLMEmbedder.load(threads=args.threads)
        print(f"first load (builds the ONNX graph): {time.perf_counter() - start:.2f} s")
    load_times = []
    for _ in range(3):
        start = time.perf_counter()
        embedder = MiniLMEmbedder.load(threads=args.threads)
        load_times.append(time.perf_counter() - start)
    load_s = statistics.median(load_times)

    titles, descriptions, source = shop_texts(args.texts)
    print(f"texts: {source}")
    print(f"threads: {args.threads}, batch size: {BATCH_SIZE}, median of {args.rounds} rounds")
    print(f"load (graph cached):      {load_s:.2f} s")
    print(f"titles/s ({len(titles)} titles):   {rate(embedder, titles, args.rounds):.0f}")
    print(
        f"descriptions/s ({len(descriptions)}, {DESCRIPTION_CHARS} chars): "
        f"{rate(embedder, descriptions, args.rounds):.0f}"
    )


if __name__ == "__main__":
    main()
