"""Retrieval metrics and evaluation file reading, on hand-computed examples."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from textcart.evaluation.retrieval import (
    EvalDataError,
    ModeScores,
    collection_for,
    dcg,
    ndcg_at_k,
    percentile,
    read_products,
    read_qrels,
    read_queries,
    recall_at_k,
    strip_html,
)

# Gains (relevance - 1): a 3, b 2, d 1, c 0.
JUDGED = {"a": 4, "b": 3, "c": 1, "d": 2}
IDEAL = 3 + 2 / math.log2(3) + 1 / 2  # 4.76186...


def test_dcg_discounts_by_log2_of_rank_plus_one() -> None:
    assert dcg([3, 2, 1]) == pytest.approx(IDEAL)
    assert dcg([]) == 0.0


def test_ndcg_of_the_ideal_order_is_one() -> None:
    assert ndcg_at_k(["a", "b", "d", "c"], JUDGED) == pytest.approx(1.0)


def test_ndcg_counts_unjudged_products_as_zero_gain() -> None:
    # b at rank 1 (2/1), an unjudged product at rank 2 (0), a at rank 3 (3/2).
    assert ndcg_at_k(["b", "unjudged", "a"], JUDGED) == pytest.approx(3.5 / IDEAL)
    assert ndcg_at_k(["x", "y"], JUDGED) == 0.0


def test_ndcg_cuts_both_the_ranking_and_the_ideal_at_k() -> None:
    # Top 1: b (gain 2) against the ideal a (gain 3).
    assert ndcg_at_k(["b", "a"], JUDGED, k=1) == pytest.approx(2 / 3)


def test_ndcg_is_undefined_when_nothing_judged_has_gain() -> None:
    assert ndcg_at_k(["a"], {"a": 1, "b": 1}) is None
    assert ndcg_at_k(["a"], {}) is None


def test_recall_counts_relevance_three_and_up_as_relevant() -> None:
    # Relevant: a (4) and b (3); d (2) is not.
    assert recall_at_k(["d", "a"], JUDGED) == pytest.approx(0.5)
    assert recall_at_k(["a", "x", "b"], JUDGED) == pytest.approx(1.0)
    assert recall_at_k(["a", "b"], JUDGED, k=1) == pytest.approx(0.5)


def test_recall_is_undefined_without_relevant_products() -> None:
    assert recall_at_k(["a"], {"a": 2, "b": 1}) is None


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 95) == pytest.approx(3.85)  # position 2.85 between 3 and 4
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile([7.0], 95) == 7.0
    numbers = [float(x) for x in np.random.default_rng(1).random(37)]
    assert percentile(numbers, 90) == pytest.approx(float(np.percentile(numbers, 90)))


def test_percentile_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_mode_scores_summary_has_the_reported_keys() -> None:
    scores = ModeScores(ndcg=[1.0, 0.5], recall=[0.25], latency_ms=[10.0, 20.0, 30.0])
    assert scores.summary() == {
        "ndcg@10": 0.75,
        "recall@50": 0.25,
        "n_queries": 2,
        "latency_ms_p50": 20.0,
        "latency_ms_p95": pytest.approx(29.0),
    }


def test_strip_html_keeps_visible_words_apart() -> None:
    html = '<ul><li>Red</li><li>Blue &amp; green</li></ul><script>var x = 1;</script>\n  8" x 8"'
    assert strip_html(html) == 'Red Blue & green 8" x 8"'
    assert strip_html("plain text, no tags") == "plain text, no tags"
    assert strip_html("") == ""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_read_products_maps_rows_and_strips_html(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "products.csv",
        "product_id,title,description\n"
        'p1,Linen Pillow,"<p>Soft <b>linen</b></p>"\n'
        "p2,Soda Maker,\n"
        "p3,,no title so skipped\n",
    )
    products = read_products(path)
    assert [p.id for p in products] == ["p1", "p2"]
    assert products[0].description == "Soft linen"
    assert products[1].description == ""
    assert products[0].category == "" and products[0].price == 0 and products[0].in_stock


def test_read_queries_and_qrels(tmp_path: Path) -> None:
    queries = _write(tmp_path / "q.csv", "query_id,query\nq1,red shoes\nq2,  \n")
    qrels = _write(tmp_path / "r.csv", "query_id,product_id,relevance\nq1,p1,4\nq1,p2,1\n")
    assert read_queries(queries) == {"q1": "red shoes"}
    assert read_qrels(qrels) == {"q1": {"p1": 4, "p2": 1}}


def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.csv", "id,query\nq1,x\n")
    with pytest.raises(EvalDataError, match="query_id"):
        read_queries(path)
    bad_relevance = _write(tmp_path / "r.csv", "query_id,product_id,relevance\nq1,p1,high\n")
    with pytest.raises(EvalDataError, match="r.csv:2"):
        read_qrels(bad_relevance)


def test_collection_name_follows_file_content(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.csv", "product_id,title,description\np1,Pillow,\n")
    same = _write(tmp_path / "b.csv", "product_id,title,description\np1,Pillow,\n")
    other = _write(tmp_path / "c.csv", "product_id,title,description\np1,Lamp,\n")
    assert re.fullmatch(r"Eval_[0-9a-f]{12}", collection_for(first))
    assert collection_for(first) == collection_for(same)
    assert collection_for(first) != collection_for(other)
