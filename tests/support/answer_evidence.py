"""The evidence an answer test hands `find_answer`: the demo knowledge base and a product."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from textcart.answers.evidence import Evidence
from textcart.answers.knowledge import KnowledgeBase, load_knowledge
from textcart.demo_store.loader import demo_dir
from textcart.tools.catalog import Product
from textcart.tools.embeddings import get_embedder


@lru_cache(maxsize=1)
def demo_knowledge() -> KnowledgeBase:
    """The demo store's knowledge base, indexed with the project's embedder (built once)."""
    kb = load_knowledge(demo_dir() / "knowledge")
    kb.index(get_embedder())
    return kb


def evidence(
    text: str,
    product: Product | None,
    variants: Sequence[Product] | None = None,
    **kw: Any,
) -> Evidence:
    """What a turn about `product` would have: its colourways (itself alone by default)."""
    base: dict[str, Any] = {
        "text": text,
        "product": product,
        "variants": list(variants) if variants is not None else ([product] if product else []),
        "others": [],
        "knowledge": demo_knowledge(),
        "embedder": get_embedder(),
        "order": None,
        "order_titles": {},
        "said_size": None,
        "preferences": {},
    }
    return Evidence(**{**base, **kw})
