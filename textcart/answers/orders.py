"""Policy and order answers: the knowledge base, and what the shopper's order allows."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from textcart.answers.common import (
    FOLLOW_UP,
    Builder,
    Evidence,
    colourway,
    join_names,
    knowledge_for,
    model_of,
    ranked,
)
from textcart.answers.cutoff import ASKS_TODAY, same_day
from textcart.answers.knowledge import Chunk
from textcart.rules.references import stem
from textcart.tools.catalog import Product
from textcart.tools.orders import Order
from textcart.vocabulary.answers import AskedQuestion


def policy(ev: Evidence, q: AskedQuestion, b: Builder) -> None:
    """Each policy topic asked about (at most two: "how much is shipping and how long?")."""
    topics: list[str | None] = [*q["topics"][:2]] or [q["topic"]]
    limit = 300 if len(topics) == 1 else 140
    # "ordered shoes a bit small, can i swap for half a size up?" asks for an exchange,
    # however close "ordered" reads to changing an order.
    # "if i get something marked down can i return it": the rule for sale items.
    queries = {
        "exchanges": _FOR_ANOTHER_SIZE if _SWAP_SIZE.search(ev.text) else ev.text,
        "returns": _SALE_ITEMS if _ON_SALE_ITEM.search(ev.text) else ev.text,
    }
    found = [
        f
        for topic in topics
        if (f := knowledge_for(ev, topic, queries.get(topic or "", ev.text), limit))
    ]
    if not found:
        b.say(f"I don't have that in our store info, so I won't guess. {FOLLOW_UP}", "unknown")
        return
    if "shipping_time" in topics and ASKS_TODAY.search(ev.text):
        # "do they ship today?": yes or no from the cutoff and the clock, then the rule.
        verdict = same_day([s for _, sentences in found for s in sentences], ev.now)
        if verdict is not None:
            b.say(verdict)
    seen: set[str] = set()
    for chunk, sentences in found:
        if chunk.id not in seen:
            seen.add(chunk.id)
            b.chunk(chunk, _applies_first(sentences, ev.text))
    b.status = "info"


_SWAP_SIZE = re.compile(
    r"\b(swap|exchange|switch|trade)\b.{0,40}\b(sizes?|half|bigger|smaller|colou?rs?)\b", re.I
)
_FOR_ANOTHER_SIZE = "exchange it for a different size or colour"
_ON_SALE_ITEM = re.compile(r"\b(on sale|marked down|sale items?|discounted|clearance)\b", re.I)
_SALE_ITEMS = "can sale items be returned"
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
    """A return of the shopper's order: days since delivery against the return window.

    Whether this order can still go back comes first, then the store's rule for how: what
    to send it in ("tags still on"), and for an exchange whether the size asked is in stock.
    """
    order, policies = ev.order, ev.knowledge.policies
    if order is None:
        policy(ev, q, b)
        return
    what = _cite_order(ev, b, order)
    if q["topic"] == "packaging" and not {"returns", "exchanges"} & set(q["topics"]):
        # "do I need the original box?" asks how to send it, not whether it can go back:
        # a "Yes" first would read as "yes, you need the box".
        policy(ev, q, b)
        return
    days = order.delivered_days_ago
    window = policies.return_window_days
    verdict = ""
    if order.status == "delivered" and days is not None:
        left = window - days
        b.facts.append(
            f"delivered {days} days ago; return window {window} days"
            + (f"; {left} days left" if left > 0 else "")
        )
        if days <= window and "worn" in q["topics"]:
            _worn(ev, q, b)
            return
        if days <= window:
            # "how many days do i have left": the last day, as a count from today.
            until = " (today is the last day)." if left <= 0 else " ({left} days left)."
            verdict = (
                "Yes: order {id}{what} was delivered {days} days ago, so it's inside our "
                "{window}-day return window" + (until if _ASKS_WHEN.search(ev.text) else ".")
            )
            b.say(
                verdict.format(id=order.order_id, what=what, days=days, window=window, left=left),
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
        _returned(ev, b, order, what)
        return
    if q["topic"] == "packaging":
        # What to send it back in ("tags still on"), in the store's own words: the sentence
        # closest to what was said.
        packed = knowledge_for(ev, "packaging", ev.text)
        if packed is not None:
            b.chunk(packed[0], [s for s, _ in ranked(ev, packed[1], most=1)])
    topic = "exchanges" if q["topic"] == "exchanges" else "returns"
    if topic == "exchanges":
        _exchange_stock(ev, b)
    b.facts.append(f"returns: {policies.returns_url}")
    # How to start it, in the store's own words ("free within 60 days", the link): from the
    # closest section of the topic that gives the link ("can i still swap" reads closer to
    # changing an order, which does not).
    hits = ev.knowledge.search(ev.text, ev.embedder, topic=topic, limit=3)
    how = [
        (chunk, s)
        for chunk, _ in hits
        if topic in chunk.topics
        for s in chunk.sentences()
        if policies.returns_url in s
    ]
    if how:
        if not any(how[0][1] in part for part in b.parts):
            b.chunk(how[0][0], [how[0][1]])
    else:
        _cite(ev, b, topic)
        verb = "exchange" if topic == "exchanges" else "return"
        b.say(f"Start the {verb} at {policies.returns_url}.")
    if verdict and what and len(" ".join(b.parts)) > _ONE_TEXT:
        # Too long for the text it goes out in: the order's items go, not how to send it.
        b.parts[0] = verdict.format(
            id=order.order_id, what="", days=days, window=window, left=window - (days or 0)
        )


_ASKS_WHEN = re.compile(
    r"how (many|much) (more )?(days|time|longer)|how long|(till|until|by) when|deadline|"
    r"last day|days left|time left",
    re.IGNORECASE,
)
# What fits in the two segments a reply may take (306 plain characters), with a margin.
_ONE_TEXT = 300


def order_status(ev: Evidence, q: AskedQuestion, b: Builder) -> None:
    """Where the shopper's order is, from the order alone: shipped, carrier, tracking, ETA."""
    order = ev.order
    if order is None:
        b.say(
            "I couldn't find an order for this number, so I can't check it. " + FOLLOW_UP,
            "unknown",
        )
        return
    what = _cite_order(ev, b, order)
    b.facts.append(order.status_line())
    eta = order.eta_days
    expected = f"expected in {eta} day{'s' if eta != 1 else ''}" if eta is not None else ""
    if order.status == "shipped":
        line = f"Order {order.order_id}{what} has shipped"
        if order.carrier:
            line += f" with {order.carrier}"
            if order.tracking:
                line += f" (tracking {order.tracking})"
        b.say(f"{line} and is {expected}." if expected else f"{line}.", "info")
    elif order.status == "processing":
        line = f"Order {order.order_id}{what} is still processing and hasn't shipped yet"
        b.say(f"{line}; it's {expected}." if expected else f"{line}.", "info")
    elif order.status == "delivered" and order.delivered_days_ago is not None:
        ago = order.delivered_days_ago
        b.say(
            f"Order {order.order_id}{what} was delivered {ago} day{'s' if ago != 1 else ''} ago.",
            "info",
        )
    elif order.status == "returned":
        _returned(ev, b, order, what)
    else:
        b.say(f"Order {order.order_id}{what} is {order.status}.", "info")


def _worn(ev: Evidence, q: AskedQuestion, b: Builder) -> None:
    """Worn gear inside the window: the rule for worn items, not a "yes".

    The warranty follows when they say it is damaged ("wore them twice and now they leak").

    The store's worn-items rule is about shoes; for anything else the returns rule says
    which items may go back ("Unworn items can be returned...").
    """
    shoes = any(p.category.startswith("footwear") for p in ev.order_products)
    rule = knowledge_for(ev, "worn" if shoes else "returns", ev.text)
    if rule is not None:
        chunk, sentences = rule
        b.chunk(chunk, sentences[:1] if shoes else chunk.sentences()[:1])
    if "warranty" in q["topics"]:
        cover = knowledge_for(ev, "warranty", ev.text)
        if cover is not None:
            b.chunk(*cover)
    b.status = "info" if rule is not None else "unknown"


def _returned(ev: Evidence, b: Builder, order: Order, what: str) -> None:
    """An order sent back: say so, and when its refund comes, in the store's own words."""
    b.say(f"Order {order.order_id}{what} is marked as returned on our side.", "info")
    timing = _refund_timing(ev)
    if timing is not None:
        b.chunk(*timing)


_REFUND = re.compile(r"\brefund", re.IGNORECASE)
_DURATION = re.compile(r"\b\d+(?:\s?-\s?\d+)?\s+(?:business\s+)?(?:days?|weeks?|hours?)\b", re.I)
_REFUND_ASKED = "how long until my refund comes back once my return has arrived"


def _refund_timing(ev: Evidence) -> tuple[Chunk, list[str]] | None:
    """The knowledge sentence that says how long a refund takes, if the documents say."""
    found = [
        (chunk, s)
        for chunk in ev.knowledge.chunks
        if "returns" in chunk.topics
        for s in chunk.sentences()
        if _REFUND.search(s) and _DURATION.search(s)
    ]
    if not found:
        return None
    # The return window sentence also names a refund and days: the one that reads as the
    # refund's own timing is taken.
    best = ranked(replace(ev, text=_REFUND_ASKED), [s for _, s in found], most=1)[0][0]
    chunk = next(c for c, s in found if s == best)
    return chunk, [best]


_SWAP_TO = re.compile(
    r"\b(?:for|to|into)\s+(?:an?\s+|the\s+)?(?:size\s+|sz\s+)?"
    r"(\d{1,2}(?:\.5)?|xxs|xs|xxl|xl|s|m|l|small|medium|large)\b(?![-/.]\d)",
    re.IGNORECASE,
)
_SIZE_NAMES = {"small": "S", "medium": "M", "large": "L"}


def _exchange_stock(ev: Evidence, b: Builder) -> None:
    """For "can i swap for a 10.5?": whether the ordered product has that size in stock."""
    said = _SWAP_TO.search(ev.text)
    if said is None or not ev.order_products:
        return
    size = _SIZE_NAMES.get(said.group(1).lower(), said.group(1).upper())
    product = b.use(ev.order_products[0])
    colour = colourway(product)
    if size not in product.sizes:
        b.say(f"The {model_of(product.title)} isn't made in a {size}.")
    elif size in product.sizes_in_stock:
        b.say(f"The {size} is in stock in {colour}.")
    else:
        b.say(f"The {size} is sold out in {colour} right now.")


_WORD = re.compile(r"[a-z0-9]+")
# Words of a title that name no one product: the line, and joining words.
_NAMES_NOTHING = frozenset(
    {"men", "mens", "women", "womens", "unisex", "the", "and", "with", "for", "mid", "low", "one"}
)


def _stems(text: str) -> set[str]:
    """A text's words, plurals as their singular: "switchbacks" -> "switchback"."""
    return {stem(w) for w in _WORD.findall(re.sub(r"['’]s\b", "", text.lower()))}


def order_named(
    text: str, orders: Sequence[Order], products: Mapping[str, Product]
) -> tuple[Order, list[Product], bool] | None:
    """The order holding the product the text names ("the switchbacks i got"), if any.

    Each product of each order is matched on the words of its model and kind ("Switchback
    Mid Waterproof Hiker", "hiking boots"): a number alone ("a 10.5" against "Stride 5")
    names nothing. The most words win; on a tie, the most recent order. Returns the order,
    its products (the named one first) and whether a word of the model's own name was
    said: "my boots" names only a kind, which another model ("the summit boots") may be.
    """
    said = _stems(text)
    best: tuple[tuple[int, int], Order, Product, bool] | None = None
    for order in orders:
        for item in order.item_ids:
            product = products.get(item)
            if product is None:
                continue
            name = _stems(model_of(product.title)) - _NAMES_NOTHING
            name -= _stems(product.brand)  # "trailhead" names the store, not its daypack
            kind = _stems(product.category.rsplit("/", 1)[-1]) - _NAMES_NOTHING
            words = (name | kind) & said
            score = (sum(not w.isdigit() for w in words), sum(w.isdigit() for w in words))
            if score[0] and (best is None or score > best[0]):
                by_name = any(not w.isdigit() for w in name & said)
                best = (score, order, product, by_name)
    if best is None:
        return None
    _, order, named, by_name = best
    rest = [products[i] for i in order.item_ids if i in products and i != named.id]
    return order, [named, *rest], by_name


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
    if order.status == "delivered" and q["topic"] == "exchanges":
        # "can i still swap the boots for a 10.5?" once they have arrived: an exchange.
        order_return(ev, q, b)
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
