"""Which product the shopper's text is about: named, described, pointed at or discussed.

`product_asked` tries, in order: a model the text names (in the line said now or in the
texts before), a version of the product shown last ("the gtx one"), one of their own
("my parka"), one they looked at described ("the teal rain jacket"), a colourway of the
product shown ("the pink one"), a position in the shopper's own list or the store's ("the
second one"), the product discussed last ("what's the drop?"), one the texts before named,
and last what they were looking at ("it"). Each way found is said in the turn's notes, so
Studio shows why a product was taken.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from textcart.answers.question import COLOUR_PRICE, goes_on, read_question
from textcart.graph.named import (
    asking_clauses,
    card,
    described_product,
    line_said,
    listed_before,
    named_product,
    owned_named,
    version_named,
)
from textcart.graph.personalise import names_product_kind, product_kinds
from textcart.graph.services import Services
from textcart.graph.state import TurnState, turn_time
from textcart.rules.references import (
    colourway_reference,
    fresh_recommendations,
    model_name,
    position_said,
    resolve_reference,
)
from textcart.tools.catalog import Catalog, ProductHit, SearchFilters
from textcart.vocabulary.answers import PRODUCT_KINDS
from textcart.vocabulary.records import ProductCard, Recommended, ShopperContext

# "it", "these", or what they looked at: "is the shoe i looked at on sale?"
PRONOUN = re.compile(
    r"\b(it|these|this one|those|them|that one)\b|"
    # "would they be ok for that?"; "do they sell tents" speaks of the store.
    r"\bthey\b(?! (have|sell|carry|stock|ship|make|do|got)\b)|"
    # "whats the drop on that shoe": the one they were looking at.
    r"\b(that|this) (shoe|boot|jacket|shell|parka|pack|bag|sock|shirt|tee|top|hoodie|fleece|"
    r"layer|headlamp|lamp|bottle|short|pant|tight|sandal|cap|hat|glove|vest)s?\b|"
    r"\b(i|we) (just |was |were |been )*(looked at|looking at|viewed|saw|checked out|liked|"
    r"carted)\b|"
    r"\b(in|from) my (cart|basket|bag)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z0-9]+")
# How far back a budget or size the shopper said still holds.
_CONVERSATION_SPAN = timedelta(hours=24)
_CONVERSATION_LINES = 12


_RECOMMEND_WORDS = re.compile(
    r"\b(any(thing|one)?|something|other|others|else|recommend|suggest|options?|cheaper|"
    r"alternatives?|similar|instead)\b",
    re.IGNORECASE,
)


def asks_about_discussed(text: str) -> bool:
    """A question about one product that names none: "what's the drop?", "in a 9?"."""
    question = read_question(text)
    if question is None:
        # "and the womens version?": the question before, about the product discussed.
        return goes_on(text) and not names_product_kind(text)
    # "how heavy r the womens ones? my old boots felt like bricks": the sentence that asks
    # names no kind of product; the boots are theirs.
    return (
        question["kind"] in PRODUCT_KINDS - {"comparison", "suitability"}
        and not names_product_kind(asking_clauses(text))
        # "is the sky blue one any cheaper" asks about this product's colourway.
        and (not _RECOMMEND_WORDS.search(text) or COLOUR_PRICE.search(text) is not None)
    )


def earlier_texts(state: TurnState) -> list[str]:
    """The shopper's earlier texts of this conversation (within a day), newest first."""
    now = turn_time(state)
    lines = state.get("transcript", [])[:-1] if state.get("text") is not None else []
    earlier = []
    for line in reversed(lines[-_CONVERSATION_LINES:]):
        try:
            at = datetime.fromisoformat(line["at"])
        except ValueError:
            continue
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
        if line["role"] == "shopper" and now - at <= _CONVERSATION_SPAN:
            earlier.append(line["text"])
    return earlier


async def _same_model_in(
    catalog: Catalog, services: Services, colour: str, model: str
) -> ProductCard | None:
    """The colourway of `model` named `colour`, from the catalog (in stock or not)."""
    query = f"{model} {colour}"
    vector = await asyncio.to_thread(services.embedder.embed_query, query)
    for hit in await catalog.search(query, vector, SearchFilters(in_stock_only=False), limit=10):
        title = hit.product.title
        if model_name(title) == model and colour in title.rsplit("—", 1)[-1].lower().split():
            return card(hit.product, hit.score)
    return None


@dataclass(frozen=True)
class Pointers:
    """What the text points at among the products the store showed last."""

    shown: list[ProductCard]  # the store's last recommendations, while fresh
    colourway: tuple[str, str, str] | None  # "the pink one": (words, colour, model)
    reference: tuple[ProductCard, str] | None  # "the second one", "the cheaper one"
    discussed: list[ProductCard]  # what a question naming nothing is about
    about_discussed: bool  # the text asks about a product it does not name

    @property
    def anything(self) -> bool:
        """True when the text points at something shown or discussed."""
        return bool(self.colourway or self.reference or self.discussed)


def pointers(text: str, recommended: Recommended | None, now: datetime) -> Pointers:
    """Read what the text points at (no catalog needed)."""
    about = bool(text) and (asks_about_discussed(text) or bool(PRONOUN.search(text)))
    shown = fresh_recommendations(recommended, now)
    return Pointers(
        shown=shown,
        colourway=colourway_reference(text, recommended, now),
        reference=resolve_reference(text, recommended, now),
        discussed=shown if about else [],
        about_discussed=about,
    )


async def product_asked(
    catalog: Catalog,
    services: Services,
    state: TurnState,
    text: str,
    shopper: ShopperContext,
    history_read: Awaitable[dict[str, ProductHit]],
    pointed: Pointers,
) -> tuple[ProductCard | None, list[str]]:
    """The product the text is about (None if none), and how it was found."""
    notes: list[str] = []
    earlier = earlier_texts(state)
    asked: ProductCard | None = None
    if text:
        asked = await named_product(catalog, text, shopper, history_read, earlier=earlier)
    if asked is None and text and (last_shown := pointed.shown):
        # "how is the gtx one different?" after the Ridgeline: the Ridgeline GTX.
        asked = await version_named(catalog, text, shopper, history_read, last_shown[0])
        if asked is not None:
            notes.append(f"a version of {last_shown[0]['title']} = {asked['title']}")
    if asked is None and text:
        # "how do i wash my parka": the parka they bought.
        asked = await owned_named(text, shopper, history_read)
        if asked is not None:
            notes.append(f"theirs: {asked['title']}")
    if asked is None and text:
        # "the teal rain jacket, is it still marked down?": described, among what they
        # looked at, before "it" is taken for the last thing viewed; found even when the
        # search (held to their budget) no longer returns it.
        looked_at = (await history_read).values()
        mine = described_product(text, [h.product for h in looked_at], theirs=True)
        if mine is not None:
            asked = card(mine, 1.0)
            notes.append(f"described, theirs: {mine.title}")
    if asked is None and pointed.colourway:
        asked = await _same_model_in(catalog, services, *pointed.colourway[1:])
        if asked is not None:
            notes.append(f"{pointed.colourway[0]!r} = {asked['title']}")
    if asked is None and text and earlier and (position := position_said(text)) is not None:
        # "the second one" of the models the shopper's text before listed.
        asked = await listed_before(catalog, position, earlier[0], shopper, history_read)
        if asked is not None:
            notes.append(f"listed before: {asked['title']}")
    if asked is None and pointed.reference:
        shown, words = pointed.reference
        # Stock and price may have changed since it was recommended: read it again.
        fresh = (await catalog.get_many([shown["id"]])).get(shown["id"])
        asked = card(fresh, 1.0) if fresh else shown
        notes.append(f"{words!r} = {asked['title']}")
    # With no product named, "it"/"these" (or a proactive turn) means what they were
    # last looking at: the cart for a cart reminder, else the last product viewed.
    focus = shopper["cart_ids"] if state.get("trigger") == "cart_abandonment" else []
    focus = focus or shopper["viewed_ids"]
    if asked is None and text and pointed.about_discussed:
        # "how heavy r the womens ones?" after "quick q about the summit gtx boots": the
        # model the shopper named last, before what the store showed since; with nothing
        # shown, the text before that too ("how do i wash it" after "just grabbed the
        # stormwall rain jacket"), before what they last looked at.
        for line in earlier[: 1 if pointed.discussed else 2]:
            if (asked := await named_product(catalog, line, shopper, history_read)) is not None:
                notes.append(f"named in a text before: {asked['title']}")
                break
        if asked is None and pointed.discussed:
            # "what's the drop?" or "in a 9?" names nothing: it is about the product the
            # store last put first, else the one they last looked at.
            last = pointed.discussed[0]
            fresh = (await catalog.get_many([last["id"]])).get(last["id"])
            asked = card(fresh, 1.0) if fresh else last
            notes.append(f"question about {asked['title']}, discussed last")
        if asked is not None:
            # "and the womens version?": the same model in the line said.
            other = await line_said(catalog, text, shopper, history_read, asked)
            if other is not None:
                asked = other
                notes.append(f"in the line said: {other['title']}")
    if asked is None and focus and (not text or pointed.about_discussed):
        known = await history_read
        # "that jacket": the last jacket they looked at, not the shoe after it.
        kinds = product_kinds(text)
        first = next(
            (i for i in focus if i in known and any(k in known[i].product.category for k in kinds)),
            focus[0],
        )
        recent = (
            known[first].product if first in known else (await catalog.get_many([first])).get(first)
        )
        asked = card(recent, 1.0) if recent else None
    return asked, notes
