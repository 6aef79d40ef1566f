"""The words every part of textcart shares: labels, decisions, structured outputs, records.

This package imports nothing else from textcart, so anything may import it: the deciders,
the tools, the prompts, the demo store and the graph all speak it.

* `labels`: the fixed vocabularies the evaluations depend on (intent, tone, message type).
* `outputs`: what a decider must return (Pydantic models with constrained fields).
* `records`: the JSON-like records kept in graph state and the message log.
* `answers`: the answer step's records (what was asked, the answer and its evidence).
* `products`: a catalog product and its variants (sizes with their own price and stock).
"""
