"""The report's PNG plots, drawn with matplotlib's Agg canvas (no display, no pyplot state)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import roc_curve

from textcart.evaluation.buy_likelihood import calibration_table, roc_auc


@dataclass(frozen=True)
class ScoredSessions:
    """One decider's probabilities for sessions whose outcome is known, under a label."""

    label: str
    bought: Sequence[bool]
    probabilities: Sequence[float]


@dataclass(frozen=True)
class PolicyBar:
    """One policy's value of one metric and its confidence interval (None: not defined)."""

    policy: str
    value: float | None
    low: float | None
    high: float | None


def _save(figure: Figure, path: Path) -> Path:
    FigureCanvasAgg(figure)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path


def confusion_png(
    path: Path, title: str, rows: list[str], columns: list[str], matrix: list[list[int]]
) -> Path:
    """Gold labels down, predicted across; shade by the share of each gold row, print counts."""
    counts = np.array(matrix, dtype=float)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    size = 2.5 + 0.48 * max(len(rows), len(columns))
    figure = Figure(figsize=(size + 1.5, size))
    axes = figure.add_subplot()
    image = axes.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(columns)), columns, rotation=60, ha="right", fontsize=8)
    axes.set_yticks(range(len(rows)), rows, fontsize=8)
    axes.set_xlabel("predicted")
    axes.set_ylabel("gold")
    axes.set_title(title, fontsize=10)
    for i in range(len(rows)):
        for j in range(len(columns)):
            if counts[i, j]:
                axes.text(
                    j,
                    i,
                    str(int(counts[i, j])),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if shares[i, j] > 0.6 else "black",
                )
    figure.colorbar(image, ax=axes, fraction=0.04, label="share of the gold row")
    return _save(figure, path)


def roc_png(path: Path, title: str, curves: Sequence[ScoredSessions]) -> Path:
    """ROC curves of several deciders on one set of axes, with chance as a diagonal."""
    figure = Figure(figsize=(6, 5.5))
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="chance")
    for curve in curves:
        fpr, tpr, _ = roc_curve(np.array(curve.bought, dtype=int), np.array(curve.probabilities))
        auc = roc_auc(curve.bought, curve.probabilities)
        axes.plot(fpr, tpr, label=f"{curve.label} (AUC {auc:.3f}, n {len(curve.bought)})")
    axes.set_xlabel("false positive rate (non-buyers flagged)")
    axes.set_ylabel("true positive rate (buyers found)")
    axes.set_title(title, fontsize=10)
    axes.legend(loc="lower right", fontsize=7)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.01)
    return _save(figure, path)


def calibration_png(path: Path, title: str, curves: Sequence[ScoredSessions]) -> Path:
    """Observed buying rate against mean predicted probability per bin; marker area ~ sessions."""
    figure = Figure(figsize=(6, 5.5))
    axes = figure.add_subplot()
    axes.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    for curve in curves:
        points = [
            (b.mean_predicted, b.observed_rate, 20 + 200 * b.n / len(curve.bought))
            for b in calibration_table(curve.bought, curve.probabilities)
            if b.mean_predicted is not None and b.observed_rate is not None
        ]
        predicted, observed, sizes = ([p[k] for p in points] for k in range(3))
        (line,) = axes.plot(predicted, observed, marker="", label=curve.label)
        axes.scatter(predicted, observed, s=sizes, color=line.get_color(), alpha=0.8)
    axes.set_xlabel("mean predicted probability (10 bins)")
    axes.set_ylabel("observed share that bought")
    axes.set_title(title, fontsize=10)
    axes.legend(loc="upper left", fontsize=7)
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1.01)
    return _save(figure, path)


def policy_png(path: Path, title: str, metrics: dict[str, list[PolicyBar]]) -> Path:
    """One panel per metric: a bar per policy with its confidence interval as error bars."""
    figure = Figure(figsize=(3.2 * len(metrics), 4))
    for k, (metric, bars) in enumerate(metrics.items(), start=1):
        axes = figure.add_subplot(1, len(metrics), k)
        positions = range(len(bars))
        values = [b.value if b.value is not None else 0.0 for b in bars]
        lower = [
            b.value - b.low if b.value is not None and b.low is not None else 0.0 for b in bars
        ]
        upper = [
            b.high - b.value if b.value is not None and b.high is not None else 0.0 for b in bars
        ]
        axes.bar(
            positions,
            values,
            yerr=[lower, upper],
            capsize=4,
            color=[f"C{i}" for i in positions],
        )
        for i, b in enumerate(bars):
            if b.value is None:
                axes.text(i, 0, "n/a", ha="center", va="bottom", fontsize=8)
        axes.set_xticks(list(positions), [b.policy for b in bars], rotation=30, ha="right")
        axes.set_title(metric, fontsize=10)
    figure.suptitle(title, fontsize=11)
    return _save(figure, path)
