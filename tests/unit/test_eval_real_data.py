"""Floors on the public data in ../shared/data: the issue's goals, where the deciders meet them.

Skipped, saying so, when the data is absent (it is never in this repository). The floors
are the measured figures rounded down, so a regression fails here:

- intent, held-out half of intents/dev.csv (`intent_halves`): the classic decider fit on
  the other half meets the goal of 0.97 macro-F1 (0.995). From the prompt examples alone
  it meets the goal of 0.85 with 0.913. (The examples added for that were written from
  the mistakes on the other half; the held-out half was only scored, after each of three
  small batches, never read.)
- buy-likelihood, 5-fold cross-validation on the UCI sessions. The issue's goal is 0.92
  ROC AUC; the classic decider only sees what the live graph computes (shopper activity
  and the turn's calendar), and on that mapping it measures 0.9255 (with page values read
  as cart and checkout), 0.7248 without page values, and 0.8443 from the prompt examples
  alone — see textcart/evaluation/buy_likelihood.py for the mapping of each column.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from textcart.evaluation.buy_likelihood import (
    classic_probabilities,
    cross_validated_probabilities,
    read_sessions,
    roc_auc,
)
from textcart.evaluation.intents import (
    classic_predictions,
    fit_classifier,
    macro_f1,
    read_labelled,
)
from textcart.evaluation.report import intent_halves
from textcart.tools.embeddings import get_embedder

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
INTENTS = SHARED_DATA / "intents" / "dev.csv"
SESSIONS = SHARED_DATA / "sessions" / "online_shoppers_train.csv"


def _require(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} not present (public evaluation data lives outside the repo)")
    return path


def test_intent_deciders_on_the_held_out_half() -> None:
    fit_half, held_out = intent_halves(read_labelled(_require(INTENTS)))
    embedder = get_embedder()
    prompt_only = macro_f1(held_out.labels, classic_predictions(embedder, held_out.texts))
    classifier = fit_classifier(embedder, fit_half)
    fitted = macro_f1(held_out.labels, classic_predictions(embedder, held_out.texts, classifier))
    assert prompt_only >= 0.90, f"prompt examples only: macro-F1 {prompt_only:.4f}"
    assert fitted >= 0.97, f"fit on the other half: macro-F1 {fitted:.3f}"


def test_buy_likelihood_deciders_on_the_sessions() -> None:
    data = read_sessions(_require(SESSIONS))
    fitted = roc_auc(data.bought, cross_validated_probabilities(data))
    prompt_only = roc_auc(data.bought, classic_probabilities(data))
    observed_only = roc_auc(data.bought, cross_validated_probabilities(data, page_values=False))
    assert fitted >= 0.92, f"fit, 5-fold cross-validation: ROC AUC {fitted:.3f}"
    assert prompt_only >= 0.84, f"prompt examples only: ROC AUC {prompt_only:.3f}"
    assert observed_only >= 0.72, f"fit without page values: ROC AUC {observed_only:.3f}"
