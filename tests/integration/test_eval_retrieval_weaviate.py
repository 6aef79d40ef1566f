"""`eval retrieval` end to end: a tiny judged shop against the real Weaviate and MiniLM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

# The command as the lead mounts it, in its own process: it runs its own event loop and
# must not share this session's Weaviate client.
_COMMAND = (
    "import typer\n"
    "from textcart.evaluation.retrieval_cli import register\n"
    "app = typer.Typer()\n"
    "register(app)\n"
    "app.callback()(lambda: None)\n"
    "app()\n"
)
KEYS = {"ndcg@10", "recall@50", "n_queries", "latency_ms_p50", "latency_ms_p95"}

PRODUCTS = """product_id,title,description
p01,Stainless Steel French Press Coffee Maker,"<p>Brews 8 cups of <b>rich</b> coffee.</p>"
p02,Ceramic Pour Over Coffee Dripper,A cone dripper for one careful cup.
p03,Electric Gooseneck Kettle,
p04,Merino Wool Hiking Socks,"<ul><li>Cushioned</li><li>Odor resistant</li></ul>"
p05,Waterproof Trail Running Shoes,Grippy lugs for wet trails.
p06,Leather Hiking Boots,Full-grain leather boots with ankle support.
p07,Cotton Crew Neck T-Shirt,Soft everyday tee.
p08,Yoga Mat with Carry Strap,
p09,Bluetooth Noise Cancelling Headphones,Thirty hours of battery.
p10,Cast Iron Skillet 12 inch,Pre-seasoned &amp; oven safe.
"""
# q1 comes first and is easy: one product names it exactly.
QUERIES = """query_id,query
q1,french press
q2,hiking boots
q3,coffee
q4,headphones
q5,graphic tee
"""
# q4 has no judgments (skipped); q5 has only irrelevant ones (left out of nDCG and recall).
QRELS = """query_id,product_id,relevance
q1,p01,4
q1,p04,1
q2,p06,4
q2,p04,3
q2,p05,2
q2,p07,1
q3,p01,3
q3,p02,3
q3,p03,2
q5,p07,1
"""


def _eval(tmp_path: Path, *extra: str) -> tuple[dict[str, object], str]:
    files = {}
    for name, text in (("products", PRODUCTS), ("queries", QUERIES), ("qrels", QRELS)):
        files[name] = tmp_path / f"{name}.csv"
        files[name].write_text(text, encoding="utf-8")
    args = [f"--{name}={path}" for name, path in files.items()]
    done = subprocess.run(
        [sys.executable, "-c", _COMMAND, "retrieval", *args, "--json", *extra],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_eval_retrieval_scores_and_reuses_the_loaded_catalog(
    services_dir: Path, tmp_path: Path
) -> None:
    easy, first_notes = _eval(tmp_path, "--limit-queries=1")
    assert "loaded now" in first_notes
    assert set(easy) == KEYS | {"baselines"}
    baselines = easy["baselines"]
    assert isinstance(baselines, dict) and set(baselines) == {"bm25", "dense"}
    for scores in (easy, *baselines.values()):
        assert set(scores) - {"baselines"} == KEYS
        assert scores["n_queries"] == 1
    # The only useful product for "french press" is ranked first: a perfect ranking.
    assert easy["ndcg@10"] == 1.0
    assert baselines["bm25"]["ndcg@10"] == 1.0
    assert easy["recall@50"] == 1.0

    every, second_notes = _eval(tmp_path)
    assert "reused" in second_notes
    # q4 is unjudged and q5 has no product worth ranking: three queries count for nDCG.
    assert every["n_queries"] == 3
    assert 0.5 < float(str(every["ndcg@10"])) <= 1.0
    assert float(str(every["latency_ms_p95"])) >= float(str(every["latency_ms_p50"])) > 0
