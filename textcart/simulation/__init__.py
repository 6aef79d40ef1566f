"""Simulations: scripted conversations and simulated shoppers through the real graph.

`scripted` runs YAML scripts and checks every turn; `personas` and `llm_shopper` are
shoppers with hidden goals that answer the agent's texts; `population` runs many of them
under a next-message policy and `stats` compares policies with confidence intervals.
"""
