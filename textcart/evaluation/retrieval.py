"""Product retrieval measured against graded relevance judgments (CrowdFlower's format).

Inputs are three CSV files: products (`product_id,title,description`, descriptions may hold
HTML), queries (`query_id,query`) and judgments (`query_id,product_id,relevance`, 1 =
irrelevant … 4 = perfect match).

Metrics, per query, averaged over queries:
- nDCG@10 with linear gain = relevance − 1 (so 0..3), a log2 rank discount, unjudged
  products gaining 0, and the ideal DCG taken from the query's own judgments. A query whose
  judgments all gain 0 cannot tell rankings apart and is left out of nDCG.
- recall@50: a product counts as relevant when it is judged relevance >= 3; the share of a
  query's relevant products found in the top 50. Queries with no relevant judged product
  are left out of recall.
- latency: wall time of one query, embedding the words (when the mode uses vectors) plus
  the Weaviate search.

Three modes come from the same run: the hybrid search the agent uses (alpha 0.5, rank
fusion), BM25 only (alpha 0) and dense vectors only (alpha 1). With rank fusion each side
contributes alpha-weighted reciprocal ranks, so alpha 0 and 1 rank purely by one side.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np

from textcart import settings
from textcart.tools.catalog import Catalog, Product, SearchFilters
from textcart.tools.embeddings import Embedder, aembed

NDCG_K = 10
RECALL_K = 50
RELEVANT_FROM = 3
SEARCH_LIMIT = 50
# Bump when the row-to-Product mapping changes, so cached collections are rebuilt.
_MAPPING_VERSION = "1"
_SPACES = re.compile(r"\s+")


class EvalDataError(ValueError):
    """An evaluation file is missing columns or holds unusable rows."""


@dataclass(frozen=True)
class Mode:
    """One way of searching: a name and the hybrid weight given to vectors."""

    name: str
    alpha: float

    @property
    def uses_vectors(self) -> bool:
        """Whether this mode needs the query embedded."""
        return self.alpha > 0


HYBRID = Mode("hybrid", 0.5)
BM25 = Mode("bm25", 0.0)
DENSE = Mode("dense", 1.0)
MODES = (HYBRID, BM25, DENSE)


# ---- metrics -------------------------------------------------------------------------------


def dcg(gains: Iterable[float]) -> float:
    """Discounted cumulative gain of gains listed in rank order (rank 1 first)."""
    return sum(g / math.log2(rank + 2) for rank, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int = NDCG_K) -> float | None:
    """nDCG@k of a ranking with gain = relevance − 1; unjudged products gain 0.

    Returns None when no judged product has positive gain: every ranking would tie.
    """
    gains = {pid: max(rel - 1, 0) for pid, rel in judgments.items()}
    ideal = dcg(sorted(gains.values(), reverse=True)[:k])
    if ideal <= 0:
        return None
    return dcg(gains.get(pid, 0) for pid in ranked[:k]) / ideal


def recall_at_k(
    ranked: Sequence[str],
    judgments: Mapping[str, int],
    k: int = RECALL_K,
    relevant_from: int = RELEVANT_FROM,
) -> float | None:
    """Share of the relevant products (relevance >= `relevant_from`) in the top k.

    Returns None when the query has no relevant judged product.
    """
    relevant = {pid for pid, rel in judgments.items() if rel >= relevant_from}
    if not relevant:
        return None
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolating linearly between the closest ranks."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is outside 0..100")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# ---- input files ---------------------------------------------------------------------------


class _TextOnly(HTMLParser):
    """Collect the visible text of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1
        else:
            # Tags separate words ("<li>a</li><li>b</li>" is "a b", not "ab").
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden = max(self._hidden - 1, 0)
        else:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def strip_html(text: str) -> str:
    """The visible text of a description that may hold HTML, whitespace collapsed."""
    parser = _TextOnly()
    parser.feed(text)
    parser.close()
    return _SPACES.sub(" ", "".join(parser.parts)).strip()


def _rows(path: Path, columns: Sequence[str]) -> Iterable[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise EvalDataError(
                f"{path} lacks column(s) {', '.join(missing)}; expected {','.join(columns)}"
            )
        yield from reader


def read_products(path: Path) -> list[Product]:
    """Products from `product_id,title,description`; rows without id or title are skipped."""
    products: dict[str, Product] = {}
    for row in _rows(path, ("product_id", "title", "description")):
        pid, title = (row["product_id"] or "").strip(), (row["title"] or "").strip()
        if not pid or not title:
            continue
        products[pid] = Product(
            id=pid,
            title=title,
            description=strip_html(row["description"] or ""),
            category="",
            price=0.0,
            in_stock=True,
        )
    return list(products.values())


def read_queries(path: Path) -> dict[str, str]:
    """Queries from `query_id,query`, in file order; blank queries are skipped."""
    return {
        row["query_id"].strip(): row["query"].strip()
        for row in _rows(path, ("query_id", "query"))
        if row["query_id"].strip() and row["query"].strip()
    }


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Judgments from `query_id,product_id,relevance` as {query_id: {product_id: relevance}}."""
    qrels: dict[str, dict[str, int]] = {}
    for line, row in enumerate(_rows(path, ("query_id", "product_id", "relevance")), start=2):
        try:
            relevance = int(float(row["relevance"]))
        except ValueError as exc:
            raise EvalDataError(
                f"{path}:{line}: relevance {row['relevance']!r} is not a number"
            ) from exc
        qrels.setdefault(row["query_id"].strip(), {})[row["product_id"].strip()] = relevance
    return qrels


def collection_for(products_path: Path) -> str:
    """A Weaviate collection name for this products file, e.g. `Eval_3f2a9c0d1b7e`.

    The hash covers the file's bytes, the embedder in use and the row mapping, so a changed
    file, embedder or mapping gets a fresh collection and an unchanged one is reused.
    """
    digest = hashlib.sha256()
    embedder_spec = settings.current().embeddings or "minilm"
    digest.update(f"{_MAPPING_VERSION}\n{embedder_spec}\n".encode())
    with products_path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"Eval_{digest.hexdigest()[:12]}"


# ---- running the evaluation ----------------------------------------------------------------


async def prepare_catalog(
    catalog: Catalog,
    products: Sequence[Product],
    embedder: Embedder,
    on_progress: Callable[[int], None] | None = None,
) -> bool:
    """Load the products unless the collection already holds them all; True if it loaded."""
    await catalog.ensure_collection()
    if await catalog.count() == len(products):
        return False
    await catalog.ingest(products, embedder, on_progress=on_progress)
    return True


@dataclass
class ModeScores:
    """Per-query figures of one search mode."""

    ndcg: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float | int]:
        """The averaged metrics under the keys the command prints."""
        return {
            "ndcg@10": sum(self.ndcg) / len(self.ndcg) if self.ndcg else 0.0,
            "recall@50": sum(self.recall) / len(self.recall) if self.recall else 0.0,
            "n_queries": len(self.ndcg),
            "latency_ms_p50": percentile(self.latency_ms, 50) if self.latency_ms else 0.0,
            "latency_ms_p95": percentile(self.latency_ms, 95) if self.latency_ms else 0.0,
        }


async def _timed_search(
    catalog: Catalog, text: str, vector: np.ndarray, mode: Mode, embed_ms: float
) -> tuple[list[str], float]:
    started = time.perf_counter()
    hits = await catalog.search(
        text, vector, SearchFilters(in_stock_only=False), limit=SEARCH_LIMIT, alpha=mode.alpha
    )
    search_ms = (time.perf_counter() - started) * 1000
    return [h.product.id for h in hits], search_ms + (embed_ms if mode.uses_vectors else 0.0)


async def evaluate(
    catalog: Catalog,
    embedder: Embedder,
    queries: Mapping[str, str],
    qrels: Mapping[str, Mapping[str, int]],
    modes: Sequence[Mode] = MODES,
    on_query: Callable[[], None] | None = None,
) -> dict[str, ModeScores]:
    """Search every judged query in every mode, one at a time; scores by mode name.

    Queries without judgments are skipped. Each query is embedded once, timed,
    and counted in the latency of the modes that use vectors.
    """
    scores = {mode.name: ModeScores() for mode in modes}
    judged = [(qid, text) for qid, text in queries.items() if qrels.get(qid)]
    if judged:
        # The first search pays for connection set-up; keep it out of the latencies.
        await catalog.search(judged[0][1], None, SearchFilters(in_stock_only=False), limit=1)
    for qid, text in judged:
        started = time.perf_counter()
        vector = (await aembed(embedder, [text]))[0]
        embed_ms = (time.perf_counter() - started) * 1000
        for mode in modes:
            ranked, latency_ms = await _timed_search(catalog, text, vector, mode, embed_ms)
            board = scores[mode.name]
            board.latency_ms.append(latency_ms)
            if (ndcg := ndcg_at_k(ranked, qrels[qid])) is not None:
                board.ndcg.append(ndcg)
            if (recall := recall_at_k(ranked, qrels[qid])) is not None:
                board.recall.append(recall)
        if on_query is not None:
            on_query()
    return scores
