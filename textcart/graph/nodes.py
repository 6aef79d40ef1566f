"""The nodes of the conversation graph, in the order a turn passes through them."""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import BaseModel

from textcart.deciders.base import Decided, decide
from textcart.deciders.buy_likelihood import llm_buy_likelihood
from textcart.deciders.fit import llm_fit
from textcart.deciders.intent import llm_intent
from textcart.deciders.next_message import NextMessageCase, llm_next_message
from textcart.deciders.tone import llm_tone
from textcart.deciders.wording import SmsFacts, llm_wording
from textcart.graph.context import Context
from textcart.graph.needs import read_needs
from textcart.graph.services import Services, get_services
from textcart.graph.state import (
    FitResult,
    GateResult,
    IntentResult,
    MessageType,
    NextMessageResult,
    Outbound,
    ProductCard,
    TranscriptLine,
    TurnState,
    decision_value,
    decisions_of,
    likelihood_band,
)
from textcart.tools import compliance
from textcart.tools.catalog import Product, SearchFilters
from textcart.tools.shopper_store import ShopperStore

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
    "fit": None,
    "next_message": None,
    "wording": None,
    "outbound": None,
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
        assert ctx.model is not None
        # Building a model may start the local server: keep that off the event loop.
        model, method = await asyncio.to_thread(services.model, ctx.model, ctx.llm_timeout_s)
        async with services.llm_slot(ctx.model):
            return await llm(model, method, ctx.llm_timeout_s)

    return await decide(name, use_llm=use_llm, llm=call_llm, classic=classic)


# --- load and gate ---------------------------------------------------------------------


async def load_context(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Load the shopper's profile, consent, behaviour and history; log the inbound text."""
    shopper_id = state["shopper_id"]
    store = _shoppers(runtime)
    received_at = state.get("received_at") or _now().isoformat()
    shopper = await store.context(shopper_id)
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
    consent_change: Literal["opted_out", "subscribed"] | None = None,
) -> GateResult:
    return GateResult(
        action=action, reason=reason, fixed_text=fixed_text, consent_change=consent_change
    )


async def compliance_gate(
    state: TurnState, runtime: Runtime[Context]
) -> Command[Literal["classify_intent", "score_buy_likelihood", "pick_tone", "send_and_log"]]:
    """Apply consent keywords, opt-out status, quiet hours and caps before any model runs."""
    ctx, shopper = runtime.context, state["shopper"]
    text, trigger = state.get("text"), state.get("trigger")
    gate: GateResult
    if text is not None:
        action = compliance.keyword_action(text)
        if action == "opt_out":
            if shopper["consent"] == "opted_out":
                gate = _gate("silent", "already opted out; no second confirmation")
            else:
                await _shoppers(runtime).set_consent(state["shopper_id"], "opted_out", "keyword")
                gate = _gate(
                    "fixed_reply",
                    "opt-out keyword",
                    compliance.opt_out_confirmation(ctx.store_name),
                    "opted_out",
                )
        elif action == "opt_in":
            await _shoppers(runtime).set_consent(state["shopper_id"], "subscribed", "keyword")
            gate = _gate(
                "fixed_reply",
                "opt-in keyword",
                compliance.opt_in_confirmation(ctx.store_name),
                "subscribed",
            )
        elif action == "help":
            gate = _gate("fixed_reply", "help keyword", compliance.help_text(ctx.store_name))
        elif shopper["consent"] == "opted_out":
            gate = _gate("silent", "shopper opted out; nothing is sent until they text START")
        elif not text.strip():
            gate = _gate("silent", "empty text")
        else:
            gate = _gate("continue", "inbound text")
    elif trigger is not None:
        zone = compliance.shopper_zone(shopper["timezone"], ctx.store_timezone)
        if shopper["consent"] == "opted_out":
            gate = _gate("silent", "shopper opted out")
        elif compliance.in_quiet_hours(_now(), zone, ctx.quiet_hours_start, ctx.quiet_hours_end):
            gate = _gate("silent", f"quiet hours in {zone.key}; proactive text not sent")
        elif shopper["proactive_sent_24h"] >= ctx.proactive_cap_24h:
            gate = _gate("silent", f"frequency cap of {ctx.proactive_cap_24h} per 24 h reached")
        else:
            gate = _gate("continue", f"proactive trigger {trigger}")
    else:
        gate = _gate("silent", "nothing to answer: neither text nor trigger")
    if gate["action"] == "continue":
        return Command(
            update={"gate": gate}, goto=["classify_intent", "score_buy_likelihood", "pick_tone"]
        )
    update: dict[str, Any] = {"gate": gate, "outbound": None}
    if text is not None and (action := compliance.keyword_action(text)) is not None:
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


async def classify_intent(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Classify what the shopper wants from this text."""
    text = state.get("text")
    if text is None:
        result = IntentResult(label="other", confidence=1.0, rationale="proactive turn, no text")
        return {
            "intent": Decided(result, "classic", None, 0.0).record(
                "intent", result.label, result.rationale
            )
        }
    services = await get_services()
    decided = await _decide(
        "intent",
        runtime,
        services,
        lambda m, meth, t: llm_intent(
            m, method=meth, timeout_s=t, text=text, recent_lines=_recent_lines(state)
        ),
        lambda: services.intent.decide(text),
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


# Words that tell a line apart but that shoppers leave out ("the ridgeline runners").
_LINE_WORDS = frozenset({"men", "mens", "women", "womens", "unisex", "kids", "the"})


def _stems(text: str) -> list[str]:
    """Distinctive lower-case words in order, plural 's' removed ('runners' -> 'runner')."""
    words = (w.removesuffix("s") if len(w) > 3 else w for w in _WORD.findall(text.lower()))
    return [w for w in words if len(w) > 2 and w not in _LINE_WORDS]


def _names_product(text: str, title: str) -> bool:
    """True when the text names the product's model.

    It must contain the model's first distinctive word (its own name, e.g. "Ridgeline")
    and most of the rest: "summit gtx boot" names the "Summit GTX Hiking Boot", while
    "trail runners" alone names no model.
    """
    model = _stems(re.split(r"\s+[—-]\s+", title)[0].replace("'s", ""))
    said = set(_stems(text.replace("'s", "")))
    if not model or model[0] not in said:
        return False
    return len(set(model) & said) >= math.ceil(0.6 * len(set(model)))


async def retrieve_products(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Search the catalog (hybrid BM25 + vectors) within the shopper's stated constraints.

    Weaviate being down never fails the turn: the reply goes out without products and the
    next turn reconnects.
    """
    intent = decision_value(state, "intent", "other")
    if intent in SERVICE_INTENTS:
        return {"products": [], "retrieval_note": f"no product search for {intent}"}
    services = await get_services()
    shopper, text = state["shopper"], state.get("text") or ""
    needs = read_needs(text, shopper["preferences"])
    try:
        catalog = await services.catalog(runtime.context.catalog_collection)
        asked: ProductCard | None = None
        if text:
            text_vector = await asyncio.to_thread(services.embedder.embed_query, text)
            for hit in await catalog.search(
                text, text_vector, SearchFilters(in_stock_only=False), limit=3
            ):
                if _names_product(text, hit.product.title):
                    asked = _card(hit.product, hit.score)
                    break
        # With no product named, "it"/"these" (or a proactive turn) means what they were
        # last looking at: the cart for a cart reminder, else the last product viewed.
        focus = shopper["cart_ids"] if state.get("trigger") == "cart_abandonment" else []
        focus = focus or shopper["viewed_ids"]
        if asked is None and focus and (not text or _PRONOUN.search(text)):
            recent = (await catalog.get_many(focus[:1])).get(focus[0])
            asked = _card(recent, 1.0) if recent else None
        query = text
        if not query or (asked is not None and _PRONOUN.search(query)):
            # A proactive turn or "do these come in blue?": search around what they looked at.
            query = f"{query} {asked['title'] if asked else ''}".strip()
        if not query:
            return {"products": [], "retrieval_note": "nothing to search for"}
        filters = SearchFilters(
            in_stock_only=True,
            max_price=needs["budget_max"],
            size=needs["size"],
            exclude_ids=list(shopper["purchased_ids"]),
        )
        query_vector = await asyncio.to_thread(services.embedder.embed_query, query)
        hits = await catalog.search(query, query_vector, filters, limit=5)
    except Exception as exc:  # noqa: BLE001 - any catalog failure degrades to "no products"
        log.warning("catalog unavailable, answering without products: %s", exc)
        await services.drop_catalog_connection()
        return {"products": [], "retrieval_note": f"catalog unavailable: {type(exc).__name__}"}
    cards = [_card(h.product, h.score) for h in hits]
    if asked is not None and all(c["id"] != asked["id"] for c in cards):
        cards.insert(0, asked)
    note = (
        f"{len(cards)} products for {query!r}; budget {needs['budget_max']}, size {needs['size']}"
    )
    return {
        "products": cards,
        "asked_product_id": asked["id"] if asked else None,
        "needs": needs,
        "retrieval_note": note,
    }


async def assess_fit(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Judge whether the product asked about is the best fit; pick alternatives and highlights."""
    candidates = state.get("products") or []
    if not candidates:
        return {"fit": None}
    services = await get_services()
    shopper, text = state["shopper"], state.get("text") or ""
    asked_id = state.get("asked_product_id")
    needs = state.get("needs") or read_needs(text, shopper["preferences"])
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
        ),
        lambda: services.fit.decide(candidates, asked_id, needs, shopper, text),
    )
    return {"fit": decided.record("fit", decided.value.model_dump(), decided.value.reason)}


# --- the LLM-decided edge ----------------------------------------------------------------


def _policy_check(choice: str, state: TurnState, ctx: Context) -> tuple[str, str | None]:
    """Hard business rules a decider cannot override; returns the type and any override note."""
    has_products = bool(state.get("products"))
    band = likelihood_band(decision_value(state, "buy_likelihood", 0.0))
    intent = decision_value(state, "intent", "other")
    if choice == "send_offer" and not (band in ctx.offer_band_set and intent in PRICE_INTENTS):
        fallback = "recommend_products" if has_products else "answer_question"
        return fallback, f"offer policy: {band} buy-likelihood and intent {intent} get no offer"
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


def _base_facts(state: TurnState, ctx: Context) -> SmsFacts:
    facts = SmsFacts(name=state["shopper"]["first_name"] or "there", store=ctx.store_name)
    intent = decision_value(state, "intent", None)
    if intent == "shipping_question":
        facts["policy"] = ctx.shipping_policy
    elif intent == "return_or_refund":
        facts["policy"] = ctx.returns_policy
    products = state.get("products") or []
    fit_value = decision_value(state, "fit")
    fit = FitResult.model_validate(fit_value) if fit_value else None
    by_id = {p["id"]: p for p in products}
    best = (
        by_id.get(fit.best_fit_id)
        if fit and fit.best_fit_id
        else (products[0] if products else None)
    )
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
    return facts


async def _write(
    state: TurnState, runtime: Runtime[Context], message_type: str, facts: SmsFacts
) -> dict[str, Any]:
    services = await get_services()
    tone = decision_value(state, "tone", "friendly")
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
        f"{message_type} in a {tone} tone",
    )
    return {"wording": record}


async def answer_question(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Answer the shopper's question about a product from catalog facts."""
    return await _write(state, runtime, "answer_question", _base_facts(state, runtime.context))


async def recommend_products(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Recommend the best-fitting products."""
    return await _write(state, runtime, "recommend_products", _base_facts(state, runtime.context))


async def send_offer(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Send the one discount the offer policy allows."""
    ctx = runtime.context
    facts = _base_facts(state, ctx)
    facts["offer_code"], facts["offer_percent"] = ctx.offer_code, str(ctx.offer_percent)
    return await _write(state, runtime, "send_offer", facts)


async def nudge_checkout(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Nudge the shopper to finish checking out."""
    return await _write(state, runtime, "nudge_checkout", _base_facts(state, runtime.context))


async def order_help(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Help with an order, using only what the order system says."""
    services = await get_services()
    facts = _base_facts(state, runtime.context)
    order = services.orders.latest_for(state["shopper_id"])
    if order is not None:
        facts["order_line"] = order.status_line()
    return await _write(state, runtime, "order_help", facts)


async def handoff_to_human(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Tell the shopper a person will take over."""
    return await _write(state, runtime, "handoff_to_human", _base_facts(state, runtime.context))


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


def _echoes(draft: str, said: str | None) -> bool:
    """True when a draft mostly repeats the shopper's own words back to them."""
    draft_words = _WORD.findall(draft.lower())
    said_words = set(_WORD.findall((said or "").lower()))
    if len(draft_words) < 3 or not said_words:
        return False
    return sum(w in said_words for w in draft_words) / len(draft_words) > 0.8


def _violations(
    text: str, facts: SmsFacts, message_type: str, ctx: Context, said: str | None
) -> list[str]:
    """Everything in a draft that the facts do not back, or that says nothing new."""
    allowed_text = " ".join(str(v) for v in facts.values())
    problems = ["repeats the shopper's text back"] if _echoes(text, said) else []
    allowed_money = {m.replace(" ", "") for m in _MONEY.findall(allowed_text)}
    problems += [
        f"price {m} not in catalog facts"
        for m in _MONEY.findall(text)
        if m.replace(" ", "") not in allowed_money
    ]
    problems += [
        f"link {u} not provided"
        for u in _URL.findall(text)
        if u.rstrip(".,!?)") not in allowed_text
    ]
    if message_type != "send_offer":
        # A percentage from the facts ("56% recycled nylon") is fine; any other is a discount.
        problems += [
            f"discount {p} without an offer"
            for p in _PERCENT.findall(text)
            if p not in allowed_text
        ]
        if ctx.offer_code.lower() in text.lower():
            problems.append("offer code outside an offer")
    else:
        problems += [
            f"discount {p} is not the policy's"
            for p in _PERCENT.findall(text)
            if p.replace(" ", "") != f"{ctx.offer_percent}%"
        ]
    return problems


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
    problems = _violations(text, facts, message_type, ctx, state.get("text"))
    if problems:
        notes += problems
        services = await get_services()
        seed = f"{state['shopper_id']}:{state.get('message_id', '')}"
        tone = decision_value(state, "tone", "friendly")
        text = (await services.wording.decide(message_type, tone, facts, seed)).text
        notes.append("replaced with the template wording")
        if _violations(text, facts, message_type, ctx, state.get("text")):
            notes.append("template wording failed the guard too; nothing sent")
            return {
                "outbound": Outbound(
                    message_type=message_type,
                    text=None,
                    segments=0,
                    encoding="GSM-7",
                    guard_notes=notes,
                    blocked=True,
                )
            }
    text = compliance.gsm_friendly(text)
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
    """Send the reply (to the store's outbox) and log it with every decision behind it.

    The log key is derived from the inbound message id (or the trigger), so re-running a
    turn rewrites the same entry instead of sending twice.
    """
    store = _shoppers(runtime)
    outbound = state.get("outbound")
    if not outbound or not outbound["text"]:
        return {}
    at = _now().isoformat()
    message_id = f"{state.get('message_id') or state.get('trigger')}:reply"
    deciders = {
        name: {
            "value": d["value"] if name != "wording" else None,
            "decider": d["decider"],
            "fallback_reason": d["fallback_reason"],
        }
        for name, d in decisions_of(state).items()
    }
    await store.log_message(
        state["shopper_id"],
        message_id,
        {
            "message_id": message_id,
            "direction": "outbound",
            "text": outbound["text"],
            "message_type": outbound["message_type"],
            "at": at,
            "proactive": state.get("text") is None,
            "in_reply_to": state.get("message_id"),
            "product_ids": [p["id"] for p in state.get("products") or []][:3],
            "deciders": deciders,
            "outcomes": [],
        },
    )
    return {
        "transcript": [
            TranscriptLine(
                role="store", text=outbound["text"], at=at, message_type=outbound["message_type"]
            )
        ]
    }
