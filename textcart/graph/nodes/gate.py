"""Load the shopper, then the compliance gate: deterministic, before any model runs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from langgraph.runtime import Runtime
from langgraph.types import Command

from textcart.deciders.base import Decided
from textcart.graph.context import Context
from textcart.graph.nodes.common import (
    log,
    log_trigger,
    shopper_store_of,
)
from textcart.graph.state import TurnState, turn_time
from textcart.rules.holdout import is_held_out
from textcart.tools import compliance, send_windows
from textcart.tools import consent as consent_rules
from textcart.tools.handoff_channel import held_text_notice, notify_handoff
from textcart.tools.handoffs import HandoffDesk
from textcart.tools.injection import injection_signals
from textcart.tools.outcomes import record_response, windows_from_env
from textcart.tools.shopper_store import ShopperStore, now_utc
from textcart.vocabulary.outputs import IntentResult
from textcart.vocabulary.records import (
    GateResult,
    Outbound,
    TranscriptLine,
)

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
    "refused": None,
    "outbound": None,
    "delivery": None,
}


# --- load and gate ---------------------------------------------------------------------


async def load_context(state: TurnState, runtime: Runtime[Context]) -> dict[str, Any]:
    """Load the shopper's profile, consent, behaviour and history; log the inbound text."""
    shopper_id = state["shopper_id"]
    store = shopper_store_of(runtime)
    received_at = state.get("received_at") or now_utc().isoformat()
    shopper = await store.context(shopper_id, now=turn_time(state))
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


async def _gate_inbound(
    state: TurnState,
    ctx: Context,
    store: ShopperStore,
    text: str,
    action: consent_rules.ConsentAction | None,
) -> GateResult:
    """Consent keywords first, then consent status; every other text goes on to the models."""
    shopper_id, consent = state["shopper_id"], state["shopper"]["consent"]
    at, message_id = turn_time(state), state.get("message_id")
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
    if hold := await HandoffDesk(store.store).held(shopper_id, at):
        # A person has this thread: only the compliance keywords above are answered, and
        # the person's channel sees the text.
        if ctx.handoff_webhook_url:
            notice = held_text_notice(ctx.store_name, hold["phone"], text)
            await notify_handoff(ctx.handoff_webhook_url, notice)
        return _gate("silent", f"handled by a person since {hold['since']} ({hold['reason']})")
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
    if await HandoffDesk(store.store).held(shopper_id, turn_time(state)):
        return _gate("silent", f"handled by a person; {trigger} not sent")
    if shopper["consent"] != "subscribed":
        # Texts the shopper did not ask for need their opt-in; nothing is queued either.
        return _gate(
            "silent", f"shopper has not opted in ({shopper['consent']}); {trigger} not sent"
        )
    now = turn_time(state)
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
    ctx, shopper, store = runtime.context, state["shopper"], shopper_store_of(runtime)
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
        # The shopper's text is an outcome of the text it answers: a reply, or an opt-out.
        await record_response(
            store,
            state["shopper_id"],
            at=turn_time(state),
            inbound_id=state.get("message_id") or turn_time(state).isoformat(),
            opted_out=gate["consent_change"] == "opted_out",
            windows=windows_from_env(),
        )
    elif trigger is not None:
        gate = await _gate_proactive(state, ctx, store, trigger)
        if gate["action"] == "continue" and is_held_out(
            state["shopper_id"], ctx.holdout_experiment, ctx.holdout_share
        ):
            await log_trigger(store, state, ctx, "held_out")
            gate = _gate(
                "silent",
                f"held out ({ctx.holdout_experiment}, share {ctx.holdout_share:g}): "
                f"{trigger} decided and logged, not sent",
            )
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
