"""Policy and order answers: the knowledge base, and what the shopper's order allows."""

from __future__ import annotations

import re

from textcart.answers.common import FOLLOW_UP, Builder, Evidence, join_names, knowledge_for
from textcart.tools.orders import Order
from textcart.vocabulary.answers import AskedQuestion


def policy(ev: Evidence, q: AskedQuestion, b: Builder) -> None:
    """Each policy topic asked about (at most two: "how much is shipping and how long?")."""
    topics: list[str | None] = [*q["topics"][:2]] or [q["topic"]]
    limit = 300 if len(topics) == 1 else 140
    found = [f for topic in topics if (f := knowledge_for(ev, topic, ev.text, limit))]
    if not found:
        b.say(f"I don't have that in our store info, so I won't guess. {FOLLOW_UP}", "unknown")
        return
    seen: set[str] = set()
    for chunk, sentences in found:
        if chunk.id not in seen:
            seen.add(chunk.id)
            b.chunk(chunk, _applies_first(sentences, ev.text))
    b.status = "info"


_AMOUNT = re.compile(r"\$\s?(\d+(?:\.\d\d)?)|(\d+(?:\.\d\d)?)\s?(?:dollars|bucks)", re.I)
_THRESHOLD = re.compile(r"\b(over|under|above|below)\s+\$(\d+(?:\.\d\d)?)", re.IGNORECASE)


def _applies_first(sentences: list[str], text: str) -> list[str]:
    """With an amount in the text ("shipping on a $40 order?"), the rule for it goes first.

    A sentence about orders "under $75" applies to $40, one about orders "over $75" does
    not: the one that applies is said first, the other after it.
    """
    said = _AMOUNT.search(text)
    if not said:
        return sentences
    amount = float(said.group(1) or said.group(2))

    def applies(sentence: str) -> bool:
        rule = _THRESHOLD.search(sentence)
        if rule is None:
            return False
        bound = float(rule.group(2))
        return amount > bound if rule.group(1).lower() in ("over", "above") else amount < bound

    return sorted(sentences, key=lambda s: not applies(s))


def _cite_order(ev: Evidence, b: Builder, order: Order) -> str:
    """Record the order as evidence; returns " (its items)" for the answer's sentences."""
    b.sources.append(f"order:{order.order_id}")
    items = [ev.order_titles.get(i, "") for i in order.item_ids]
    what = f" ({join_names([i for i in items if i])})" if any(items) else ""
    b.facts.append(f"Order {order.order_id}{what}: {order.status}")
    return what


def order_return(ev: Evidence, q: AskedQuestion, b: Builder) -> None:
    """A return of the shopper's order: days since delivery against the return window."""
    order, policies = ev.order, ev.knowledge.policies
    if order is None:
        policy(ev, q, b)
        return
    what = _cite_order(ev, b, order)
    if q["topic"] == "packaging":
        policy(ev, q, b)
        return
    days = order.delivered_days_ago
    window = policies.return_window_days
    if order.status == "delivered" and days is not None:
        b.facts.append(f"delivered {days} days ago; return window {window} days")
        if days <= window:
            b.say(
                f"Yes: order {order.order_id}{what} was delivered {days} days ago, so it's "
                f"inside our {window}-day return window.",
                "yes",
            )
        else:
            b.say(
                f"Order {order.order_id}{what} was delivered {days} days ago, past our "
                f"{window}-day return window.",
                "no",
            )
            return
    elif order.status in ("processing", "shipped"):
        b.say(
            f"Order {order.order_id}{what} hasn't been delivered yet; you'll have {window} days "
            "from delivery to return it.",
            "info",
        )
        return
    elif order.status == "returned":
        b.say(f"Order {order.order_id}{what} is already marked as returned.", "info")
        return
    b.facts.append(f"returns: {policies.returns_url}")
    topic = "exchanges" if q["topic"] == "exchanges" else "returns"
    found = knowledge_for(ev, topic, ev.text)
    how = [s for s in found[0].sentences() if policies.returns_url in s] if found else []
    if found and how:
        # How to start it, in the store's own words ("free within 60 days", the link).
        b.chunk(found[0], how[:1])
    else:
        _cite(ev, b, topic)
        verb = "exchange" if topic == "exchanges" else "return"
        b.say(f"Start the {verb} at {policies.returns_url}.")


def _cite(ev: Evidence, b: Builder, topic: str) -> None:
    """Name the knowledge section an order answer's rule comes from (no sentence added)."""
    hits = ev.knowledge.search(topic, ev.embedder, topic=topic, limit=1)
    if hits and topic in hits[0][0].topics:
        b.sources.append(f"knowledge:{hits[0][0].id}")


def order_change(ev: Evidence, q: AskedQuestion, b: Builder) -> None:
    """A change to the shopper's order: what its status still allows."""
    order, policies = ev.order, ev.knowledge.policies
    if order is None:
        policy(ev, q, b)
        return
    what = _cite_order(ev, b, order)
    if order.status in policies.changeable_statuses:
        _cite(ev, b, "cancel")
        b.say(
            f"Yes, order {order.order_id}{what} hasn't shipped yet, so it can still be "
            f"changed. {FOLLOW_UP}",
            "yes",
        )
        return
    b.facts.append(
        f"exchanges and returns within {policies.return_window_days} days: {policies.returns_url}"
    )
    _cite(ev, b, "cancel")
    _cite(ev, b, "exchanges")
    done = "shipped" if order.status == "shipped" else f"been {order.status}"
    b.say(f"Order {order.order_id}{what} has already {done}, so it can't be changed now.", "no")
    if order.status in ("shipped", "delivered"):
        b.say(
            f"Once you have it, you can exchange it within {policies.return_window_days} days "
            f"at {policies.returns_url}."
        )
