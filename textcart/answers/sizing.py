"""Fit and sizing answers: the product's own fit notes, and the size they point to."""

from __future__ import annotations

import re
from collections.abc import Sequence

from textcart.answers.common import (
    Builder,
    Evidence,
    claim,
    colourway,
    join_names,
    knowledge_for,
    model_of,
    pick,
    sentences_of,
    unknown,
)
from textcart.tools.catalog import Product
from textcart.vocabulary.answers import AskedQuestion

FIT_SENTENCE = re.compile(
    r"true to size|runs? (small|large|big|narrow)|size (up|down)|between sizes|snug|roomy|"
    r"trim fit|relaxed fit|regular fit|wide[- ]fit|toe box|\bcut\b|order .* sizes? (down|up)|"
    r"unisex sizing|fits (most|over)|room for|torsos?\b|\bchoose \S+ for\b",
    re.IGNORECASE,
)


# "my size", "my usual", "my normal size": the size they saved (or said before).
MY_SIZE = re.compile(r"\bmy (?:(?:usual|normal|regular)(?: (?:size|sz))?|size|sz)\b", re.IGNORECASE)


def my_size(ev: Evidence, product: Product) -> str | None:
    """The shopper's own size when the text says "my size": said before, else saved."""
    if not MY_SIZE.search(ev.text):
        return None
    usual = "shoe_size" if product.category.startswith("footwear") else "apparel_size"
    size = ev.said_size or ev.preferences.get(usual)
    return str(size) if size else None


def suggested_size(
    product: Product,
    text: str,
    notes: Sequence[str],
    own_size: str | None = None,
    line: str | None = None,
) -> str | None:
    """The size the product's own sizing note points to for the sizes the shopper said.

    "between a 9 and 9.5" with "go up half a size" -> 9.5; a 9.5 with "whole sizes only;
    size up" -> 10; a women's 8.5 with "women usually order 1.5 sizes down" -> 7. Only a
    size in the product's size run is suggested. Without a size in the text, `own_size`
    (the one "my usual" means) is used; `line` is the line they shop ("women").
    """
    advice = " ".join(notes).lower()
    if torso := _torso_size(product, text, advice):
        return torso
    said = re.findall(r"(?<![\d.$])(\d{1,2}(?:\.5)?)(?![\d%])", text)
    if not said and own_size and re.fullmatch(r"\d{1,2}(?:\.5)?", own_size):
        said = [own_size]

    def in_run(value: float) -> str | None:
        size = f"{value:g}"
        return size if size in product.sizes else None

    if len(said) >= 2 and re.search(r"between", text, re.IGNORECASE):
        low, high = sorted(float(x) for x in said[:2])
        if re.search(r"go up|size up", advice):
            return in_run(high)
        if re.search(r"go down|size down", advice):
            return in_run(low)
    if not said:
        return None
    size = float(said[0])
    shift = re.search(r"women usually order (\d(?:\.5)?) sizes? (down|up)", advice)
    for_someone_else = re.search(
        r"\b(men'?s|mens|him|his|he|bf|boyfriend|husband|hubby|dad|son|brother)\b", text, re.I
    )
    womens = re.search(r"\bwom[ae]n", text, re.IGNORECASE) or (
        line == "women" and not for_someone_else
    )
    if shift and womens:
        step = float(shift.group(1))
        return in_run(size - step if shift.group(2) == "down" else size + step)
    if size % 1 and re.search(r"half size, size up|whole sizes only", advice):
        return in_run(size + 0.5)
    return None


_TORSO_RULE = re.compile(r"choose (\S+) for torsos? (under|over) (\d+)")
_TORSO_SAID = re.compile(
    r"torso\D{0,20}(\d{2}(?:\.\d)?)|(\d{2}(?:\.\d)?)\s*(?:in|inch|inches|\")\W{0,3}torso", re.I
)


def _torso_size(product: Product, text: str, advice: str) -> str | None:
    """A pack size from the torso length said and the product's rule ("S/M for under 18")."""
    rule, said = _TORSO_RULE.search(advice), _TORSO_SAID.search(text)
    if rule is None or said is None:
        return None
    size, side, bound = rule.group(1).upper(), rule.group(2), float(rule.group(3))
    length = float(said.group(1) or said.group(2))
    sizes = [s.upper() for s in product.sizes]
    if size not in sizes:
        return None
    fits = length < bound if side == "under" else length > bound
    if fits:
        return product.sizes[sizes.index(size)]
    others = [s for s in product.sizes if s.upper() != size]
    return others[0] if len(others) == 1 else None


def say_suggestion(ev: Evidence, b: Builder, product: Product, notes: Sequence[str]) -> bool:
    """Say the size the notes point to and whether it is in stock; False when none."""
    line = ev.preferences.get("shoe_line")
    size = suggested_size(product, ev.text, notes, my_size(ev, product), line)
    if size is None:
        return False
    in_size = [v for v in (ev.variants or [product]) if size in v.sizes_in_stock]
    for v in in_size:
        b.use(v)
    stock = (
        f" It's in stock in {join_names([colourway(v) for v in in_size])}."
        if in_size
        else " It's sold out in every colour right now."
    )
    b.say(f"So go with a {size}.{stock}")
    return True


def fit(ev: Evidence, q: AskedQuestion, b: Builder) -> None:
    """How it fits, from the fit notes (else the sizing guide), and the size said in stock."""
    product = b.use(ev.product)  # type: ignore[arg-type]
    notes = pick(sentences_of(product), FIT_SENTENCE)
    width = re.search(r"\b(wide|narrow)\b", ev.text, re.IGNORECASE)
    if width and not any(width.group(1).lower() in n.lower() for n in notes):
        # Asked about a width the product text never mentions: say so, then what it does say.
        b.say(
            f"The {model_of(product.title)} isn't listed in a {width.group(1).lower()} fit.", "no"
        )
    if notes:
        b.facts.extend(notes)
        b.say(claim(product, notes), "info")
        if say_suggestion(ev, b, product, notes):
            return
    else:
        guide = knowledge_for(ev, "sizing", f"{product.category} sizing fit")
        if guide is None:
            unknown(b, f"fit notes for the {model_of(product.title)}")
            return
        chunk, sentences = guide
        b.say(f"The product info has no fit notes for the {model_of(product.title)}.")
        b.chunk(chunk, sentences[-1:])
    usual = "shoe_size" if product.category.startswith("footwear") else "apparel_size"
    size = q["size"] or ev.said_size or ev.preferences.get(usual)
    if size and product.sizes:
        in_size = [v for v in (ev.variants or [product]) if size in v.sizes_in_stock]
        for v in in_size:
            b.use(v)
        if in_size:
            b.say(f"It's in stock in {size} in {join_names([colourway(v) for v in in_size])}.")
        elif size in product.sizes:
            b.say(f"It's sold out in {size} in every colour right now.")
