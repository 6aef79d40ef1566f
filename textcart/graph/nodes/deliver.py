"""The output guard, its rewrite of a refused draft, and delivery: nothing leaves unchecked."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from textcart.deciders.wording import llm_wording
from textcart.graph.context import Context
from textcart.graph.nodes.common import (
    log,
    log_trigger,
    shopper_store_of,
)
from textcart.graph.services import Services
from textcart.graph.state import TurnState, decision_value, decisions_of, turn_time
from textcart.rules.grounding import violations
from textcart.rules.holdout import VARIANTS
from textcart.rules.offers import offer_refusal
from textcart.rules.voice import avoided_words, signed, without_emoji
from textcart.tools import compliance
from textcart.tools import consent as consent_rules
from textcart.tools.delivery import deliver as deliver_text
from textcart.tools.handoff_channel import handoff_notice, notify_handoff
from textcart.tools.handoffs import HandoffDesk
from textcart.tools.links import LinkSettings, track_links
from textcart.tools.shopper_store import ShopperStore, now_utc
from textcart.vocabulary.records import (
    Outbound,
    RefusedDraft,
    SmsFacts,
    TranscriptLine,
)

# The guard's note when the template wording replaced the model's draft.
REPLACED_WITH_TEMPLATE = "replaced with the template wording"


def _problems(
    text: str, facts: SmsFacts, message_type: str, ctx: Context, said: str | None
) -> list[str]:
    """What the grounding rules find wrong with a draft, on this run's offer terms."""
    return violations(
        text,
        facts,
        message_type,
        said,
        offer_code=ctx.offer_code,
        offer_percent=ctx.offer_percent,
    )


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
    services: Services,
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
                voice=ctx.voice,
                variant=_variant(state)[0],
            )
    except Exception as exc:  # noqa: BLE001 - the template wording still answers
        log.info("wording retry failed: %s", type(exc).__name__)
        return None
    return draft_again.text


async def guard_outbound(
    state: TurnState, runtime: Runtime[Context]
) -> Command[Literal["rewrite_draft", "send_and_log"]]:
    """Check the draft against consent, the facts and the length limit before it can leave.

    A draft the grounding rules refuse goes to `rewrite_draft`; every other one is finished
    here (emoji, segments, sign-off, consent) and sent.
    """
    ctx = runtime.context
    decision = state.get("next_message")
    message_type = decision["value"] if decision else "no_reply"
    wording = state.get("wording")
    if wording is None:
        return Command(update={"outbound": None}, goto="send_and_log")
    text: str = wording["value"]["text"]
    facts = SmsFacts(**wording["value"]["facts"])  # type: ignore[typeddict-item]
    refusal = offer_refusal(
        decision_value(state, "buy_likelihood", 0.0),
        decision_value(state, "intent", "other"),
        ctx.offer_band_set,
    )
    if message_type == "send_offer" and (reason := refusal):
        # The edge already enforces the offer policy; this holds even if that ever changes.
        blocked = _blocked(message_type, [f"offer outside the offer policy: {reason}"])
        return Command(update={"outbound": blocked}, goto="send_and_log")
    review = state.get("review")
    # A person who edited the reply is trusted with its facts; consent and length still apply.
    edited = review is not None and review["action"] == "edit"
    problems = [] if edited else _problems(text, facts, message_type, ctx, state.get("text"))
    if wording["decider"] == "llm" and not edited:
        problems += avoided_words(text, ctx.avoid_word_list)
    if problems:
        refused = RefusedDraft(
            text=text,
            problems=problems,
            model_may_retry=wording["decider"] == "llm" and not wording["fallback_reason"],
        )
        return Command(update={"refused": refused}, goto="rewrite_draft")
    outbound = _finished(state, ctx, message_type, text, [])
    return Command(update={"outbound": outbound}, goto="send_and_log")


async def rewrite_draft(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Replace the draft the guard refused: the model's one retry, else the template wording.

    The model is told what was wrong and may fix its draft once; a retry that still fails,
    or a draft the templates wrote, is replaced with the template wording, and if even that
    fails the guard nothing is sent. The notes say which happened.
    """
    ctx = runtime.context
    refused = state["refused"]
    assert refused is not None, "rewrite_draft runs only after guard_outbound refused a draft"
    decision = state.get("next_message")
    message_type = decision["value"] if decision else "no_reply"
    wording = state["wording"]
    assert wording is not None
    facts = SmsFacts(**wording["value"]["facts"])  # type: ignore[typeddict-item]
    text, problems = refused["text"], list(refused["problems"])
    notes: list[str] = []
    if refused["model_may_retry"]:
        notes += problems
        retried = await _rewrite_once(state, runtime, services, message_type, facts, text, problems)
        if retried is not None and not (
            again := _problems(retried, facts, message_type, ctx, state.get("text"))
            + avoided_words(retried, ctx.avoid_word_list)
        ):
            notes.append("the model fixed its draft after one retry")
            text, problems = retried, []
        else:
            problems = again if retried is not None else problems
            notes.append("the model's retry still failed the guard")
    if problems:
        notes += [p for p in problems if p not in notes]
        seed = f"{state['shopper_id']}:{state.get('message_id', '')}"
        tone = decision_value(state, "tone", "friendly")
        variant = _variant(state)[0]
        arm = VARIANTS.index(variant) if variant else None
        text = (await services.wording.decide(message_type, tone, facts, seed, arm)).text
        notes.append(REPLACED_WITH_TEMPLATE)
        if _problems(text, facts, message_type, ctx, state.get("text")):
            notes.append("template wording failed the guard too; nothing sent")
            return {"outbound": _blocked(message_type, notes)}
    return {"outbound": _finished(state, ctx, message_type, text, notes)}


def _finished(
    state: TurnState, ctx: Context, message_type: str, text: str, notes: list[str]
) -> Outbound:
    """The checked text made ready to leave: emoji, segments, sign-off, consent, length."""
    notes = list(notes)
    if ctx.emoji == "none" and (bare := without_emoji(text)) != text:
        text = bare
        notes.append("emoji removed: the store texts none")
    plain = compliance.gsm_friendly(text)
    text = compliance.fewest_segments(plain)
    if text != plain:
        notes.append("emoji dropped to save a segment")
    with_sign_off = signed(text, ctx.sign_off)
    if with_sign_off != text and (
        compliance.sms_segments(with_sign_off).segments <= ctx.max_segments
    ):
        text = with_sign_off
    blocked = state["shopper"]["consent"] == "opted_out"
    if blocked:
        notes.append("shopper opted out; marketing text blocked")
    fitted = compliance.fit_to_segments(text, ctx.max_segments)
    if fitted != text:
        notes.append(f"shortened to {ctx.max_segments} segments")
    info = compliance.sms_segments(fitted)
    return Outbound(
        message_type=message_type,
        text=None if blocked else fitted,
        segments=info.segments,
        encoding=info.encoding,
        guard_notes=notes,
        blocked=blocked,
    )


async def send_and_log(
    state: TurnState, runtime: Runtime[Context], services: Services
) -> dict[str, Any]:
    """Log the reply with every decision behind it, then deliver it (at most once).

    The log key is derived from the inbound message id (or the trigger), so re-running a
    turn finds the entry it wrote. A reply the caller returns itself (a webhook's TwiML)
    is only logged; any other goes to the configured sender, unless the log says it
    already went.
    """
    store = shopper_store_of(runtime)
    outbound = state.get("outbound")
    message_id = f"{state.get('message_id') or state.get('trigger')}:reply"
    gate = state.get("gate")
    if state.get("trigger") is not None and gate is not None and gate["action"] == "continue":
        # The trigger passed the gate and was not held out: the "sent" arm of the holdout,
        # even when the policy chose to send nothing.
        decision = state.get("next_message")
        await log_trigger(
            store,
            state,
            runtime.context,
            "sent",
            policy=decision["decider"] if decision else None,
            message_id=message_id if outbound and outbound["text"] else None,
        )
    if not outbound or not outbound["text"]:
        return {}
    in_response = runtime.context.reply_in_response and state.get("review") is None
    previous = await store.get_message(state["shopper_id"], message_id)
    delivery = previous.get("delivery") if previous else None
    turn, now = turn_time(state), now_utc()
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
        text = await _tracked(runtime, state, message_id, outbound)
        text, disclosed = await _disclosed(
            store, state, runtime.context, Outbound(**{**outbound, "text": text}), proactive
        )
        text = compliance.fit_to_segments(text, runtime.context.max_segments)
    if text != outbound["text"]:
        info = compliance.sms_segments(text)
        outbound = Outbound(**{**outbound, "text": text, "segments": info.segments})
    deciders = {
        name: {
            "value": d["value"] if name != "wording" else None,
            "decider": d["decider"],
            "fallback_reason": d["fallback_reason"],
            **({"propensity": d["propensity"]} if "propensity" in d else {}),
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
        "turn_at": previous.get("turn_at", at) if previous else turn_time(state).isoformat(),
        "in_reply_to": state.get("message_id"),
        "product_ids": [p["id"] for p in state.get("products") or []][:3],
        "deciders": deciders,
        "review": state.get("review"),
        # A wording test's arm, and who wrote the text in it (the template or the model).
        "variant": _variant(state)[0],
        "variant_by": _variant(state)[1],
        # A proactive text whose type the learned policy chose (not the rules) is one the
        # policy can learn from.
        "policy_decided": proactive
        and runtime.context.proactive_decider == "policy"
        and (deciders.get("next_message") or {}).get("decider") == "classic",
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
            delivery = await deliver_text(
                store, services.sender(), state["shopper_id"], text, message_id
            )
    entry["delivery"] = delivery
    await store.log_message(state["shopper_id"], message_id, entry)
    if outbound["message_type"] == "handoff_to_human" and previous is None:
        await _hand_over(store, state, runtime.context)
    return {
        "outbound": outbound,
        "delivery": delivery,
        "transcript": [
            TranscriptLine(role="store", text=text, at=at, message_type=outbound["message_type"])
        ],
    }


def _variant(state: TurnState) -> tuple[str | None, str | None]:
    """The wording test's arm the text was written in, if any, and by whom.

    "template" when the templates wrote it (or replaced the model's draft), else "prompt".
    """
    wording = state.get("wording")
    variant = (wording["value"] if wording else {}).get("variant")
    if wording is None or not variant:
        return None, None
    outbound = state.get("outbound")
    replaced = outbound is not None and REPLACED_WITH_TEMPLATE in outbound.get("guard_notes", [])
    by = "template" if wording["decider"] == "classic" or replaced else "prompt"
    return str(variant), by


async def _tracked(
    runtime: Runtime[Context], state: TurnState, message_id: str, outbound: Outbound
) -> str:
    """The text with every link sent through the tracked-link route (when it is public)."""
    text = outbound["text"] or ""
    settings = LinkSettings.from_env()
    if settings is None or runtime.store is None:
        return text
    tracked, _ = await track_links(
        runtime.store,
        settings,
        shopper_id=state["shopper_id"],
        message_id=message_id,
        text=text,
        campaign=str(state.get("trigger") or "reply"),
        content=outbound["message_type"],
        # Links live in real time (the redirect checks them against the server's clock).
        now=now_utc(),
    )
    return tracked


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
    if not consent_rules.needs_disclosure(messages, turn_time(state)):
        return text, False
    return consent_rules.with_disclosure(text, ctx.store_name, ctx.max_segments), True


async def _hand_over(store: ShopperStore, state: TurnState, ctx: Context) -> None:
    """Give the thread to a person when one is really reached, and tell the store's channel.

    With neither a channel nor hand-off review nobody would answer, so the agent keeps
    the thread (its reply pointed the shopper to the store's contact instead).
    """
    if not (ctx.handoff_webhook_url or ctx.review_handoffs):
        return
    profile = await store.get_profile(state["shopper_id"]) or {}
    phone = str(profile.get("phone") or state["shopper_id"])
    texts = [line["text"] for line in state.get("transcript") or [] if line["role"] == "shopper"]
    reason = f"intent {decision_value(state, 'intent', 'unknown')}"
    notified = None
    if ctx.handoff_webhook_url:
        notice = handoff_notice(
            ctx.store_name, phone, reason, texts[-5:], ctx.handoff_release_hours
        )
        notified = await notify_handoff(ctx.handoff_webhook_url, notice)
    await HandoffDesk(store.store).hold(
        phone,
        reason=reason,
        at=turn_time(state),
        hours=ctx.handoff_release_hours,
        last_texts=texts[-5:],
        notified=notified,
    )
