"""A text classifier on sentence embeddings: the classic model for intent and tone.

Two methods: nearest centroid (robust with a few examples per label) and logistic
regression (better from ~15 examples per label up; measured 0.81 vs 0.78 accuracy in 5-fold
cross-validation on the intent examples in `prompts/`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from sklearn.linear_model import LogisticRegression

from textcart.tools.embeddings import Embedder


class EmbeddingClassifier:
    """Classify texts by their MiniLM embeddings."""

    def __init__(
        self, embedder: Embedder, method: Literal["centroid", "logreg"] = "logreg"
    ) -> None:
        """Create an unfitted classifier."""
        self.embedder = embedder
        self.method = method
        self.labels: list[str] = []
        self._centroids: np.ndarray | None = None
        self._logreg: LogisticRegression | None = None

    def __getstate__(self) -> dict[str, object]:
        """Pickle the fitted parts only: the embedder is a model of its own, loaded apart."""
        return {**self.__dict__, "embedder": None}

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> EmbeddingClassifier:
        """Fit from labelled texts; returns self."""
        if len(texts) != len(labels) or not texts:
            raise ValueError("need the same, non-zero number of texts and labels")
        return self.fit_vectors(self.embedder.embed(list(texts)), labels)

    def fit_vectors(self, vectors: np.ndarray, labels: Sequence[str]) -> EmbeddingClassifier:
        """Fit from precomputed feature rows (e.g. several embeddings side by side)."""
        self.labels = sorted(set(labels))
        y = np.array([self.labels.index(label) for label in labels])
        if self.method == "centroid":
            centroids = np.stack([vectors[y == i].mean(axis=0) for i in range(len(self.labels))])
            self._centroids = centroids / np.linalg.norm(centroids, axis=1, keepdims=True)
        else:
            self._logreg = LogisticRegression(C=10.0, max_iter=2000).fit(vectors, y)
        return self

    def predict_vectors(self, vectors: np.ndarray) -> list[tuple[str, float]]:
        """Label and confidence (0..1) for each embedding row."""
        if self._centroids is not None:
            sims = vectors @ self._centroids.T
            # Cosine gaps between centroids are small; a temperature of 20 turns them into
            # probabilities that rank sensibly without claiming certainty.
            scaled = np.exp(20 * (sims - sims.max(axis=1, keepdims=True)))
            probs = scaled / scaled.sum(axis=1, keepdims=True)
        elif self._logreg is not None:
            probs = self._logreg.predict_proba(vectors)
        else:
            raise RuntimeError("classifier is not fitted")
        best = probs.argmax(axis=1)
        return [(self.labels[i], float(probs[row, i])) for row, i in enumerate(best)]

    def predict(self, texts: Sequence[str]) -> list[tuple[str, float]]:
        """Label and confidence for each text."""
        return self.predict_vectors(self.embedder.embed(list(texts)))

    def predict_one(self, text: str) -> tuple[str, float]:
        """Label and confidence for one text (embedding cached across deciders)."""
        return self.predict_vectors(self.embedder.embed_query(text)[None, :])[0]
