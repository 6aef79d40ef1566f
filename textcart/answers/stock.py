"""Stock, colour and price answers, from every colourway's structured fields."""

from __future__ import annotations

import re
from collections.abc import Sequence

from textcart.answers.common import (
    Builder,
    Evidence,
    as_sentence,
    colourway,
    join_names,
    model_of,
    money,
    pick,
    price_text,
    sentences_of,
    size_prices,
    size_run,
)
from textcart.answers.question import (
    COLOUR_ON_SALE,
    COLOUR_PRICE,
    COLOUR_WORDS,
    HOW_MANY_LEFT,
    SIZE_END,
    SIZES_LEFT,
)
from textcart.answers.sizing import FIT_SENTENCE, my_size, say_suggestion
from textcart.tools.catalog import Product
from textcart.vocabulary.answers import AskedQuestion


def _matches_colour(product: Product, colour: str) -> bool:
    family = COLOUR_WORDS.get(colour, colour)
    name = colourway(product).lower()
    return colour in name.split() or family in product.colors or colour in product.colors


def _in_colour(variants: Sequence[Product], colour: str, text: str = "") -> list[Product]:
    """The colourways named with that colour ("Lavender"), else those of its family.

    A colourway the text says in full comes alone: "the teal/coral ones" is Teal/Coral,
    not Glacier Teal.
    """
    said = set(re.findall(r"[a-z]+", text.lower()))
    whole = [v for v in variants if len(words := _words_of(v)) > 1 and words <= said]
    if whole:
        return whole
    named = [v for v in variants if colour in re.findall(r"[a-z]+", colourway(v).lower())]
    return named or [v for v in variants if _matches_colour(v, colour)]


def _words_of(product: Product) -> set[str]:
    return set(re.findall(r"[a-z]+", colourway(product).lower()))


def _said_first(variants: Sequence[Product], text: str) -> list[Product]:
    """Colourways the text names come first: "black? if not navy works" lists navy first."""
    said = [w for w in re.findall(r"[a-z]+", text.lower()) if w in COLOUR_WORDS]
    return sorted(variants, key=lambda v: not any(_matches_colour(v, c) for c in said))


def availability(ev: Evidence, q: AskedQuestion, b: Builder) -> None:
    """In stock in that size or colour: yes or no, and what is in stock instead.

    "How many do u have left" is answered with what is in stock, and that the count is
    not something the catalog says.
    """
    _availability(ev, q, b)
    if HOW_MANY_LEFT.search(ev.text):
        b.say("I can't see how many are left, only which sizes and colours are in stock.")


def _availability(ev: Evidence, q: AskedQuestion, b: Builder) -> None:
    product = ev.product
    assert product is not None
    variants = list(ev.variants) or [product]
    model = model_of(product.title)
    size, colour = q["size"] or _end_of_run(product, ev.text) or my_size(ev, product), q["colour"]
    for v in variants:
        b.use(v)
    chosen = _in_colour(variants, colour, ev.text) if colour else variants
    if colour and not chosen:
        b.say(
            f"The {model} doesn't come in {colour}; it comes in "
            f"{join_names([colourway(v) for v in _said_first(variants, ev.text)], 4)}.",
            "no",
        )
        return
    if size:
        made = [v for v in chosen if size in v.sizes]
        have = [v for v in chosen if size in v.sizes_in_stock]
        have.sort(key=lambda v: v.id != product.id)
        where = f" in {colourway(chosen[0])}" if colour else ""
        if have:
            b.product, b.size = have[0], size
            colours = join_names([colourway(v) for v in have])
            if not colour and product.id in ev.theirs and product not in have:
                # "u got them in a 13?" about the colourway they looked at: that one first.
                b.say(
                    f"The {model} in {colourway(product)} is sold out in {size}, but it's in "
                    f"stock in {size} in {colours}.",
                    "no",
                )
                return
            b.say(f"Yes, the {model} is in stock in {size} in {colours}.", "yes")
            if len(have) == 1 or colour:
                b.say(f"It's {size_prices(have[0], size)}.")
            return
        if not made:
            run = chosen[0].sizes
            b.say(f"The {model}{where} isn't made in {size}; it comes in {size_run(run)}.", "no")
            advice = pick(sentences_of(product), FIT_SENTENCE, 1)
            if advice:
                b.facts.extend(advice)
                b.say(as_sentence(advice[0]))
                say_suggestion(ev, b, product, advice)
            return
        b.say(f"Sorry, the {model}{where} is sold out in {size} right now.", "no")
        if _WHEN_BACK.search(ev.text):
            b.say("I don't have a restock date for it.")
        elsewhere = [v for v in variants if size in v.sizes_in_stock and v not in chosen]
        if elsewhere:
            names = join_names([colourway(v) for v in elsewhere])
            has = "has" if len(elsewhere) == 1 else "have"
            b.say(f"{names} {has} it in {size}.")
            return
        near = _nearest_sizes(chosen[0], size)
        if near:
            b.say(f"The closest sizes in stock are {' and '.join(near)}.")
        return
    in_stock = [v for v in chosen if v.in_stock and (v.sizes_in_stock or not v.sizes)]
    if in_stock:
        v = b.product = in_stock[0]
        sizes = f" in {size_run(v.sizes_in_stock, made=v.sizes)}" if v.sizes_in_stock else ""
        gone = [s for s in v.sizes if s not in v.sizes_in_stock]
        if SIZES_LEFT.search(ev.text) and v.sizes_in_stock:
            # "what sizes u got left": every size, said in full, and the ones sold out.
            sizes = f" in {join_names(v.sizes_in_stock, 20)}"
            if gone:
                verb = "is" if len(gone) == 1 else "are"
                sizes += f" only; {join_names(gone, 20)} {verb} sold out"
        b.say(f"Yes, the {model} in {colourway(v)} is in stock ({price_text(v)}){sizes}.", "yes")
        return
    target = chosen[0]
    b.say(f"Sorry, the {model} in {colourway(target)} is sold out right now.", "no")
    if _WHEN_BACK.search(ev.text):
        b.say("I don't have a restock date for it.")
    others = [v for v in variants if v.in_stock and v not in chosen]
    if others:
        b.say(f"It's in stock in {join_names([colourway(v) for v in others])}.")


def _end_of_run(product: Product, text: str) -> str | None:
    """The size "the bigger size" means: the largest of the run (the smallest for smaller)."""
    said = SIZE_END.search(text)
    if said is None or not product.sizes:
        return None
    return product.sizes[0] if said.group(1).lower().startswith("small") else product.sizes[-1]


_WHEN_BACK = re.compile(
    r"\b(when|restock\w*|back in stock|coming back|come back|get more|eta)\b", re.IGNORECASE
)


def colours(ev: Evidence, b: Builder) -> None:
    """Every colourway of the model, saying which are sold out."""
    product = ev.product
    assert product is not None
    variants = _said_first(list({v.id: v for v in [product, *ev.variants]}.values()), ev.text)
    for v in variants:
        b.use(v)
    model = model_of(product.title)
    have = [colourway(v) for v in variants if v.in_stock]
    gone = [colourway(v) for v in variants if not v.in_stock]
    if not have:
        b.say(f"The {model} is sold out in every colour right now ({join_names(gone, 6)}).", "no")
        return
    b.say(f"The {model} comes in {join_names(have, 6)}, in stock now.", "yes")
    if gone:
        b.say(f"{join_names(gone, 4)} {'is' if len(gone) == 1 else 'are'} sold out.")


def _nearest_sizes(product: Product, size: str) -> list[str]:
    try:
        wanted = float(size)
    except ValueError:
        order = ["XXS", "XS", "S", "M", "L", "XL", "XXL"]
        if size not in order:
            return []
        at = order.index(size)
        return [s for s in product.sizes_in_stock if s in order and abs(order.index(s) - at) == 1]
    numeric = []
    for s in product.sizes_in_stock:
        try:
            numeric.append((abs(float(s) - wanted), s))
        except ValueError:
            continue
    return [s for _, s in sorted(numeric)[:2]]


def price(ev: Evidence, q: AskedQuestion, b: Builder) -> None:
    """The price (that size's own when it has one), the sale, and a cheaper colourway."""
    product = ev.product
    assert product is not None
    on_sale = COLOUR_ON_SALE.search(ev.text)
    if on_sale and not _matches_colour(product, said := on_sale.group(1).lower()):
        # "the blue is way cheaper than the black... is black on sale too": the black one.
        product = next(iter(_in_colour(ev.variants, said, ev.text)), product)
    b.use(product)
    variant = product.variant(q["size"] or ev.said_size)
    size = b.size = variant.size if variant is not None else None
    now, quoted = product.price_for(size), size_prices(product, size)
    was = variant.compare_at_price if variant is not None else product.compare_at_price
    under = _UNDER.search(ev.text)
    if under:
        # "r they under 150?": yes or no first, then the price.
        limit = float(under.group(1))
        fits = now <= limit
        sale = f", on sale from {money(was, product.currency)}" if was and was > now else ""
        if not sale and _ON_SALE.search(ev.text):
            # "on sale or full price? trying to stay under 150": the sale first, then the limit.
            side = "under" if fits else "over"
            b.say(
                f"The {product.title} isn't on sale right now: it's {quoted}, {side} "
                f"{money(limit, product.currency)}.",
                "yes" if fits else "no",
            )
        else:
            b.say(
                f"{'Yes' if fits else 'No'}: the {product.title} is {quoted}{sale}.",
                "yes" if fits else "no",
            )
    elif (said := _QUOTED.search(ev.text)) and not _variant_priced(product, said.group(1)):
        # "the black featherlite shell is $89? is that right": yes or no to the price said.
        right = abs(float(said.group(1)) - now) < 0.005
        # Whether it is a sale price too: "typo or real?" is what the shopper wonders.
        sale = (
            f", on sale from {money(was, product.currency)}"
            if was and was > now
            else ", its regular price, not a sale"
        )
        b.say(
            f"{'Yes, that is right' if right else 'No'}: the {product.title} is {quoted}{sale}.",
            "yes" if right else "no",
        )
    elif was and was > now:
        b.say(
            f"The {product.title} is {quoted} right now, on sale from "
            f"{money(was, product.currency)}.",
            "yes",
        )
    elif _ON_SALE.search(ev.text):
        b.say(f"The {product.title} isn't on sale right now: it's {quoted}.", "no")
    else:
        b.say(f"The {product.title} is {quoted}.", "yes")
    # A cheaper colourway only when price is the obstacle: they asked about a sale or a
    # deal, or this one is over their budget. "how much are the ones in my cart?" is
    # answered with their price alone.
    budget = ev.preferences.get("budget_max")
    cheaper = [
        b.use(v)
        for v in ev.variants
        if v.id != product.id and v.in_stock and v.price_for(size) < now
    ]
    compared = _other_colour_priced(ev, product)
    if compared is not None:
        # "and is the brown cheaper or pricier": that colourway's price beside this one's.
        b.use(compared)
        b.say(f"The {colourway(compared)} colour is {price_text(compared, size)}.")
    elif cheaper and (_DEAL.search(ev.text) or under or (budget and now > float(budget))):
        v = min(cheaper, key=lambda p: p.price_for(size))
        b.say(f"The {colourway(v)} colour is {price_text(v, size)}.")


def _other_colour_priced(ev: Evidence, product: Product) -> Product | None:
    """The other colourway a text asks the price of against this one ("is the brown cheaper")."""
    asked = COLOUR_PRICE.search(ev.text)
    if asked is None:
        return None
    others = [v for v in _in_colour(ev.variants, asked.group(1).lower()) if v.id != product.id]
    return others[0] if others else None


# A price the shopper says back: "is $22.95??", "$89? is that right".
_QUOTED = re.compile(r"\$\s?(\d+(?:\.\d\d)?)\s*\?")


def _variant_priced(product: Product, amount: str) -> bool:
    """True when some size of the product has its own price equal to `amount`."""
    return any(abs(v.price - float(amount)) < 0.005 for v in product.variants if v.price)


_UNDER = re.compile(r"\b(?:under|below|less than|cheaper than)\s*\$?\s?(\d+(?:\.\d\d)?)", re.I)
_ON_SALE = re.compile(r"on sale|\bsale\b|discount|marked down|deal\b|cheaper", re.IGNORECASE)
# Price as the obstacle: a sale asked about, or the cheapest, or what they can afford.
_DEAL = re.compile(rf"{_ON_SALE.pattern}|cheap|lowest|least expensive|afford|budget", re.I)
