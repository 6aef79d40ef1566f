"""Deciders: each decision made by an LLM stand-in or a classic model, swappable."""
