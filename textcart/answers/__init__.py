"""Answers to what the shopper asked: the question, the evidence, the store's knowledge."""
