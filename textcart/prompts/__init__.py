"""Prompt files: one YAML per decision, with instructions and labelled examples.

Each file (``intent``, ``tone``, ``buy_likelihood``, ``next_message``, ``fit``, ``wording``)
is written for people first, so merchandisers can edit wording and examples without
touching code. :func:`textcart.prompts.loader.load_prompt` reads a file and validates it
against the fixed label sets, so a typo in a label fails loudly instead of quietly skewing
a decider.
"""
