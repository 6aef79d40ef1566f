"""The store's knowledge base: policies and FAQs an operator edits, retrieved per question.

A knowledge folder holds Markdown documents and a `policies.yaml`. Each `## ` section of a
document is one chunk: its heading, an optional `Topics:` line naming the policy topics it
answers (returns, packaging, shipping_time...), and a few short sentences written so they
can be texted as they are. Chunks are embedded once with the project's embedder; a
question is matched by topic first, then by similarity. `policies.yaml` holds the numbers
the order-aware answers compute with (the return window in days, the order statuses that
can still be changed) and must agree with the documents.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import yaml

_SECTION = re.compile(r"^##\s+(.+)$", re.MULTILINE)
_TOPICS = re.compile(r"^topics:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9])")


class Embedder(Protocol):
    """What the knowledge base needs of an embedder."""

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for `texts`, one row each."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """A unit vector for one query."""
        ...


class KnowledgeError(ValueError):
    """A knowledge file that cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class Chunk:
    """One section of a knowledge document."""

    id: str  # "<file stem>#<heading slug>"
    heading: str
    topics: tuple[str, ...]
    text: str

    def sentences(self) -> list[str]:
        """The chunk's sentences, in order."""
        return [s.strip() for s in _SENTENCE.split(self.text) if s.strip()]


@dataclass(frozen=True)
class Policies:
    """The numbers order-aware answers compute with."""

    return_window_days: int
    returns_url: str
    changeable_statuses: tuple[str, ...]
    contact: str


@dataclass
class KnowledgeBase:
    """Chunks of the store's documents, searchable by topic and by meaning."""

    chunks: list[Chunk]
    policies: Policies
    source: Path
    _vectors: np.ndarray | None = field(default=None, repr=False)

    def index(self, embedder: Embedder) -> None:
        """Embed every chunk (heading and text) once."""
        texts = [f"{c.heading}. {c.text}" for c in self.chunks]
        self._vectors = embedder.embed(texts) if texts else np.zeros((0, 1))

    def by_id(self, chunk_id: str) -> Chunk | None:
        """The chunk with this id, if any."""
        return next((c for c in self.chunks if c.id == chunk_id), None)

    def search(
        self, question: str, embedder: Embedder, topic: str | None = None, limit: int = 2
    ) -> list[tuple[Chunk, float]]:
        """The chunks that best answer `question`: those of `topic` first, then by meaning."""
        if self._vectors is None:
            self.index(embedder)
        assert self._vectors is not None
        if not self.chunks:
            return []
        query = embedder.embed_query(question)
        scores = self._vectors @ np.asarray(query, dtype=np.float32)
        # A heading word the question uses ("down" for "Down jackets") counts extra.
        asked = {w.removesuffix("s") for w in re.findall(r"[a-z]{3,}", question.lower())}
        scores = scores + np.array(
            [0.15 * len(_heading_words(c.heading) & asked) for c in self.chunks], dtype=np.float32
        )
        ranked = sorted(
            zip(self.chunks, scores.tolist(), strict=True),
            # A chunk whose first topic is the one asked about beats one that also covers it.
            key=lambda pair: (
                topic is not None and pair[0].topics[:1] == (topic,),
                topic is not None and topic in pair[0].topics,
                pair[1],
            ),
            reverse=True,
        )
        return ranked[:limit]


def _heading_words(heading: str) -> set[str]:
    return {w.removesuffix("s") for w in re.findall(r"[a-z]{3,}", heading.lower())}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def read_document(path: Path) -> list[Chunk]:
    """Split one Markdown document into its `## ` sections."""
    text = path.read_text(encoding="utf-8")
    headings = list(_SECTION.finditer(text))
    if not headings:
        raise KnowledgeError(f"{path}: no '## ' section; each section is one answer")
    chunks = []
    for i, heading in enumerate(headings):
        end = headings[i + 1].start() if i + 1 < len(headings) else len(text)
        body = text[heading.end() : end].strip()
        topics_line = _TOPICS.search(body)
        topics: tuple[str, ...] = ()
        if topics_line:
            topics = tuple(t.strip().lower() for t in topics_line.group(1).split(",") if t.strip())
            body = (body[: topics_line.start()] + body[topics_line.end() :]).strip()
        body = " ".join(body.split())
        if not body:
            line = text[: heading.start()].count("\n") + 1
            raise KnowledgeError(f"{path}:{line}: section {heading.group(1)!r} has no text")
        title = heading.group(1).strip()
        chunks.append(Chunk(f"{path.stem}#{_slug(title)}", title, topics, body))
    return chunks


def _policies(path: Path) -> Policies:
    try:
        raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise KnowledgeError(f"{path}: not valid YAML: {err}") from err
    try:
        return Policies(
            return_window_days=int(raw["return_window_days"]),
            returns_url=str(raw["returns_url"]),
            changeable_statuses=tuple(str(s) for s in raw.get("changeable_statuses", [])),
            contact=str(raw.get("contact", "")),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise KnowledgeError(f"{path}: field {err} is missing or not valid") from err


def load_knowledge(folder: Path) -> KnowledgeBase:
    """Read every `*.md` document and `policies.yaml` in `folder`."""
    if not folder.is_dir():
        raise KnowledgeError(f"{folder}: no such knowledge folder")
    chunks = [chunk for path in sorted(folder.glob("*.md")) for chunk in read_document(path)]
    policies_file = folder / "policies.yaml"
    if not policies_file.exists():
        raise KnowledgeError(f"{policies_file}: missing (return window, returns link, contact)")
    return KnowledgeBase(chunks, _policies(policies_file), folder)
