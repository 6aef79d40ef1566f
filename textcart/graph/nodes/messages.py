"""The LLM-decided edge and one node per message type: each writes one draft."""

from __future__ import annotations

import re
from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt

from textcart.answers.turn import UNANSWERABLE
from textcart.deciders.next_message import NextMessageCase, llm_next_message
from textcart.deciders.wording import llm_wording
from textcart.graph.context import Context
from textcart.graph.nodes.common import (
    decide_with,
    recent_lines,
)
from textcart.graph.services import Services
from textcart.graph.state import TurnState, decision_value
from textcart.rules.holdout import VARIANTS, wording_variant
from textcart.rules.offers import offer_refusal
from textcart.vocabulary.answers import Answer
from textcart.vocabulary.labels import MessageType, likelihood_band
from textcart.vocabulary.money import format_money
from textcart.vocabulary.outputs import FitResult, NextMessageResult
from textcart.vocabulary.records import (
    HumanReview,
    ProductCard,
    SmsFacts,
)

# --- the LLM-decided edge ----------------------------------------------------------------


def _policy_check(choice: str, state: TurnState, ctx: Context) -> tuple[str, str | None]:
    """Hard business rules a decider cannot override; returns the type and any override note."""
    has_products = bool(state.get("products"))
    probability = decision_value(state, "buy_likelihood", 0.0)
    intent = decision_value(state, "intent", "other")
    answer = state.get("answer")
    if (
        answer is not None
        and answer["kind"].startswith("order_")
        and choice in ("recommend_products", "nudge_checkout", "send_offer")
    ):
        # "wheres my order? the shorts + headlamp" read as shopping: the answer is about
        # their order, and a checkout nudge or picks after it would miss the point.
        return "order_help", f"the answer is about the shopper's order ({answer['kind']})"
    if choice == "send_offer" and offer_refusal(probability, intent, ctx.offer_band_set):
        band = likelihood_band(probability)
        fallback = "recommend_products" if has_products else "answer_question"
        return fallback, f"offer policy: {band} buy-likelihood and intent {intent} get no offer"
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


async def choose_next_message(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> Command[MessageType]:
    """Choose the next message type: this node's decision is the edge the graph follows."""
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

    # The chance the classic decider had of its choice (1 for the rules), for replay.
    propensity: list[float] = []

    async def classic() -> NextMessageResult:
        if trigger is None or runtime.context.proactive_decider == "policy":
            result = await services.next_message.decide(case, question=trigger is None)
            propensity.append(services.next_message.propensity(case, result.message_type))
            return result
        propensity.append(1.0)
        if trigger == "cart_abandonment" and case["has_products"]:
            return NextMessageResult(message_type="nudge_checkout", rationale="cart abandoned")
        return NextMessageResult(
            message_type="recommend_products" if case["has_products"] else "no_reply",
            rationale=f"proactive {trigger}",
        )

    decided = await decide_with(
        "next_message",
        runtime,
        services,
        lambda m, meth, t: llm_next_message(
            m,
            method=meth,
            timeout_s=t,
            case={**case, "trigger": trigger},  # type: ignore[typeddict-unknown-key]
            text=state.get("text"),
            recent_lines=recent_lines(state),
            learned_from=services.next_message.policy,
        ),
        classic,
    )
    choice, override = _policy_check(decided.value.message_type, state, runtime.context)
    rationale = decided.value.rationale + (f" | overridden: {override}" if override else "")
    record = decided.record("next_message", choice, rationale)
    if decided.decider == "classic" and propensity and not override:
        record["propensity"] = round(propensity[-1], 4)
    return Command(update={"next_message": record}, goto=choice)  # type: ignore[arg-type]


# --- one node per message type -----------------------------------------------------------


def _money(product: ProductCard) -> str:
    return format_money(product["price"], product.get("currency", "USD"))


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
        facts["product"], facts["price"] = best["title"], _money(best)
        if best["url"]:
            facts["link"] = best["url"]
        highlights = fit.highlights if fit and fit.highlights else best["selling_points"][:1]
        if highlights:
            facts["highlight"] = highlights[0]
        alternatives = [by_id[i] for i in (fit.alternative_ids if fit else []) if i in by_id]
        if alternatives:
            facts["alternative"] = alternatives[0]["title"]
            facts["alternative_price"] = _money(alternatives[0])
        shown = [best, *alternatives] if alternatives else products[:3]
        facts["products"] = ", ".join(f"{p['title']} ({_money(p)})" for p in shown)
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
    state: TurnState,
    runtime: Runtime[Context],
    services: Services,
    message_type: str,
    facts: SmsFacts,
) -> dict[str, Any]:
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
    variant = (
        wording_variant(state["shopper_id"], message_type)
        if message_type in runtime.context.wording_test_types
        else None
    )
    decided = await decide_with(
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
            voice=runtime.context.voice,
            variant=variant,
        ),
        lambda: services.wording.decide(
            message_type, tone, facts, seed, VARIANTS.index(variant) if variant else None
        ),
    )
    value: dict[str, Any] = {"text": decided.value.text, "facts": dict(facts)}
    if variant is not None:
        # The arm is the shopper's whoever writes: the template of that arm, or the model
        # told that arm's instruction (the writer is logged with the text).
        value["variant"] = variant
    record = decided.record("wording", value, f"{message_type} in a {tone} tone{tone_note}")
    return {**update, "wording": record}


_FRUSTRATED = re.compile(
    r"\b(ridiculous|unacceptable|terrible|awful|worst|furious|angry|pissed|fed up|"
    r"disappointed|disappointing|scam|rip[- ]?off|nobody (answered|replied|got back)|"
    r"still (haven't|hasn't|no)|wtf|useless)\b|!!!",
    re.IGNORECASE,
)


async def answer_question(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Answer the shopper's question about a product from catalog facts."""
    facts = _base_facts(state, runtime.context, about_asked=True)
    return await _write(state, runtime, services, "answer_question", facts)


async def recommend_products(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Recommend the best-fitting products."""
    facts = _base_facts(state, runtime.context)
    return await _write(state, runtime, services, "recommend_products", facts)


async def send_offer(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Send the one discount the offer policy allows."""
    ctx = runtime.context
    facts = _base_facts(state, ctx, about_asked=True)
    answer = state.get("answer")
    if answer is not None and any("promo-codes" in s for s in answer["sources"]):
        # "We don't run public promo codes" would contradict the code this text sends.
        for key in ("answer", "evidence"):
            facts.pop(key, None)  # type: ignore[misc]
    facts["offer_code"], facts["offer_percent"] = ctx.offer_code, str(ctx.offer_percent)
    return await _write(state, runtime, services, "send_offer", facts)


async def nudge_checkout(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Nudge the shopper to finish checking out."""
    facts = _base_facts(state, runtime.context, about_asked=True)
    return await _write(state, runtime, services, "nudge_checkout", facts)


async def order_help(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Help with an order, using only what the order system says."""
    facts = _base_facts(state, runtime.context)
    order = await services.order_for(runtime.store, state["shopper_id"])
    answer = state.get("answer")
    if order is not None and (
        answer is None
        or (answer["kind"].startswith("order_") and f"order:{order.order_id}" in answer["sources"])
    ):
        # A policy question ("how long does shipping take?") is not about their last order,
        # and an answer about an earlier order ("the boots i got last month") not either.
        facts["order_line"] = order.status_line()
    return await _write(state, runtime, services, "order_help", facts)


async def handoff_to_human(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Tell the shopper how a person will take over: only what will really happen."""
    ctx = runtime.context
    facts = _base_facts(state, ctx)
    if ctx.review_handoffs or ctx.handoff_webhook_url:
        # A person reviews the reply (human_review) or the store's channel is told: either
        # way a person takes the thread over and answers here.
        facts["handoff"] = f"A person on the {ctx.store_name} team will read this and reply here."
    else:
        # Nobody is notified: point to a channel where a person does answer.
        contact = services.knowledge.policies.contact
        facts["handoff"] = (
            f"You can reach a person on the {ctx.store_name} team at {contact}."
            if contact
            else f"Please contact the {ctx.store_name} team directly; I can't reach them from here."
        )
    return await _write(state, runtime, services, "handoff_to_human", facts)


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


async def ask_clarifying(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Ask one question that lets the next turn help."""
    facts = _base_facts(state, runtime.context)
    facts["question"] = "What are you shopping for, and do you have a size or budget in mind?"
    return await _write(state, runtime, services, "ask_clarifying", facts)


async def no_reply(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Send nothing: the best message is sometimes none."""
    return {"wording": None}
