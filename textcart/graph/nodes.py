"""The nodes of the conversation graph, in the order a turn passes through them."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, Literal, TypeVar

from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import BaseModel

from textcart.answers.question import COLOUR_WORDS, read_question
from textcart.answers.turn import UNANSWERABLE, answer_turn
from textcart.deciders.base import Decided, decide, load_prompt_file
from textcart.deciders.buy_likelihood import llm_buy_likelihood
from textcart.deciders.fit import llm_fit
from textcart.deciders.intent import IntentContext, llm_intent
from textcart.deciders.next_message import NextMessageCase, llm_next_message
from textcart.deciders.tone import llm_tone
from textcart.deciders.wording import SmsFacts, llm_wording
from textcart.graph.context import Context
from textcart.graph.personalise import (
    CANDIDATES,
    RESULTS,
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
from textcart.graph.services import Services, get_services
from textcart.graph.state import TurnState, decision_value, decisions_of
from textcart.rules.needs import read_conversation_needs, read_needs
from textcart.rules.references import (
    colourway_reference,
    fresh_recommendations,
    model_name,
    name_match,
    resolve_reference,
)
from textcart.tools import compliance, send_windows
from textcart.tools import consent as consent_rules
from textcart.tools.catalog import Catalog, Product, SearchFilters
from textcart.tools.delivery import deliver as deliver_text
from textcart.tools.injection import injection_signals
from textcart.tools.shopper_store import ShopperStore, mask_phone
from textcart.vocabulary.answers import PRODUCT_KINDS, Answer
from textcart.vocabulary.labels import MessageType, likelihood_band
from textcart.vocabulary.outputs import FitResult, IntentResult, NextMessageResult
from textcart.vocabulary.records import (
    GateResult,
    HumanReview,
    Outbound,
    ProductCard,
    Recommended,
    ShopperContext,
    TranscriptLine,
)

log = logging.getLogger("textcart.graph")
T = TypeVar("T", bound=BaseModel)

# Intents about an order or the relationship, not about products: no catalog search.
SERVICE_INTENTS = frozenset(
    {
        "order_status",
        "shipping_question",
        "cancel_or_change_order",
        "return_or_refund",
        "billing_or_payment",
        "complaint",
        "human_agent",
        "opt_out",
        "not_interested",
    }
)
PRICE_INTENTS = frozenset({"price_or_discount"})
PER_TURN_RESET: dict[str, Any] = {
    "gate": None,
    "intent": None,
    "buy_likelihood": None,
    "tone": None,
    "products": [],
    "asked_product_id": None,
    "needs": None,
    "retrieval_note": None,
    "personalisation": None,
    "fit": None,
    "question": None,
    "answer": None,
    "next_message": None,
    "wording": None,
    "review": None,
    "outbound": None,
    "delivery": None,
}


def _now() -> datetime:
    return datetime.now(UTC)


def _shoppers(runtime: Runtime[Context]) -> ShopperStore:
    if runtime.store is None:
        raise RuntimeError("the graph needs a store: compile it with one or run it on a server")
    return ShopperStore(runtime.store)


def _recent_lines(state: TurnState, n: int = 6) -> list[str]:
    return [f"{line['role']}: {line['text']}" for line in state.get("transcript", [])[-n:]]


async def _decide(
    name: str,
    runtime: Runtime[Context],
    services: Services,
    llm: Callable[[Any, Any, float], Awaitable[T]],
    classic: Callable[[], Awaitable[T]],
) -> Decided[T]:
    """Run one decision with the decider the context asks for."""
    ctx = runtime.context
    use_llm = ctx.decider_for(name) == "llm"

    async def call_llm() -> T:
        spec = ctx.model_for(name)
        assert spec is not None
        # Building a model may start the local server: keep that off the event loop.
        model, method = await asyncio.to_thread(services.model, spec, ctx.llm_timeout_s)
        async with services.llm_slot(spec):
            return await llm(model, method, ctx.llm_timeout_s)

    return await decide(name, use_llm=use_llm, llm=call_llm, classic=classic)


# --- load and gate ---------------------------------------------------------------------


async def load_context(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Load the shopper's profile, consent, behaviour and history; log the inbound text."""
    shopper_id = state["shopper_id"]
    store = _shoppers(runtime)
    received_at = state.get("received_at") or _now().isoformat()
    shopper = await store.context(shopper_id, now=_turn_time(state))
    update: dict[str, Any] = {**PER_TURN_RESET, "shopper": shopper, "received_at": received_at}
    text = state.get("text")
    if text is not None:
        await store.log_message(
            shopper_id,
            state["message_id"],
            {
                "message_id": state["message_id"],
                "direction": "inbound",
                "text": text,
                "at": received_at,
            },
        )
        update["transcript"] = [
            TranscriptLine(role="shopper", text=text, at=received_at, message_type=None)
        ]
    return update


def _gate(
    action: Literal["continue", "fixed_reply", "silent"],
    reason: str,
    fixed_text: str | None = None,
    consent_change: Literal["opted_out", "subscribed", "pending"] | None = None,
) -> GateResult:
    return GateResult(
        action=action, reason=reason, fixed_text=fixed_text, consent_change=consent_change
    )


def _turn_time(state: TurnState) -> datetime:
    """The turn's own clock (when the text arrived or the trigger fired), else now."""
    received = state.get("received_at")
    try:
        at = datetime.fromisoformat(received) if received else None
    except ValueError:
        at = None
    if at is None:
        return _now()
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def _gate_inbound(
    state: TurnState,
    ctx: Context,
    store: ShopperStore,
    text: str,
    action: consent_rules.ConsentAction | None,
) -> GateResult:
    """Consent keywords first, then consent status; every other text goes on to the models."""
    shopper_id, consent = state["shopper_id"], state["shopper"]["consent"]
    at, message_id = _turn_time(state), state.get("message_id")
    if action == "opt_out":
        if consent == "opted_out":
            return _gate("silent", "already opted out; no second confirmation")
        source, detail = compliance.consent_source(text)
        await store.set_consent(
            shopper_id, "opted_out", source, at=at, message_id=message_id, detail=detail
        )
        return _gate(
            "fixed_reply",
            f"opt-out ({source}: {detail})",
            compliance.opt_out_confirmation(ctx.store_name),
            "opted_out",
        )
    if action == "help":
        # HELP is answered even after an opt-out: carriers require it, and it sells nothing.
        return _gate("fixed_reply", "help keyword", compliance.help_text(ctx.store_name))
    word = compliance.keyword_of(text)
    if action in ("join", "restart", "confirm") and consent == "subscribed":
        return _gate(
            "fixed_reply",
            f"{word}; already subscribed",
            compliance.opt_in_confirmation(ctx.store_name),
        )
    if action == "restart" and consent == "opted_out":
        # START after STOP is the carriers' way back in (CTIA); a number that never opted
        # in and texts START is asked to confirm, like JOIN.
        await store.set_consent(
            shopper_id, "subscribed", "keyword", at=at, message_id=message_id, detail=word
        )
        return _gate(
            "fixed_reply",
            f"opt-in again (keyword: {word})",
            compliance.opt_in_confirmation(ctx.store_name),
            "subscribed",
        )
    if action in ("join", "restart"):
        request = consent_rules.join_request(
            ctx.store_name, ctx.marketing_kind, ctx.proactive_cap_24h
        )
        await store.set_consent(
            shopper_id,
            "pending",
            "keyword",
            at=at,
            message_id=message_id,
            detail=word,
            proof={"request": request},
        )
        return _gate("fixed_reply", f"{word}: confirmation requested", request, "pending")
    if action == "confirm":
        history = (await store.get_consent(shopper_id)).get("history", [])
        asked: dict[str, Any] = next(
            (c for c in reversed(history) if c.get("status") == "pending"), {}
        )
        await store.set_consent(
            shopper_id,
            "subscribed",
            "keyword",
            at=at,
            message_id=message_id,
            detail=word,
            proof={
                "disclosure": (asked.get("proof") or {}).get("request"),
                "requested_by": asked.get("message_id"),
            },
        )
        return _gate(
            "fixed_reply",
            f"opt-in confirmed ({word})",
            consent_rules.join_confirmed(ctx.store_name, ctx.marketing_kind),
            "subscribed",
        )
    if consent == "opted_out":
        return _gate("silent", "shopper opted out; nothing is sent until they text START")
    if not text.strip():
        return _gate("silent", "empty text")
    signals = injection_signals(text)
    if not signals:
        return _gate("continue", "inbound text")
    # The guard holds every draft to the facts whatever the text said; this makes the
    # attempt visible in the message log and the turn's state.
    log.warning("possible prompt injection from shopper %s: %s", shopper_id, ", ".join(signals))
    if message_id:
        await store.flag_message(shopper_id, message_id, injection=signals)
    return _gate("continue", f"inbound text; possible prompt injection: {', '.join(signals)}")


async def _gate_proactive(
    state: TurnState, ctx: Context, store: ShopperStore, trigger: str
) -> GateResult:
    """Proactive sends: consent, quiet hours in the shopper's zone (queued), frequency cap."""
    shopper_id, shopper = state["shopper_id"], state["shopper"]
    if shopper["consent"] == "opted_out":
        return _gate("silent", "shopper opted out")
    if shopper["consent"] != "subscribed":
        # Texts the shopper did not ask for need their opt-in; nothing is queued either.
        return _gate(
            "silent", f"shopper has not opted in ({shopper['consent']}); {trigger} not sent"
        )
    now = _turn_time(state)
    profile = await store.get_profile(shopper_id) or {}
    window = send_windows.send_window(
        profile.get("phone"),
        shopper["timezone"],
        ctx.store_timezone,
        ctx.quiet_hours_start,
        ctx.quiet_hours_end,
    )
    if not window.open_at(now):
        not_before = window.next_open(now)
        await store.queue_proactive(shopper_id, trigger, not_before)
        return _gate(
            "silent",
            f"quiet hours in {window.describe()}; {trigger} queued until {not_before.isoformat()}",
        )
    window_h = timedelta(hours=ctx.proactive_window_hours)
    sent = await store.proactive_sent_since(shopper_id, now - window_h)
    if len(sent) >= ctx.proactive_cap_24h:
        return _gate(
            "silent",
            f"frequency cap of {ctx.proactive_cap_24h} per {ctx.proactive_window_hours:g} h "
            f"reached; {trigger} not sent",
        )
    if window.rule is not None:
        day = await store.proactive_sent_since(shopper_id, now - timedelta(hours=24))
        if len(day) >= window.cap(ctx.proactive_cap_24h):
            return _gate(
                "silent",
                f"{window.state} allows {window.rule.per_24h} marketing texts per 24 h "
                f"({window.rule.law}); {trigger} not sent",
            )
    return _gate("continue", f"proactive trigger {trigger}")


async def compliance_gate(
    state: TurnState, runtime: Runtime[Context]
) -> Command[Literal["classify_intent", "score_buy_likelihood", "pick_tone", "send_and_log"]]:
    """Apply consent keywords, opt-out status, quiet hours and caps before any model runs."""
    ctx, shopper, store = runtime.context, state["shopper"], _shoppers(runtime)
    text, trigger = state.get("text"), state.get("trigger")
    # "yes" answers our last question unless the shopper was asked to confirm a JOIN.
    action = (
        consent_rules.consent_action(text, shopper["consent"], ctx.join_keyword)
        if text is not None
        else None
    )
    gate: GateResult
    if text is not None:
        gate = await _gate_inbound(state, ctx, store, text, action)
    elif trigger is not None:
        gate = await _gate_proactive(state, ctx, store, trigger)
    else:
        gate = _gate("silent", "nothing to answer: neither text nor trigger")
    if gate["action"] == "continue":
        return Command(
            update={"gate": gate}, goto=["classify_intent", "score_buy_likelihood", "pick_tone"]
        )
    update: dict[str, Any] = {"gate": gate, "outbound": None}
    if action is not None:
        # A consent keyword is an intent the rules have already recognised; record it so
        # the turn reads like any other in logs and evaluations.
        keyword_intent = IntentResult(
            label="opt_out" if action == "opt_out" else "other", confidence=1.0
        )
        update["intent"] = Decided(keyword_intent, "classic", None, 0.0).record(
            "intent", keyword_intent.label, f"consent keyword: {action}"
        )
    if gate["action"] == "fixed_reply" and gate["fixed_text"]:
        info = compliance.sms_segments(gate["fixed_text"])
        update["outbound"] = Outbound(
            message_type="compliance",
            text=gate["fixed_text"],
            segments=info.segments,
            encoding=info.encoding,
            guard_notes=[],
            blocked=False,
        )
    return Command(update=update, goto="send_and_log")


# --- the three classifiers (run in parallel) -------------------------------------------


def _intent_context(state: TurnState) -> IntentContext:
    """The store's last message type before this text, and the products it last showed."""
    earlier = state.get("transcript", [])[:-1]
    said = next((line for line in reversed(earlier) if line["role"] == "store"), None)
    recommended = state.get("recommended")
    shown = recommended["products"] if recommended else []
    return IntentContext(
        previous_type=said["message_type"] if said else state["shopper"]["last_message_type"],
        shown_products=tuple(p["title"] for p in shown),
    )


async def classify_intent(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Classify what the shopper wants from this text, after what the store said before."""
    text = state.get("text")
    if text is None:
        result = IntentResult(label="other", confidence=1.0, rationale="proactive turn, no text")
        return {
            "intent": Decided(result, "classic", None, 0.0).record(
                "intent", result.label, result.rationale
            )
        }
    services = await get_services()
    context = _intent_context(state)
    decided = await _decide(
        "intent",
        runtime,
        services,
        lambda m, meth, t: llm_intent(
            m,
            method=meth,
            timeout_s=t,
            text=text,
            recent_lines=_recent_lines(state),
            context=context,
        ),
        lambda: services.intent.decide(text, context),
    )
    value = decided.value
    return {
        "intent": decided.record(
            "intent", value.label, f"{value.rationale} (confidence {value.confidence:.2f})"
        )
    }


async def score_buy_likelihood(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Score how likely the shopper is to buy now."""
    services = await get_services()
    behaviour = state["shopper"]["behaviour"]
    decided = await _decide(
        "buy_likelihood",
        runtime,
        services,
        lambda m, meth, t: llm_buy_likelihood(
            m, method=meth, timeout_s=t, behaviour=behaviour, text=state.get("text")
        ),
        lambda: services.buy_likelihood.decide(behaviour),
    )
    return {
        "buy_likelihood": decided.record(
            "buy_likelihood", decided.value.probability, decided.value.rationale
        )
    }


async def pick_tone(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Pick the tone most likely to work for this shopper now."""
    services = await get_services()
    text, shopper = state.get("text") or "", state["shopper"]
    decided = await _decide(
        "tone",
        runtime,
        services,
        lambda m, meth, t: llm_tone(m, method=meth, timeout_s=t, text=text, shopper=shopper),
        lambda: services.tone.decide(text, shopper),
    )
    return {"tone": decided.record("tone", decided.value.label, decided.value.rationale)}


# --- products ---------------------------------------------------------------------------


def _card(product: Product, score: float) -> ProductCard:
    return ProductCard(
        id=product.id,
        title=product.title,
        category=product.category,
        price=product.price,
        compare_at_price=product.compare_at_price,
        in_stock=product.in_stock,
        sizes_in_stock=list(product.sizes_in_stock),
        rating=product.rating,
        selling_points=list(product.selling_points),
        url=product.url,
        score=round(score, 4),
    )


_PRONOUN = re.compile(r"\b(it|these|this one|those|them|that one)\b", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+")
# How far back a budget or size the shopper said still holds.
_CONVERSATION_SPAN = timedelta(hours=24)
_CONVERSATION_LINES = 12


def _asked_preference(product: Product, shopper: ShopperContext) -> tuple[int, int]:
    """Rank a named colourway: carted, then viewed, then the shopper's line, then in stock."""
    if product.id in shopper["cart_ids"]:
        return (0, 0)
    if product.id in shopper["viewed_ids"]:
        return (1, 0)
    line = shopper["preferences"].get("shoe_line") or shopper["preferences"].get("line")
    other_line = {"women": "men's", "men": "women's"}.get(str(line or ""), "")
    off_line = int(bool(other_line) and product.title.lower().startswith(other_line))
    return (2 + off_line, 0 if product.in_stock else 1)


_LINE_SAID = re.compile(r"\b(women'?s?|ladies|men'?s?)\b", re.IGNORECASE)


async def _named_product(
    catalog: Catalog, services: Services, text: str, shopper: ShopperContext
) -> ProductCard | None:
    """The product the text names, if any: the best-named model, in the shopper's colourway.

    Candidates are the search hits for the text and the shopper's own carted and viewed
    products (a model named without its colour means the colourway they carted or viewed,
    else one in their line and in stock: the shopper's own, not the index's first).
    """
    text_vector = await asyncio.to_thread(services.embedder.embed_query, text)
    hits = await catalog.search(text, text_vector, SearchFilters(in_stock_only=False), limit=10)
    candidates = {h.product.id: (h.product, h.score) for h in hits}
    if any(name_match(text, h.product.title) for h in hits):
        # A model is named: the shopper's own colourways of it may not be among the hits.
        own = await catalog.get_many([*shopper["cart_ids"], *shopper["viewed_ids"]][:20])
        for product in own.values():
            candidates.setdefault(product.id, (product, 0.0))
    scored = [(name_match(text, p.title), p, score) for p, score in candidates.values()]
    best = max((strength for strength, _, _ in scored), default=0)
    if best == 0:
        return None
    named = [(p, score) for strength, p, score in scored if strength == best]
    said_line = _LINE_SAID.search(text)
    if said_line:
        # "mens softloop in a 10": the line they said beats the one they usually browse.
        prefix = "women's" if said_line.group(1).lower().startswith("w") else "men's"
        in_line = [pair for pair in named if pair[0].title.lower().startswith(prefix)]
        if not in_line:
            # The search showed the other line only: look the said line's model up by name.
            base = re.sub(r"^(men's|women's)\s+", "", model_name(named[0][0].title), flags=re.I)
            in_line = [(p, 0.0) for p in await catalog.variants(f"{prefix} {base}")]
        named = in_line or named
    product, score = min(named, key=lambda pair: _asked_preference(pair[0], shopper))
    return _card(product, score)


_RECOMMEND_WORDS = re.compile(
    r"\b(any(thing|one)?|something|other|others|else|recommend|suggest|options?|cheaper|"
    r"alternatives?|similar|instead)\b",
    re.IGNORECASE,
)


def _asks_about_discussed(text: str) -> bool:
    """A question about one product that names none: "what's the drop?", "in a 9?"."""
    question = read_question(text)
    return (
        question is not None
        and question["kind"] in PRODUCT_KINDS - {"comparison", "suitability"}
        and not names_product_kind(text)
        and not _RECOMMEND_WORDS.search(text)
    )


def _earlier_texts(state: TurnState) -> list[str]:
    """The shopper's earlier texts of this conversation (within a day), newest first."""
    now = _turn_time(state)
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
            return _card(hit.product, hit.score)
    return None


EMPTY_CATALOG_NOTE = "catalog is empty: load one with `textcart catalog load FILE`"


async def _catalog_is_empty(catalog: Catalog) -> bool:
    try:
        return await catalog.count() == 0
    except Exception:  # noqa: BLE001 - unknown is not empty
        return False


async def retrieve_products(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
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
    services = await get_services()
    shopper, text = state["shopper"], state.get("text") or ""
    needs, sources = read_conversation_needs(text, _earlier_texts(state), shopper["preferences"])
    said_size = None
    if sources["size"] == "earlier text":
        # A size said earlier may be for another kind of product: a preference, not a need.
        said_size, needs["size"], sources["size"] = needs["size"], None, None
    notes: list[str] = []
    try:
        catalog = await services.catalog(runtime.context.catalog_collection)
        asked: ProductCard | None = None
        if text:
            asked = await _named_product(catalog, services, text, shopper)
        if asked is None and (
            colourway := colourway_reference(text, state.get("recommended"), _turn_time(state))
        ):
            asked = await _same_model_in(catalog, services, *colourway[1:])
            if asked is not None:
                notes.append(f"{colourway[0]!r} = {asked['title']}")
        if asked is None and (
            reference := resolve_reference(text, state.get("recommended"), _turn_time(state))
        ):
            shown, words = reference
            # Stock and price may have changed since it was recommended: read it again.
            fresh = (await catalog.get_many([shown["id"]])).get(shown["id"])
            asked = _card(fresh, 1.0) if fresh else shown
            notes.append(f"{words!r} = {asked['title']}")
        # With no product named, "it"/"these" (or a proactive turn) means what they were
        # last looking at: the cart for a cart reminder, else the last product viewed.
        focus = shopper["cart_ids"] if state.get("trigger") == "cart_abandonment" else []
        focus = focus or shopper["viewed_ids"]
        if asked is None and text and (_asks_about_discussed(text) or _PRONOUN.search(text)):
            # "what's the drop?" or "in a 9?" names nothing: it is about the product the
            # store last put first, else the one they last looked at.
            discussed = fresh_recommendations(state.get("recommended"), _turn_time(state))
            if discussed:
                fresh = (await catalog.get_many([discussed[0]["id"]])).get(discussed[0]["id"])
                asked = _card(fresh, 1.0) if fresh else discussed[0]
                notes.append(f"question about {asked['title']}, discussed last")
        if (
            asked is None
            and focus
            and (not text or _PRONOUN.search(text) or _asks_about_discussed(text))
        ):
            recent = (await catalog.get_many(focus[:1])).get(focus[0])
            asked = _card(recent, 1.0) if recent else None
        query = text
        if asked is not None and (not query or _PRONOUN.search(query) or notes):
            # A proactive turn, "do these come in blue?" or "is the first one warm?":
            # search around the product they mean.
            query = f"{query} {asked['title']}".strip()
        open_request = is_open_request(text)
        history = await catalog.get_many_with_vectors(history_ids(shopper))
        taste = build_taste(shopper, history, said_size)
        if not query and taste.history_titles:
            query = taste.history_titles[0]
        if not query:
            return {
                "products": [],
                "retrieval_note": "nothing to search for",
                "personalisation": None,
            }
        filters = SearchFilters(
            in_stock_only=True,
            max_price=needs["budget_max"],
            size=needs["size"],
            exclude_ids=list(shopper["purchased_ids"]),
        )
        query_vector = await asyncio.to_thread(services.embedder.embed_query, query)
        search_vector, weight = blend(query_vector, taste, open_request)
        hits = await catalog.search(
            query, search_vector, filters, limit=CANDIDATES, include_vector=True
        )
    except Exception as exc:  # noqa: BLE001 - any catalog failure degrades to "no products"
        log.warning("catalog unavailable, answering without products: %s", exc)
        await services.drop_catalog_connection()
        return {
            "products": [],
            "retrieval_note": f"catalog unavailable: {type(exc).__name__}",
            "personalisation": None,
        }
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
        # "trail running shoes" are shoes: products of that kind first, gaiters after.
        ranked.sort(key=lambda pair: not any(k in pair[0].product.category for k in kinds))
    ranked = ranked[:RESULTS]
    cards = [_card(hit.product, score) for hit, score in ranked]
    if asked is not None and all(c["id"] != asked["id"] for c in cards):
        cards.insert(0, asked)
    said = ", ".join(f"{k.removesuffix('_max')} from {v}" for k, v in sources.items() if v)
    note = (
        f"{len(cards)} products for {query!r}; budget {needs['budget_max']}, size "
        f"{needs['size']}{f' ({said})' if said else ''}; "
        + "; ".join([*notes, describe(taste, weight, open_request)])
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


async def assess_fit(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Judge whether the product asked about is the best fit; pick alternatives and highlights.

    Whichever decider answers, its ids, prices, numbers and highlights are held to the
    candidates' catalog facts (`grounded`). The products as the reply will list them are
    remembered for the next turns ("the first one", "the cheaper one").
    """
    candidates = state.get("products") or []
    if not candidates:
        return {"fit": None}
    services = await get_services()
    shopper, text = state["shopper"], state.get("text") or ""
    asked_id = state.get("asked_product_id")
    needs = state.get("needs") or read_needs(text, shopper["preferences"])
    taste = state.get("personalisation")
    decided = await _decide(
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
    now = _turn_time(state)
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


async def find_answer(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Read what the text asks and answer it from evidence: catalog, knowledge base, order.

    The rules live in `textcart.answers`; this step only gathers what they need. The
    question and its answer are in the state (Studio shows both) and the reply says the
    answer first, whichever message type is chosen next.
    """
    services = await get_services()
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
        orders=services.orders,
    )


# --- the LLM-decided edge ----------------------------------------------------------------


def _policy_check(choice: str, state: TurnState, ctx: Context) -> tuple[str, str | None]:
    """Hard business rules a decider cannot override; returns the type and any override note."""
    has_products = bool(state.get("products"))
    band = likelihood_band(decision_value(state, "buy_likelihood", 0.0))
    intent = decision_value(state, "intent", "other")
    if choice == "send_offer" and not (band in ctx.offer_band_set and intent in PRICE_INTENTS):
        fallback = "recommend_products" if has_products else "answer_question"
        return fallback, f"offer policy: {band} buy-likelihood and intent {intent} get no offer"
    answer = state.get("answer")
    if answer is not None and answer["kind"] in UNANSWERABLE and choice != "answer_question":
        # "Sorry, English only" or "not in our catalog": the answer is the whole reply.
        return "answer_question", f"the text can't be answered from evidence ({answer['kind']})"
    if answer is not None and choice in ("no_reply", "ask_clarifying"):
        return (
            "answer_question",
            f"the shopper asked a question and it has an answer ({answer['kind']})",
        )
    if choice in ("recommend_products", "nudge_checkout") and not has_products:
        return "ask_clarifying", f"{choice} needs products and none were found"
    return choice, None


async def choose_next_message(state: TurnState, runtime: Runtime[Context]) -> Command[MessageType]:
    """Choose the next message type: this node's decision is the edge the graph follows."""
    services = await get_services()
    shopper = state["shopper"]
    probability = decision_value(state, "buy_likelihood", 0.0)
    case = NextMessageCase(
        intent=decision_value(state, "intent", "other"),
        buy_likelihood_band=likelihood_band(probability),
        last_message_type=shopper["last_message_type"],
        turns_so_far=shopper["turns_so_far"],
        has_products=bool(state.get("products")),
    )
    trigger = state.get("trigger")

    async def classic() -> NextMessageResult:
        if trigger == "cart_abandonment" and case["has_products"]:
            return NextMessageResult(message_type="nudge_checkout", rationale="cart abandoned")
        if trigger is not None:
            return NextMessageResult(
                message_type="recommend_products" if case["has_products"] else "no_reply",
                rationale=f"proactive {trigger}",
            )
        return await services.next_message.decide(case)

    decided = await _decide(
        "next_message",
        runtime,
        services,
        lambda m, meth, t: llm_next_message(
            m,
            method=meth,
            timeout_s=t,
            case={**case, "trigger": trigger},  # type: ignore[typeddict-unknown-key]
            text=state.get("text"),
            recent_lines=_recent_lines(state),
            learned_from=services.next_message.policy,
        ),
        classic,
    )
    choice, override = _policy_check(decided.value.message_type, state, runtime.context)
    rationale = decided.value.rationale + (f" | overridden: {override}" if override else "")
    record = decided.record("next_message", choice, rationale)
    return Command(update={"next_message": record}, goto=choice)  # type: ignore[arg-type]


# --- one node per message type -----------------------------------------------------------


def _money(value: float) -> str:
    return f"${value:,.0f}" if float(value).is_integer() else f"${value:,.2f}"


def _base_facts(state: TurnState, ctx: Context, about_asked: bool = False) -> SmsFacts:
    """The facts a message may use; `about_asked` puts the product asked about first."""
    facts = SmsFacts(store=ctx.store_name)
    if state["shopper"]["first_name"]:
        facts["name"] = state["shopper"]["first_name"]
    products = state.get("products") or []
    fit_value = decision_value(state, "fit")
    fit = FitResult.model_validate(fit_value) if fit_value else None
    by_id = {p["id"]: p for p in products}
    best = (
        by_id.get(fit.best_fit_id)
        if fit and fit.best_fit_id
        else (products[0] if products else None)
    )
    asked = by_id.get(state.get("asked_product_id") or "")
    if about_asked and asked is not None:
        # An answer, an offer or a checkout nudge is about the product they asked about.
        best = asked
    if best is not None:
        facts["product"], facts["price"] = best["title"], _money(best["price"])
        if best["url"]:
            facts["link"] = best["url"]
        highlights = fit.highlights if fit and fit.highlights else best["selling_points"][:1]
        if highlights:
            facts["highlight"] = highlights[0]
        alternatives = [by_id[i] for i in (fit.alternative_ids if fit else []) if i in by_id]
        if alternatives:
            facts["alternative"] = alternatives[0]["title"]
            facts["alternative_price"] = _money(alternatives[0]["price"])
        shown = [best, *alternatives] if alternatives else products[:3]
        facts["products"] = ", ".join(f"{p['title']} ({_money(p['price'])})" for p in shown)
    answer = state.get("answer")
    if answer is not None:
        _answer_facts(facts, answer, by_id)
    return facts


def _answer_facts(facts: SmsFacts, answer: Answer, by_id: dict[str, ProductCard]) -> None:
    """Put the answer first: its text, its evidence, and the product it is about."""
    facts["answer"] = answer["text"]
    if answer["facts"]:
        facts["evidence"] = " | ".join(answer["facts"])
    if answer["scarcity"]:
        facts["scarcity"] = answer["scarcity"]
    if answer["product_title"] is None:
        return
    # The reply is about the product asked about, not the best fit of a wider search.
    facts["product"] = answer["product_title"]
    if answer["price"]:
        facts["price"] = answer["price"]
    if answer["link"]:
        facts["link"] = answer["link"]
    else:
        facts.pop("link", None)
    card = by_id.get(answer["product_id"] or "")
    points = [p for p in (card["selling_points"] if card else []) if p not in answer["text"]]
    if points:
        facts["highlight"] = points[0]
    else:
        facts.pop("highlight", None)
    if facts.get("alternative") == answer["product_title"]:
        facts.pop("alternative", None)
        facts.pop("alternative_price", None)


async def _write(
    state: TurnState, runtime: Runtime[Context], message_type: str, facts: SmsFacts
) -> dict[str, Any]:
    services = await get_services()
    tone = decision_value(state, "tone", "friendly")
    tone_note, update = "", {}
    upset = decision_value(state, "intent") == "complaint" or bool(
        _FRUSTRATED.search(state.get("text") or "")
    )
    tone_decision = state.get("tone")
    if tone != "empathetic" and upset and tone_decision is not None:
        # Whatever the tone decider said, an upset shopper is not answered cheerfully; the
        # tone decision records the override so Studio and the log show it.
        tone, tone_note = "empathetic", " (the shopper is upset: empathetic)"
        update["tone"] = {
            **tone_decision,
            "value": tone,
            "rationale": f"{tone_decision['rationale']} | overridden: the shopper is upset",
        }
    seed = f"{state['shopper_id']}:{state.get('message_id', '')}"
    decided = await _decide(
        "wording",
        runtime,
        services,
        lambda m, meth, t: llm_wording(
            m,
            method=meth,
            timeout_s=t,
            message_type=message_type,
            tone=tone,
            facts=facts,
            text=state.get("text"),
        ),
        lambda: services.wording.decide(message_type, tone, facts, seed),
    )
    record = decided.record(
        "wording",
        {"text": decided.value.text, "facts": dict(facts)},
        f"{message_type} in a {tone} tone{tone_note}",
    )
    return {**update, "wording": record}


_FRUSTRATED = re.compile(
    r"\b(ridiculous|unacceptable|terrible|awful|worst|furious|angry|pissed|fed up|"
    r"disappointed|disappointing|scam|rip[- ]?off|nobody (answered|replied|got back)|"
    r"still (haven't|hasn't|no)|wtf|useless)\b|!!!",
    re.IGNORECASE,
)


async def answer_question(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Answer the shopper's question about a product from catalog facts."""
    facts = _base_facts(state, runtime.context, about_asked=True)
    return await _write(state, runtime, "answer_question", facts)


async def recommend_products(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Recommend the best-fitting products."""
    return await _write(state, runtime, "recommend_products", _base_facts(state, runtime.context))


async def send_offer(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Send the one discount the offer policy allows."""
    ctx = runtime.context
    facts = _base_facts(state, ctx, about_asked=True)
    answer = state.get("answer")
    if answer is not None and any("promo-codes" in s for s in answer["sources"]):
        # "We don't run public promo codes" would contradict the code this text sends.
        for key in ("answer", "evidence"):
            facts.pop(key, None)  # type: ignore[misc]
    facts["offer_code"], facts["offer_percent"] = ctx.offer_code, str(ctx.offer_percent)
    return await _write(state, runtime, "send_offer", facts)


async def nudge_checkout(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Nudge the shopper to finish checking out."""
    facts = _base_facts(state, runtime.context, about_asked=True)
    return await _write(state, runtime, "nudge_checkout", facts)


async def order_help(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Help with an order, using only what the order system says."""
    services = await get_services()
    facts = _base_facts(state, runtime.context)
    order = services.orders.latest_for(state["shopper_id"])
    answer = state.get("answer")
    if order is not None and (answer is None or answer["kind"].startswith("order_")):
        # A policy question ("how long does shipping take?") is not about their last order.
        facts["order_line"] = order.status_line()
    return await _write(state, runtime, "order_help", facts)


async def handoff_to_human(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Tell the shopper how a person will take over: only what will really happen."""
    ctx = runtime.context
    facts = _base_facts(state, ctx)
    if ctx.review_handoffs:
        # Every hand-off reply waits for a person (human_review), who then answers here.
        facts["handoff"] = f"A person on the {ctx.store_name} team will read this and reply here."
    else:
        # Nobody is notified: point to a channel where a person does answer.
        contact = (await get_services()).knowledge.policies.contact
        facts["handoff"] = (
            f"You can reach a person on the {ctx.store_name} team at {contact}."
            if contact
            else f"Please contact the {ctx.store_name} team directly; I can't reach them from here."
        )
    return await _write(state, runtime, "handoff_to_human", facts)


async def human_review(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Pause a hand-off reply for a person to send, edit or skip (when the context asks).

    The run stops here (`interrupt`) with the draft; Studio or the API resumes it with
    `{"action": "send" | "edit" | "skip", "text": ..., "reviewer": ...}`. A reviewed
    reply is delivered through the sender, since the webhook that brought the text has
    long been answered.
    """
    if not runtime.context.review_handoffs:
        return {"review": None}
    wording = state.get("wording")
    draft = wording["value"]["text"] if wording else None
    answer = interrupt(
        {
            "question": "Send, edit or skip this hand-off reply?",
            "shopper_text": state.get("text"),
            "draft": draft,
            "intent": decision_value(state, "intent"),
        }
    )
    review = _read_review(answer, draft)
    update: dict[str, Any] = {"review": review}
    if review["action"] == "skip":
        update["wording"] = None
    elif review["action"] == "edit" and wording is not None:
        update["wording"] = {**wording, "value": {**wording["value"], "text": review["text"]}}
    return update


def _read_review(answer: Any, draft: str | None) -> HumanReview:
    """Accept a resume value from a person: a dict, or plain text meaning 'send this'."""
    if isinstance(answer, str):
        answer = {"action": "edit", "text": answer}
    if not isinstance(answer, dict):
        raise ValueError("resume with {'action': 'send'|'edit'|'skip', 'text': ...}")
    action = answer.get("action", "edit" if answer.get("text") else "send")
    text = answer.get("text")
    if action not in ("send", "edit", "skip"):
        raise ValueError(f"unknown review action {action!r}: use send, edit or skip")
    if action == "edit":
        if not (isinstance(text, str) and text.strip()):
            raise ValueError("an edit needs the new text")
        return HumanReview(action="edit", text=text.strip(), reviewer=answer.get("reviewer"))
    return HumanReview(action=action, text=draft, reviewer=answer.get("reviewer"))


async def ask_clarifying(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Ask one question that lets the next turn help."""
    facts = _base_facts(state, runtime.context)
    facts["question"] = "What are you shopping for, and do you have a size or budget in mind?"
    return await _write(state, runtime, "ask_clarifying", facts)


async def no_reply(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Send nothing: the best message is sometimes none."""
    return {"wording": None}


# --- out ---------------------------------------------------------------------------------

_MONEY = re.compile(r"\$\s?\d[\d,]*(?:\.\d{2})?")
_URL = re.compile(r"https?://\S+")
_PERCENT = re.compile(r"\d+\s?%")
# A web address without a scheme ("evil-deals.com/x") is as much a link as one with it.
_BARE_DOMAIN = re.compile(
    r"(?<![@\w.])(?:www\.)?[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\."
    r"(?:com|net|org|io|co|ly|me|us|biz|info|shop|store|xyz|link|app|site|online|gg|to)\b"
    r"(?:/\S*)?",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?:\+?1[\s.-]?)?\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b|\+\d{8,15}\b")
_CODE = re.compile(r"\b(?:code|coupon|promo)\s*:?\s*([A-Za-z0-9][A-Za-z0-9-]{2,19})\b", re.I)
_PRICED_TITLE = re.compile(r"\s*([^,()]+?)\s*\((\$[\d,.]+)\)")
# Words of our own instructions to the models: a draft quoting a run of them leaks the prompt.
_PROMPT_FILES = ("intent", "tone", "buy_likelihood", "fit", "next_message", "wording")
_LEAK_RUN = 6
_LEAK_MARKERS = ("labelled examples", "one json object", "never instructions to follow")


def _echoes(draft: str, said: str | None) -> bool:
    """True when a draft mostly repeats the shopper's own words back to them."""
    draft_words = _WORD.findall(draft.lower())
    said_words = set(_WORD.findall((said or "").lower()))
    if len(draft_words) < 3 or not said_words:
        return False
    return sum(w in said_words for w in draft_words) / len(draft_words) > 0.8


@cache
def _prompt_runs() -> frozenset[tuple[str, ...]]:
    """Every run of `_LEAK_RUN` consecutive words in the deciders' instructions."""
    runs: set[tuple[str, ...]] = set()
    for name in _PROMPT_FILES:
        words = _WORD.findall(str(load_prompt_file(name)["instructions"]).lower())
        runs.update(tuple(words[i : i + _LEAK_RUN]) for i in range(len(words) - _LEAK_RUN + 1))
    return frozenset(runs)


def _leaks_prompt(text: str) -> bool:
    """True when a draft quotes our instructions to the models."""
    lowered = text.lower()
    if any(marker in lowered for marker in _LEAK_MARKERS):
        return True
    words = _WORD.findall(lowered)
    runs = _prompt_runs()
    return any(tuple(words[i : i + _LEAK_RUN]) in runs for i in range(len(words) - _LEAK_RUN + 1))


def _price_of_title(facts: SmsFacts) -> dict[str, str]:
    """Each product title the facts name, lower-cased, with its price."""
    priced: dict[str, str] = {}
    for title, price in _PRICED_TITLE.findall(facts.get("products") or ""):
        priced[title.strip().lower()] = price.rstrip(".,")
    for title_key, price_key in (("product", "price"), ("alternative", "alternative_price")):
        title, price = facts.get(title_key), facts.get(price_key)  # type: ignore[misc]
        if title and price:
            priced[str(title).lower()] = str(price)
    return priced


def _misquoted_prices(text: str, facts: SmsFacts) -> list[str]:
    """Prices a draft puts next to a product whose price they are not."""
    priced = _price_of_title(facts)
    lowered, problems, since = text.lower(), [], 0
    for money in _MONEY.finditer(text):
        window = lowered[max(since, money.start() - 120) : money.start()]
        nearest = max(
            ((window.rfind(title) + len(title), title) for title in priced if title in window),
            default=None,
        )
        quoted = money.group(0).replace(" ", "")
        if nearest is not None and priced[nearest[1]].replace(" ", "") != quoted:
            problems.append(f"price {quoted} is not the price of {nearest[1]!r}")
        since = money.end()
    return problems


def _violations(
    text: str, facts: SmsFacts, message_type: str, ctx: Context, said: str | None
) -> list[str]:
    """Everything in a draft that the facts do not back, or that says nothing new."""
    allowed_text = " ".join(str(v) for v in facts.values())
    allowed_lower = allowed_text.lower()
    problems = ["repeats the shopper's text back"] if _echoes(text, said) else []
    allowed_money = {m.replace(" ", "") for m in _MONEY.findall(allowed_text)}
    problems += [
        f"price {m} not in catalog facts"
        for m in _MONEY.findall(text)
        if m.replace(" ", "") not in allowed_money
    ]
    problems += _misquoted_prices(text, facts)
    problems += [
        f"link {u} not provided"
        for u in _URL.findall(text)
        if u.rstrip(".,!?)") not in allowed_text
    ]
    without_urls = _URL.sub(" ", text)
    problems += [
        f"link {d} not provided"
        for d in _BARE_DOMAIN.findall(without_urls)
        if d.rstrip(".,!?)").lower() not in allowed_lower
    ]
    problems += [
        f"phone number {mask_phone(re.sub(r'[^0-9+]', '', p))} not provided"
        for p in _PHONE.findall(text)
        if p not in allowed_text
    ]
    if _leaks_prompt(text):
        problems.append("quotes the instructions given to the models")
    problems += _unbacked_claims(text, facts, said)
    codes = [c for c in _CODE.findall(text) if c.isupper() or any(ch.isdigit() for ch in c)]
    if message_type != "send_offer":
        # A percentage from the facts ("56% recycled nylon") is fine; any other is a discount.
        problems += [
            f"discount {p} without an offer"
            for p in _PERCENT.findall(text)
            if p not in allowed_text
        ]
        if ctx.offer_code.lower() in text.lower():
            problems.append("offer code outside an offer")
        problems += [f"offer code {c} outside an offer" for c in codes]
    else:
        problems += [
            f"discount {p} is not the policy's"
            for p in _PERCENT.findall(text)
            if p.replace(" ", "") != f"{ctx.offer_percent}%"
        ]
        problems += [
            f"offer code {c} is not the policy's"
            for c in codes
            if c.upper() != ctx.offer_code.upper()
        ]
    return problems


_SIZE_CLAIM = re.compile(
    r"\b(?:size|sizes|in an?|in)\s+(\d{1,2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl)\b"
    r"|\b(\d{1,2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl) is (?:in stock|sold out|available)\b",
    re.IGNORECASE,
)
_STOCK_CLAIM = re.compile(r"\b(in stock|sold out|out of stock|back in stock)\b", re.IGNORECASE)
_URGENCY = re.compile(
    r"sizes can go|selling fast|going fast|won'?t last|limited stock|almost gone|low stock|"
    r"only \d+ (?:left|sizes? left)|last chance|hurry|before (?:it'?s|they'?re) gone",
    re.IGNORECASE,
)
_DELIVERY = re.compile(
    r"\b\d+\s?(?:-|to)\s?\d+\s+(?:business\s+)?days?\b|\b(?:in|within)\s+\d+\s+(?:business\s+)?days?\b"
    r"|\b(?:tomorrow|today|tonight|overnight|next[- ]day)\b",
    re.IGNORECASE,
)
_COLOUR_WORD = re.compile(r"\b(" + "|".join(COLOUR_WORDS) + r")\b", re.IGNORECASE)


def _unbacked_claims(text: str, facts: SmsFacts, said: str | None) -> list[str]:
    """Size, colour, stock, urgency and delivery claims that the facts do not back.

    A claim is backed when the facts (catalog fields, the answer and its evidence, the
    store's policies) say it; a size or colour the shopper said themselves may be repeated.
    """
    allowed = " ".join(str(v) for v in facts.values()).lower()
    heard = f"{allowed} {(said or '').lower()}"
    words = set(_WORD.findall(heard))
    problems = []
    for match in _SIZE_CLAIM.finditer(_URL.sub(" ", text)):
        size = (match.group(1) or match.group(2)).lower()
        if size not in words and not re.search(rf"(?<![\w.]){re.escape(size)}(?![\w])", heard):
            problems.append(f"size {size.upper()} is not in the facts")
    for colour in {m.lower() for m in _COLOUR_WORD.findall(_URL.sub(" ", text))}:
        if colour not in words:
            problems.append(f"colour {colour} is not in the facts")
    for claim in {m.lower() for m in _STOCK_CLAIM.findall(text)}:
        if claim not in allowed:
            problems.append(f"stock claim {claim!r} is not in the facts")
    if _URGENCY.search(text) and not facts.get("scarcity"):
        problems.append("urgency without a real low-stock fact")
    for claim in {m.lower() for m in _DELIVERY.findall(text)}:
        if claim not in allowed:
            problems.append(f"delivery claim {claim!r} is not in the facts")
    return problems


def _offer_refused(state: TurnState, ctx: Context) -> str | None:
    """Why the offer policy gives this turn no offer, or None when it allows one."""
    band = likelihood_band(decision_value(state, "buy_likelihood", 0.0))
    intent = decision_value(state, "intent", "other")
    if band not in ctx.offer_band_set:
        return f"{band} buy-likelihood is not in the offer bands {sorted(ctx.offer_band_set)}"
    if intent not in PRICE_INTENTS:
        return f"intent {intent} signals no price sensitivity"
    return None


def _blocked(message_type: str, notes: list[str]) -> Outbound:
    return Outbound(
        message_type=message_type,
        text=None,
        segments=0,
        encoding="GSM-7",
        guard_notes=notes,
        blocked=True,
    )


async def _rewrite_once(
    state: TurnState,
    runtime: Runtime[Context],
    message_type: str,
    facts: SmsFacts,
    draft: str,
    problems: list[str],
) -> str | None:
    """Hand a refused draft back to the model once, with what was wrong; None on failure."""
    ctx = runtime.context
    spec = ctx.model_for("wording")
    if spec is None:
        return None
    services = await get_services()
    try:
        model, method = await asyncio.to_thread(services.model, spec, ctx.llm_timeout_s)
        async with services.llm_slot(spec):
            draft_again = await llm_wording(
                model,
                method=method,
                timeout_s=ctx.llm_timeout_s,
                message_type=message_type,
                tone=decision_value(state, "tone", "friendly"),
                facts=facts,
                text=state.get("text"),
                refused=(draft, problems),
            )
    except Exception as exc:  # noqa: BLE001 - the template wording still answers
        log.info("wording retry failed: %s", type(exc).__name__)
        return None
    return draft_again.text


async def guard_outbound(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Check the draft against consent, the facts and the length limit before it can leave."""
    ctx = runtime.context
    decision = state.get("next_message")
    message_type = decision["value"] if decision else "no_reply"
    wording = state.get("wording")
    if wording is None:
        return {"outbound": None}
    text: str = wording["value"]["text"]
    facts = SmsFacts(**wording["value"]["facts"])  # type: ignore[typeddict-item]
    notes: list[str] = []
    if message_type == "send_offer" and (reason := _offer_refused(state, ctx)):
        # The edge already enforces the offer policy; this holds even if that ever changes.
        return {"outbound": _blocked(message_type, [f"offer outside the offer policy: {reason}"])}
    review = state.get("review")
    # A person who edited the reply is trusted with its facts; consent and length still apply.
    edited = review is not None and review["action"] == "edit"
    problems = [] if edited else _violations(text, facts, message_type, ctx, state.get("text"))
    if problems and wording["decider"] == "llm" and not wording["fallback_reason"]:
        notes += problems
        retried = await _rewrite_once(state, runtime, message_type, facts, text, problems)
        if retried is not None and not (
            again := _violations(retried, facts, message_type, ctx, state.get("text"))
        ):
            notes.append("the model fixed its draft after one retry")
            text, problems = retried, []
        else:
            problems = again if retried is not None else problems
            notes.append("the model's retry still failed the guard")
    if problems:
        notes += [p for p in problems if p not in notes]
        services = await get_services()
        seed = f"{state['shopper_id']}:{state.get('message_id', '')}"
        tone = decision_value(state, "tone", "friendly")
        text = (await services.wording.decide(message_type, tone, facts, seed)).text
        notes.append("replaced with the template wording")
        if _violations(text, facts, message_type, ctx, state.get("text")):
            notes.append("template wording failed the guard too; nothing sent")
            return {"outbound": _blocked(message_type, notes)}
    plain = compliance.gsm_friendly(text)
    text = compliance.fewest_segments(plain)
    if text != plain:
        notes.append("emoji dropped to save a segment")
    blocked = state["shopper"]["consent"] == "opted_out"
    if blocked:
        notes.append("shopper opted out; marketing text blocked")
    fitted = compliance.fit_to_segments(text, ctx.max_segments)
    if fitted != text:
        notes.append(f"shortened to {ctx.max_segments} segments")
    info = compliance.sms_segments(fitted)
    return {
        "outbound": Outbound(
            message_type=message_type,
            text=None if blocked else fitted,
            segments=info.segments,
            encoding=info.encoding,
            guard_notes=notes,
            blocked=blocked,
        )
    }


async def send_and_log(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Log the reply with every decision behind it, then deliver it (at most once).

    The log key is derived from the inbound message id (or the trigger), so re-running a
    turn finds the entry it wrote. A reply the caller returns itself (a webhook's TwiML)
    is only logged; any other goes to the configured sender, unless the log says it
    already went.
    """
    store = _shoppers(runtime)
    outbound = state.get("outbound")
    if not outbound or not outbound["text"]:
        return {}
    message_id = f"{state.get('message_id') or state.get('trigger')}:reply"
    in_response = runtime.context.reply_in_response and state.get("review") is None
    previous = await store.get_message(state["shopper_id"], message_id)
    delivery = previous.get("delivery") if previous else None
    turn, now = _turn_time(state), _now()
    # A live turn's reply went out now; on a pinned or replayed clock (demo, simulations)
    # it is logged just after the text it answers, on that clock, so the log keeps order.
    sent = now if timedelta(0) < now - turn < timedelta(minutes=10) else turn
    at = previous["at"] if previous else (sent + timedelta(milliseconds=1)).isoformat()
    proactive = state.get("text") is None
    text: str
    if previous is not None:
        disclosed = bool(previous.get("disclosure"))
        text = str(previous["text"]) if disclosed else outbound["text"]
    else:
        text, disclosed = await _disclosed(store, state, runtime.context, outbound, proactive)
    if text != outbound["text"]:
        info = compliance.sms_segments(text)
        outbound = Outbound(**{**outbound, "text": text, "segments": info.segments})
    deciders = {
        name: {
            "value": d["value"] if name != "wording" else None,
            "decider": d["decider"],
            "fallback_reason": d["fallback_reason"],
        }
        for name, d in decisions_of(state).items()
    }
    entry = {
        "message_id": message_id,
        "direction": "outbound",
        "text": text,
        "message_type": outbound["message_type"],
        "at": at,
        "proactive": proactive,
        "disclosure": disclosed,
        # The turn's own clock, which caps and disclosures count by (tests pin it).
        "turn_at": previous.get("turn_at", at) if previous else _turn_time(state).isoformat(),
        "in_reply_to": state.get("message_id"),
        "product_ids": [p["id"] for p in state.get("products") or []][:3],
        "deciders": deciders,
        "review": state.get("review"),
        "outcomes": previous.get("outcomes", []) if previous else [],
    }
    if delivery is None or delivery.get("status") != "sent":
        if in_response:
            delivery = {"status": "sent", "channel": "response", "provider_id": None}
        else:
            # Logged as queued first: a crash between sending and logging re-sends (at
            # least once to the carrier) instead of silently never sending.
            await store.log_message(
                state["shopper_id"], message_id, {**entry, "delivery": {"status": "queued"}}
            )
            delivery = await _deliver(store, state["shopper_id"], text, message_id)
    entry["delivery"] = delivery
    await store.log_message(state["shopper_id"], message_id, entry)
    return {
        "outbound": outbound,
        "delivery": delivery,
        "transcript": [
            TranscriptLine(role="store", text=text, at=at, message_type=outbound["message_type"])
        ],
    }


async def _disclosed(
    store: ShopperStore, state: TurnState, ctx: Context, outbound: Outbound, proactive: bool
) -> tuple[str, bool]:
    """The text with the store's name and opt-out words when this marketing text needs them.

    The first marketing text, and then one at least every 30 days, carries both (CTIA).
    """
    text = outbound["text"] or ""
    if outbound["message_type"] == "compliance" or not consent_rules.is_marketing(
        outbound["message_type"], proactive
    ):
        return text, False
    messages = await store.messages(state["shopper_id"])
    if not consent_rules.needs_disclosure(messages, _turn_time(state)):
        return text, False
    return consent_rules.with_disclosure(text, ctx.store_name, ctx.max_segments), True


async def _deliver(store: ShopperStore, shopper_id: str, text: str, key: str) -> dict[str, Any]:
    services = await get_services()
    return await deliver_text(store, services.sender(), shopper_id, text, key)
