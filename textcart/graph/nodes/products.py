"""Which products the turn is about, whether the asked one fits, and the answer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

from langgraph.runtime import Runtime

from textcart.answers.question import COLOUR_PRICE, goes_on, read_question
from textcart.answers.turn import answer_turn
from textcart.deciders.fit import llm_fit
from textcart.graph.context import Context
from textcart.graph.named import (
    asked_part,
    card,
    described_product,
    line_said,
    listed_before,
    named_product,
    owned_named,
    version_named,
)
from textcart.graph.nodes.common import (
    decide_with,
    log,
    turn_time,
)
from textcart.graph.personalise import (
    CANDIDATES,
    RESULTS,
    Taste,
    affinities,
    blend,
    build_taste,
    describe,
    history_ids,
    is_open_request,
    names_product_kind,
    product_kinds,
    rerank,
)
from textcart.graph.services import Services
from textcart.graph.state import TurnState, decision_value
from textcart.rules.needs import read_conversation_needs, read_needs
from textcart.rules.references import (
    colourway_reference,
    fresh_recommendations,
    model_name,
    position_said,
    resolve_reference,
)
from textcart.tools.catalog import Catalog, ProductHit, SearchFilters
from textcart.tools.orders import OneOrder
from textcart.vocabulary.answers import PRODUCT_KINDS
from textcart.vocabulary.labels import INTENTS
from textcart.vocabulary.outputs import FitResult
from textcart.vocabulary.records import (
    ProductCard,
    Recommended,
    ShopperContext,
)

# Intents about an order or the relationship, not about products: no catalog search.
SERVICE_INTENTS = frozenset(INTENTS) - {
    "product_question",
    "recommendation_request",
    "purchase_intent",
    "price_or_discount",
    "other",
}


# --- products ---------------------------------------------------------------------------


# "it", "these", or what they looked at: "is the shoe i looked at on sale?"
_PRONOUN = re.compile(
    r"\b(it|these|this one|those|them|that one)\b|"
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


_CATEGORY_WORD = re.compile(r"[a-z]{3,}")


def _asks_about_discussed(text: str) -> bool:
    """A question about one product that names none: "what's the drop?", "in a 9?"."""
    question = read_question(text)
    if question is None:
        # "and the womens version?": the question before, about the product discussed.
        return goes_on(text) and not names_product_kind(text)
    return (
        question["kind"] in PRODUCT_KINDS - {"comparison", "suitability"}
        and not names_product_kind(text)
        # "is the sky blue one any cheaper" asks about this product's colourway.
        and (not _RECOMMEND_WORDS.search(text) or COLOUR_PRICE.search(text) is not None)
    )


def _earlier_texts(state: TurnState) -> list[str]:
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


EMPTY_CATALOG_NOTE = "catalog is empty: load one with `textcart catalog load FILE`"


async def _catalog_is_empty(catalog: Catalog) -> bool:
    try:
        return await catalog.count() == 0
    except Exception:  # noqa: BLE001 - unknown is not empty
        return False


_Search = tuple[str, Taste, float, list[ProductHit]]


async def _search(
    catalog: Catalog,
    services: Services,
    shopper: ShopperContext,
    query: str,
    said_size: str | None,
    filters: SearchFilters,
    history_read: Awaitable[dict[str, ProductHit]],
    open_request: bool,
) -> _Search | None:
    """The turn's main search, shaped by the shopper's history: (query, taste, weight, hits).

    None when there is nothing to search for (no text and no history).
    """
    taste = build_taste(shopper, await history_read, said_size)
    if not query and taste.history_titles:
        query = taste.history_titles[0]
    if not query:
        return None
    query_vector = await asyncio.to_thread(services.embedder.embed_query, query)
    search_vector, weight = blend(query_vector, taste, open_request)
    hits = await catalog.search(
        query, search_vector, filters, limit=CANDIDATES, include_vector=True
    )
    return query, taste, weight, hits


async def retrieve_products(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Search the catalog (hybrid BM25 + vectors), personalised, within hard constraints.

    Hard constraints (in stock, a size said in the conversation, the budget, nothing
    already bought) are Weaviate filters. Inside them the shopper's history shapes the
    search: see `textcart.graph.personalise`. "The first one" or "the cheaper one" names a
    product the store recommended last (`textcart.rules.references`). Weaviate being down
    never fails the turn: the reply goes out without products and the next turn reconnects.
    """
    intent = decision_value(state, "intent", "other")
    question = read_question(state.get("text"))
    if intent in SERVICE_INTENTS and not (question and question["kind"] in PRODUCT_KINDS):
        # A question about a product is searched for whatever the intent decider said.
        return {
            "products": [],
            "retrieval_note": f"no product search for {intent}",
            "personalisation": None,
        }
    # "do the cleats go over hiking boots": searched for the cleats only.
    shopper, text = state["shopper"], asked_part(state.get("text") or "")
    needs, sources = read_conversation_needs(text, _earlier_texts(state), shopper["preferences"])
    said_size = None
    if sources["size"] == "earlier text":
        # A size said earlier may be for another kind of product: a preference, not a need.
        said_size, needs["size"], sources["size"] = needs["size"], None, None
    notes: list[str] = []
    open_request = is_open_request(text)
    now, recommended = turn_time(state), state.get("recommended")
    colourway = colourway_reference(text, recommended, now)
    reference = resolve_reference(text, recommended, now)
    about_discussed = bool(text) and (_asks_about_discussed(text) or bool(_PRONOUN.search(text)))
    discussed = fresh_recommendations(recommended, now) if about_discussed else []
    history_read: asyncio.Task[dict[str, ProductHit]] | None = None
    searched: asyncio.Task[_Search | None] | None = None
    catalog: Catalog | None = None
    try:
        catalog = await services.catalog(runtime.context.catalog_collection)
        # The shopper's own products are read while the text is searched: one round trip
        # less to wait for.
        history_read = asyncio.create_task(catalog.get_many_with_vectors(history_ids(shopper)))
        filters = SearchFilters(
            in_stock_only=True,
            max_price=needs["budget_max"],
            size=needs["size"],
            exclude_ids=list(shopper["purchased_ids"]),
        )
        if text and not (_PRONOUN.search(text) or colourway or reference or discussed):
            # Nothing but the text itself can change the query (no pronoun, no reference to
            # what the store sent): the main search runs beside the one that names a product.
            searched = asyncio.create_task(
                _search(
                    catalog, services, shopper, text, said_size, filters, history_read, open_request
                )
            )
        asked: ProductCard | None = None
        if text:
            asked = await named_product(
                catalog, text, shopper, history_read, earlier=_earlier_texts(state)
            )
        if asked is None and text and (last_shown := fresh_recommendations(recommended, now)):
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
        if asked is None and colourway:
            asked = await _same_model_in(catalog, services, *colourway[1:])
            if asked is not None:
                notes.append(f"{colourway[0]!r} = {asked['title']}")
        if asked is None and text and (position := position_said(text)) is not None:
            # "the second one" of the models the shopper's text before listed.
            for line in _earlier_texts(state)[:1]:
                asked = await listed_before(catalog, position, line, shopper, history_read)
                if asked is not None:
                    notes.append(f"listed before: {asked['title']}")
        if asked is None and reference:
            shown, words = reference
            # Stock and price may have changed since it was recommended: read it again.
            fresh = (await catalog.get_many([shown["id"]])).get(shown["id"])
            asked = card(fresh, 1.0) if fresh else shown
            notes.append(f"{words!r} = {asked['title']}")
        # With no product named, "it"/"these" (or a proactive turn) means what they were
        # last looking at: the cart for a cart reminder, else the last product viewed.
        focus = shopper["cart_ids"] if state.get("trigger") == "cart_abandonment" else []
        focus = focus or shopper["viewed_ids"]
        if asked is None and discussed:
            # "what's the drop?" or "in a 9?" names nothing: it is about the product the
            # store last put first, else the one they last looked at.
            fresh = (await catalog.get_many([discussed[0]["id"]])).get(discussed[0]["id"])
            asked = card(fresh, 1.0) if fresh else discussed[0]
            notes.append(f"question about {asked['title']}, discussed last")
            if (other := await line_said(catalog, text, shopper, history_read, asked)) is not None:
                asked = other
                notes.append(f"in the line said: {other['title']}")
        if asked is None and text and about_discussed and not discussed:
            # "how do i wash it" after "just grabbed the stormwall rain jacket": what the
            # texts before named, before what they last looked at.
            for line in _earlier_texts(state)[:2]:
                if (asked := await named_product(catalog, line, shopper, history_read)) is not None:
                    notes.append(f"named before: {asked['title']}")
                    break
        if (
            asked is None
            and focus
            and (not text or _PRONOUN.search(text) or _asks_about_discussed(text))
        ):
            known = await history_read
            # "that jacket": the last jacket they looked at, not the shoe after it.
            kinds = product_kinds(text)
            first = next(
                (
                    i
                    for i in focus
                    if i in known and any(k in known[i].product.category for k in kinds)
                ),
                focus[0],
            )
            recent = (
                known[first].product
                if first in known
                else (await catalog.get_many([first])).get(first)
            )
            asked = card(recent, 1.0) if recent else None
        query = text
        if asked is not None and (not query or _PRONOUN.search(query) or notes):
            # A proactive turn, "do these come in blue?" or "is the first one warm?":
            # search around the product they mean.
            query = f"{query} {asked['title']}".strip()
        if searched is not None and query == text:
            result = await searched
        else:
            result = await _search(
                catalog, services, shopper, query, said_size, filters, history_read, open_request
            )
        if result is None:
            return {
                "products": [],
                "retrieval_note": "nothing to search for",
                "personalisation": None,
            }
        query, taste, weight, hits = result
    except Exception as exc:  # noqa: BLE001 - any catalog failure degrades to "no products"
        log.warning("catalog unavailable, answering without products: %r", exc)
        if catalog is not None:
            services.catalog_failed(catalog)
        return {
            "products": [],
            "retrieval_note": f"catalog unavailable: {type(exc).__name__}",
            "personalisation": None,
        }
    finally:
        for task in (history_read, searched):
            if task is not None and not task.done():
                task.cancel()
            elif task is not None and not task.cancelled():
                task.exception()  # a failure already handled above is not logged twice
    if not hits and await _catalog_is_empty(catalog):
        log.warning("the catalog %r is empty: nothing to recommend or answer from", catalog.name)
        return {
            "products": [],
            "retrieval_note": EMPTY_CATALOG_NOTE,
            "personalisation": None,
        }
    affinity = affinities(hits, taste)
    ranked = rerank(hits, taste, text, open_request, affinity)
    kinds = product_kinds(text)
    if kinds:
        # "trail running shoes" are shoes: products of that kind first, gaiters after; and
        # among shoes, "road running" ones before trail ones when the text says "road".
        # Only among products of the kind: "a beanie or running cap" ranks no running shoe
        # above the caps for its word "running".
        kind_words = set(_CATEGORY_WORD.findall(text.lower()))

        def order(pair: tuple[ProductHit, float]) -> tuple[bool, int]:
            category = pair[0].product.category
            if not any(k in category for k in kinds):
                return True, 0
            return False, -len(kind_words & set(_CATEGORY_WORD.findall(category)))

        ranked.sort(key=order)
    ranked = ranked[:RESULTS]
    found = described_product(text, [h.product for h in hits]) if asked is None else None
    if found is not None:
        # "the carbon plate racers": no name said, but one model fits the description.
        asked = card(found, 1.0)
        notes.append(f"described: {found.title}")
    cards = [card(hit.product, score) for hit, score in ranked]
    if asked is not None and all(c["id"] != asked["id"] for c in cards):
        cards.insert(0, asked)
    said = ", ".join(f"{k.removesuffix('_max')} from {v}" for k, v in sources.items() if v)
    note = (
        f"{len(cards)} products for {query!r}; budget {needs['budget_max']}, size "
        f"{needs['size']}{f' ({said})' if said else ''}; "
        + "; ".join([*notes, describe(taste, weight, open_request, runtime.context.currency)])
    )
    return {
        "products": cards,
        "asked_product_id": asked["id"] if asked else None,
        "needs": needs,
        "retrieval_note": note,
        "personalisation": taste.record(
            weight,
            {c["id"]: affinity[c["id"]] for c in cards if c["id"] in affinity},
            taste.closest_viewed([hit for hit, _ in ranked]),
        ),
    }


def _shown_order(candidates: list[ProductCard], fit: FitResult) -> list[ProductCard]:
    """The products in the order a reply lists them: the best fit, then alternatives."""
    by_id = {p["id"]: p for p in candidates}
    alternatives = [by_id[i] for i in fit.alternative_ids if i in by_id]
    best = by_id.get(fit.best_fit_id or "")
    if best is not None and alternatives:
        return [best, *alternatives]
    return candidates[:3]


async def assess_fit(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Judge whether the product asked about is the best fit; pick alternatives and highlights.

    Whichever decider answers, its ids, prices, numbers and highlights are held to the
    candidates' catalog facts (`grounded`). The products as the reply will list them are
    remembered for the next turns ("the first one", "the cheaper one").
    """
    candidates = state.get("products") or []
    if not candidates:
        return {"fit": None}
    shopper, text = state["shopper"], state.get("text") or ""
    asked_id = state.get("asked_product_id")
    needs = state.get("needs") or read_needs(text, shopper["preferences"])
    taste = state.get("personalisation")
    decided = await decide_with(
        "fit",
        runtime,
        services,
        lambda m, meth, t: llm_fit(
            m,
            method=meth,
            timeout_s=t,
            candidates=candidates,
            asked_id=asked_id,
            needs=needs,
            shopper=shopper,
            text=text,
            taste=taste,
        ),
        lambda: services.fit.decide(candidates, asked_id, needs, shopper, text, taste),
    )
    shown = _shown_order(candidates, decided.value)
    asked = next((c for c in candidates if c["id"] == asked_id), None)
    if asked is not None:
        # The product asked about is the one being discussed: "the pink one" next means it.
        shown = [asked, *[c for c in shown if c["id"] != asked_id]]
    now = turn_time(state)
    before = state.get("recommended")
    first = before.get("first_discussed") if before else None
    if not (first and fresh_recommendations(before, now)):
        first = asked or shown[0]
    recommended = Recommended(at=now.isoformat(), products=shown, first_discussed=first)
    return {
        "fit": decided.record("fit", decided.value.model_dump(), decided.value.reason),
        "recommended": recommended,
    }


# --- the answer ---------------------------------------------------------------------------


async def find_answer(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Read what the text asks and answer it from evidence: catalog, knowledge base, order.

    The rules live in `textcart.answers`; this step only gathers what they need. The
    question and its answer are in the state (Studio shows both) and the reply says the
    answer first, whichever message type is chosen next.
    """
    shopper = state["shopper"]
    catalog: Catalog | None = None
    error: str | None = None
    try:
        catalog = await services.catalog(runtime.context.catalog_collection)
    except Exception as exc:  # noqa: BLE001 - the answer says the catalog is unavailable
        error = f"catalog unavailable: {type(exc).__name__}"
    prefs = shopper["preferences"]
    needs = state.get("needs")
    return await answer_turn(
        text=state.get("text"),
        intent=decision_value(state, "intent"),
        shopper_id=state["shopper_id"],
        asked_product_id=state.get("asked_product_id"),
        products=state.get("products") or [],
        said_size=needs["size"] if needs else None,
        preferences=prefs,
        catalog=catalog,
        catalog_error=error,
        knowledge=services.knowledge,
        embedder=services.embedder,
        orders=OneOrder(
            state["shopper_id"], *await services.orders_for(runtime.store, state["shopper_id"])
        ),
        earlier=_earlier_texts(state),
        theirs=[*shopper["cart_ids"], *shopper["viewed_ids"]],
        now=turn_time(state),
    )
