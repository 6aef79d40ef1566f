"""Answer a shopper's question from evidence: catalog fields, product text, policies, orders.

The answer comes first in the reply, so it is built here from facts only, in the order of
trust: structured fields of the product and its colourways (sizes in stock, colours,
price and compare-at price, rating), then its selling points and description sentences
ranked against the question, then the store's knowledge base, then the shopper's order.
When the evidence does not say, the answer says so and asks whether a person should
follow up. Every string an answer is built from is listed in `Answer.facts`, and every
source in `Answer.sources`, so a check (the output guard, `textcart eval answers`) can
hold the reply to them.
"""

from __future__ import annotations

import re

from textcart.answers.common import FOLLOW_UP, Builder, Evidence, low_stock, model_of, money
from textcart.answers.comparison import comparison
from textcart.answers.details import (
    MATERIAL_WORDS,
    SPEC_WORDS,
    care,
    detail,
    includes,
    spec,
    suitability,
    waterproof,
)
from textcart.answers.orders import order_change, order_return, order_status, policy
from textcart.answers.sizing import MY_SIZE, fit, suggested_size
from textcart.answers.stock import availability, colours, price
from textcart.vocabulary.answers import Answer, AskedQuestion

__all__ = [
    "FOLLOW_UP",
    "Evidence",
    "find_answer",
    "model_of",
    "money",
    "suggested_size",
    "unanswerable",
]


def find_answer(q: AskedQuestion, ev: Evidence) -> Answer | None:
    """The answer to `q` from the evidence, or None when there is nothing to answer.

    A product question with no product named gets None: the turn is then a recommendation
    or a clarifying question.
    """
    kind = q["kind"]
    product = ev.product
    b = Builder(kind, product)
    if kind == "policy":
        policy(ev, q, b)
    elif kind == "order_return":
        order_return(ev, q, b)
    elif kind == "order_change":
        order_change(ev, q, b)
    elif kind == "order_status":
        order_status(ev, q, b)
    elif kind == "care":
        care(ev, b)
    elif product is None:
        return None
    elif kind == "colours":
        colours(ev, b)
    elif kind in ("availability", "stock"):
        availability(ev, q, b)
    elif kind == "price":
        price(ev, q, b)
        if MY_SIZE.search(ev.text):
            # "is it still on sale? and do u have my size": both answered.
            availability(ev, q, b)
    elif kind == "fit":
        fit(ev, q, b)
    elif kind == "spec":
        # Up to two specs in one text, each answered: "how bright + how long on a charge".
        for topic in (q["topics"] or [q["topic"] or ""])[:2]:
            if topic == "includes":
                includes(ev, b)
            else:
                spec(ev, q, b, SPEC_WORDS.get(topic, re.compile(r"$^")), topic or "spec")
    elif kind == "material":
        spec(ev, q, b, MATERIAL_WORDS, "materials")
    elif kind == "waterproof":
        waterproof(ev, b)
    elif kind == "suitability":
        suitability(ev, q, b)
    elif kind == "comparison":
        comparison(ev, q, b)
    elif kind == "detail":
        detail(ev, b)
    if not b.parts:
        return None
    return b.build(low_stock(product) if product is not None and b.status == "yes" else None)


def unanswerable(kind: str, text: str) -> Answer:
    """An answer that says plainly why this text can't be answered from evidence."""
    return Answer(
        kind=kind,
        status="unknown",
        text=text,
        product_id=None,
        product_title=None,
        price=None,
        link=None,
        sources=[],
        facts=[],
        scarcity=None,
    )
