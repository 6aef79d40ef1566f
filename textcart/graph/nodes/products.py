"""Which products the turn is about, whether the asked one fits, and the answer."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable
from typing import Any

from langgraph.runtime import Runtime

from textcart.answers.question import read_question
from textcart.answers.turn import answer_turn
from textcart.deciders.fit import llm_fit
from textcart.graph.asked import PRONOUN, earlier_texts, pointers, product_asked
from textcart.graph.context import Context
from textcart.graph.named import (
    asked_part,
    card,
    described_product,
)
from textcart.graph.nodes.common import (
    decide_with,
    log,
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
    product_kinds,
    rerank,
)
from textcart.graph.services import Services
from textcart.graph.state import TurnState, decision_value, turn_time
from textcart.rules.needs import read_conversation_needs, read_needs
from textcart.rules.references import (
    fresh_recommendations,
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


_CATEGORY_WORD = re.compile(r"[a-z]{3,}")

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
    needs, sources = read_conversation_needs(text, earlier_texts(state), shopper["preferences"])
    said_size = None
    if sources["size"] == "earlier text":
        # A size said earlier may be for another kind of product: a preference, not a need.
        said_size, needs["size"], sources["size"] = needs["size"], None, None
    notes: list[str] = []
    open_request = is_open_request(text)
    pointed = pointers(text, state.get("recommended"), turn_time(state))
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
        if text and not (PRONOUN.search(text) or pointed.anything):
            # Nothing but the text itself can change the query (no pronoun, no reference to
            # what the store sent): the main search runs beside the one that names a product.
            searched = asyncio.create_task(
                _search(
                    catalog, services, shopper, text, said_size, filters, history_read, open_request
                )
            )
        asked, found_by = await product_asked(
            catalog, services, state, text, shopper, history_read, pointed
        )
        notes.extend(found_by)
        query = text
        if asked is not None and (not query or PRONOUN.search(query) or notes):
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
        earlier=earlier_texts(state),
        theirs=[*shopper["cart_ids"], *shopper["viewed_ids"]],
        now=turn_time(state),
    )
