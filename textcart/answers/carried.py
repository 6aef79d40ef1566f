"""What the store carries and offers, by its catalog's and documents' own words.

"do u guys carry tents?" is answered "we don't carry tents" only when no product's title,
category or tags say tent; "do u do gift wrapping?" is answered from the store's documents
only when a section speaks of it. Keyword checks, so a wrong "we don't sell that" can be
traced to the words that were missing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from textcart.answers.knowledge import KnowledgeBase
from textcart.tools.catalog import Catalog
from textcart.tools.catalog_words import holds_any_word, matches_all_words

# Words that say nothing about which product is meant ("do you sell ...", "got any ...").
FILLER = frozenset(
    """
    do does did you your u ur we our i i'm im me my a an the is are was were be can could
    would will sell carry have has got get any anything some something stock stocked make
    made offer please pls plz hey hi hello ok okay so there here what whats what's which how
    much many
    about looking for need want buy find see kind type sort of in on at to with and or it
    they them this that these those one ones thing things still yet also too just really
    size sizes color colour colors colours available price cost
    under below less than over above max budget around cheap cheaper dollars bucks usd
    guys yall y'all folks rn lol
    """.split()
)
WORD = re.compile(r"[a-z][a-z'-]+")


SERVICE_ASK = re.compile(
    r"\b(?:do|does|can|could|will)\s+(?:u|you|ya|y'?all|you guys|u guys|the store)\s+"
    r"(?:do|offer|provide)\s+(?:any\s+)?([a-z][a-z' -]*?)\s*(?:[?.,!;:]|\bfor\b|$)",
    re.IGNORECASE,
)


def documents_mention(knowledge: KnowledgeBase, words: Sequence[str]) -> bool:
    """Whether one section of the store's documents holds every word (endings aside)."""
    stems = [w[:5] for w in words]
    return any(
        all(stem in chunk.text.lower() or stem in chunk.heading.lower() for stem in stems)
        for chunk in knowledge.chunks
    )


_CARRY = re.compile(
    # "i have wide feet" says what the shopper has, not what the store might.
    r"(?:\b(?:carry|sell|stock|(?<!\bi )(?<!\bwe )(?<!\bi've )have|(?<!\bi )(?<!\bi've )got|"
    r"need|needs|want|"
    r"(?:looking|lookin|searching|shopping) for)\s+"
    # "any bike helmets?": "any" and a plural, opening a sentence.
    r"|(?:^|[.!?]\s*)(?=any\s+(?:[a-z'-]+\s+){0,2}[a-z'-]+s\b))"
    # "a 2 person tent": a head count may come before the kind.
    r"(any\s+|an?\s+|some\s+)?((?:\d+\s*-?\s*(?:person|people|man|p)\s+)?[a-z][a-z' -]*?)"
    r"\s*(?:[?.,!;:]|\bfor\b|\bin\b|\bunder\b|"
    r"\bwith\b|\bw/|\bthat\b|\bwhich\b|\blike\b|\brated\b|\bto\b|\bi\b|\bgood\b|"
    r"\bgreat\b|\bwhat\b|$)",
    re.IGNORECASE,
)
_COUNT = re.compile(r"^\d+\s*-?\s*(?:person|people|man|p)\b")
# Words that describe what is wanted rather than name a kind of product ("need a warm one").
_NOT_A_KIND = frozenset(
    """
    warm warmer light lighter waterproof good great best nice new cheap comfy comfortable
    big bigger small smaller cool breathable durable wide narrow long short black white
    help info advice gift present feet foot
    """.split()
)
# What "do you have ..." asks about when it is not a kind of product.
_SERVICE_WORDS = frozenset(
    """
    order orders package delivery refund refunds return returns exchange code codes coupon
    coupons promo promos discount discounts deal deals sale sales gift card cards store stores
    shop location locations hours number phone link website account question questions time
    shipping free sizes colors colours options stock left info information pics pictures
    photos reviews rating ratings warranty policy recommendation recommendations suggestions
    """.split()
)


def asked_for(text: str) -> tuple[str, str] | None:
    """(article, words) of what a "do you sell/carry/need X" text asks for, if it asks.

    "need a 2 person tent for yosemite" -> ("a", "tent"): the head count is not the kind.
    """
    said = _CARRY.search(text)
    if said is None:
        return None
    return (said.group(1) or "").strip().lower(), _COUNT.sub("", said.group(2).lower()).strip()


async def not_carried(catalog: Catalog, text: str) -> str | None:
    """The kind of product a "do you sell/carry X" text asks for, when no product is one."""
    said = asked_for(text)
    if said is None:
        return None
    article, phrase = said
    if re.match(r"(some|any|no)(thing|one)\b", phrase):
        # "something warm" describes what they want, it names no kind of product.
        return None
    words = [w for w in WORD.findall(phrase) if w not in FILLER]
    if not words or len(words) > 4 or any(w in _SERVICE_WORDS for w in words):
        return None
    if words[-1] in _NOT_A_KIND or re.search(r"\b(it|them)$", phrase):
        # "dont want to shrink it": something to do to a product, not a kind of one.
        return None
    if article in ("a", "an") and not words[-1].endswith("s"):
        # "a sleeping bag" is a kind of product: said as a kind, "sleeping bags".
        words[-1] += "s"
    singular = [w.removesuffix("s") if len(w) > 3 else w for w in words]
    for query in dict.fromkeys([" ".join(words), " ".join(singular), singular[-1]]):
        if await matches_all_words(catalog, query, names_only=True):
            return None
    return " ".join(words)


async def sells_anything_like(catalog: Catalog, text: str) -> bool:
    """Whether any catalog product shares a telling word with the text (keywords only)."""
    words = [
        w
        for w in WORD.findall(text.lower())
        if w not in FILLER and len(w) > 2 and not w.isdigit()  # "under $120" is a budget
    ]
    if not words or len(words) > 3:
        # Nothing telling, or a description of a need ("nurse here, on my feet 12 hr
        # shifts") rather than the name of a kind of product: not a "we don't sell that".
        return True
    singular = [w.removesuffix("s") if len(w) > 3 else w for w in words]
    for query in dict.fromkeys([" ".join(words), " ".join(singular)]):
        if await matches_all_words(catalog, query):
            return True
    return False


def kind_named(text: str) -> str | None:
    """The kind of product a short ask names, as a plural, for "we don't carry ...".

    "need a bike helmet" -> "bike helmets"; None when the words may be a model's name or
    describe a need.
    """
    words = [w for w in WORD.findall(text.lower()) if w not in FILLER and len(w) > 2]
    if not words or len(words) > 3 or words[-1].endswith(("ing", "ly", "ed", "'s")):
        return None
    last = words[-1]
    if not last.endswith("s"):
        # "a bike helmet" says a kind of thing; a lone "ridgemax" may be a model we lack.
        if not re.search(rf"\ban?\s+(?:[a-z'-]+\s+){{0,2}}{re.escape(last)}\b", text, re.I):
            return None
        words[-1] = last + "s"
    return " ".join(words)


# Children's gear: "my 8 yr old", "for the kids" (not "baby blue", not a girls' trip).
_KIDS = re.compile(
    r"\b(?:kids?|kiddos?|children|child|toddlers?|youth|juniors?|little ones?|"
    r"(\d{1,2})[- ]?(?:yr|year)s?[- ]?old)\b",
    re.IGNORECASE,
)
_KIDS_WORDS = ["kid", "kids", "youth", "junior", "children", "child", "toddler"]


async def no_kids_range(catalog: Catalog, text: str) -> bool:
    """Whether the text asks for children's gear and no product is made for children."""
    said = _KIDS.search(text)
    if said is None or (said.group(1) and int(said.group(1)) >= 13):
        return False
    return not await holds_any_word(catalog, _KIDS_WORDS)
