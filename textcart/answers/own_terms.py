"""A product's own terms before the store's rule: the sock with a lifetime guarantee.

"do the ridgeline socks really have a lifetime guarantee?" reads as a warranty question,
and the store's warranty is one year; but the sock's own page promises more. When the text
names a model whose own words speak of a guarantee or warranty, the question is about that
product's spec, answered from its words.
"""

from __future__ import annotations

import re

from textcart.tools.catalog import Catalog
from textcart.tools.catalog_words import model_names
from textcart.vocabulary.answers import AskedQuestion

TERMS = re.compile(r"guarantee|warrant", re.IGNORECASE)


async def product_terms(
    catalog: Catalog, text: str, question: AskedQuestion, asked_product_id: str | None
) -> tuple[AskedQuestion, str | None]:
    """The question and the product it is about, when that product has its own terms.

    The product is the one the text names, else the one the turn found it means ("the
    blue merino socks from my last order").
    """
    if question["kind"] != "policy" or "warranty" not in question["topics"]:
        return question, None
    named = (await model_names(catalog)).named(text)
    product_id = named[0][1] if named else asked_product_id
    if product_id is None:
        return question, None
    product = (await catalog.get_many([product_id])).get(product_id)
    if product is None or not any(
        TERMS.search(s) for s in [product.description, *product.selling_points]
    ):
        return question, None
    return AskedQuestion(
        **{**question, "kind": "spec", "topic": "warranty", "topics": ["warranty"]}
    ), product.id
