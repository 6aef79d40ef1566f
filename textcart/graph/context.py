"""Run-time settings of the conversation graph.

One typed class; every field has a description (shown in LangGraph Studio when an
assistant is configured) and falls back to an environment variable, then to the store
folder's `store.yaml` (`textcart.storefolder`), so the same graph is configured from
Studio, from the API, from the shell or by the store's own file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args

from textcart import settings
from textcart.storefolder.settings import StoreSettings, active_store
from textcart.tools.llm import llm_timeout_s
from textcart.vocabulary.labels import DecisionName

DeciderChoice = Literal["auto", "classic", "llm"]


T = TypeVar("T")


def _env(name: str, default: str) -> str:
    found = settings.environment(name)
    return default if found is None else found


def _setting(env: str, from_store: Callable[[StoreSettings], T], parse: Callable[[str], T]) -> T:
    """The environment variable if set, else the store folder's value."""
    raw = settings.environment(env)
    if raw is not None and raw.strip():
        return parse(raw.strip())
    return from_store(active_store())


def _store_field(
    env: str, from_store: Callable[[StoreSettings], Any], parse: Callable[[str], Any], text: str
) -> Any:
    return field(
        default_factory=lambda: _setting(env, from_store, parse),
        metadata={"description": f"{text} Env: {env}; else store.yaml."},
    )


def _decider_field(decision: str, description: str) -> Any:
    return _env_field(f"TEXTCART_{decision.upper()}_DECIDER", "auto", description)


def _env_field(env: str, default: str, description: str, parse: Callable[[str], Any] = str) -> Any:
    return field(
        default_factory=lambda: parse(_env(env, default)), metadata={"description": description}
    )


def _comma_separated(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _env_model() -> str | None:
    return _setting("TEXTCART_MODEL", lambda s: s.models.default, str) or None


def _model_field(decision: str, what: str) -> Any:
    env = f"TEXTCART_{decision.upper()}_MODEL"
    return field(
        default_factory=lambda: (
            _setting(env, lambda s: str(getattr(s.models, decision)), str) or None
        ),
        metadata={
            "description": f"Chat model for {what} only (same forms as 'model'); empty uses "
            f"'model'. Env: {env}; else store.yaml models.{decision}."
        },
    )


@dataclass(kw_only=True)
class Context:
    """Settings for one run of the graph (per assistant in LangGraph Studio)."""

    model: str | None = field(
        default_factory=_env_model,
        metadata={
            "description": "Chat model as 'provider:model' (e.g. 'openai:gpt-4o-mini'), "
            "'local' for the bundled llama.cpp model, or empty for classic deciders only. "
            "Env: TEXTCART_MODEL; else store.yaml models.default."
        },
    )
    intent_model: str | None = _model_field("intent", "intent classification")
    buy_likelihood_model: str | None = _model_field("buy_likelihood", "buy-likelihood")
    tone_model: str | None = _model_field("tone", "tone")
    fit_model: str | None = _model_field("fit", "product fit")
    next_message_model: str | None = _model_field("next_message", "the next message type")
    wording_model: str | None = _model_field("wording", "writing the SMS")
    intent_decider: DeciderChoice = _decider_field(
        "intent",
        "Who classifies intent: 'llm', 'classic', or 'auto' (LLM when a model is configured).",
    )
    buy_likelihood_decider: DeciderChoice = _decider_field(
        "buy_likelihood", "Who scores buy-likelihood: 'llm', 'classic' or 'auto'."
    )
    tone_decider: DeciderChoice = _decider_field(
        "tone", "Who picks the tone: 'llm', 'classic' or 'auto'."
    )
    fit_decider: DeciderChoice = _decider_field(
        "fit", "Who judges product fit and highlights: 'llm', 'classic' or 'auto'."
    )
    next_message_decider: DeciderChoice = _decider_field(
        "next_message",
        "Who chooses the next message type (the graph's edge): 'llm', 'classic' or 'auto'.",
    )
    wording_decider: DeciderChoice = _decider_field(
        "wording", "Who writes the SMS: 'llm', 'classic' (templates) or 'auto'."
    )
    llm_timeout_s: float = field(
        default_factory=lambda: llm_timeout_s(None),
        metadata={
            "description": "Per-decision LLM time budget in seconds; on timeout the "
            "classic decider answers."
        },
    )
    store_name: str = _store_field(
        "TEXTCART_STORE_NAME", lambda s: s.name, str, "Store name used in texts and the HELP reply."
    )
    store_timezone: str = _store_field(
        "TEXTCART_STORE_TIMEZONE",
        lambda s: s.timezone,
        str,
        "Time zone used when the shopper's is unknown.",
    )
    currency: str = _store_field(
        "TEXTCART_CURRENCY",
        lambda s: s.currency,
        str.upper,
        "ISO 4217 currency of the store's prices (products may carry their own).",
    )
    locale: str = _store_field(
        "TEXTCART_LOCALE",
        lambda s: s.locale,
        str,
        "Language and region of the store's texts (e.g. 'en-US', 'en-IN').",
    )
    brand_voice: str = _store_field(
        "TEXTCART_BRAND_VOICE",
        lambda s: s.voice.guidelines,
        str,
        "How the store sounds; the model that writes texts reads it.",
    )
    avoid_words: str = _store_field(
        "TEXTCART_AVOID_WORDS",
        lambda s: ",".join(s.voice.avoid_words),
        str,
        "Comma-separated words the store never texts; a model draft using one is refused.",
    )
    emoji: str = _store_field(
        "TEXTCART_EMOJI",
        lambda s: s.voice.emoji,
        str,
        "Emoji policy: 'none' (removed from every text), 'sparing' (at most one), 'free'.",
    )
    sign_off: str = _store_field(
        "TEXTCART_SIGN_OFF",
        lambda s: s.voice.sign_off,
        str,
        "Added to the end of every reply when it fits the segment budget.",
    )
    handoff_webhook_url: str = _store_field(
        "TEXTCART_HANDOFF_WEBHOOK_URL",
        lambda s: s.handoff.webhook_url,
        str,
        "Slack-compatible incoming webhook told of each hand-off; empty: nobody is told.",
    )
    handoff_release_hours: float = _store_field(
        "TEXTCART_HANDOFF_RELEASE_HOURS",
        lambda s: s.handoff.release_after_hours,
        float,
        "A thread a person took over goes back to the agent after this many hours.",
    )
    join_keyword: str = _env_field(
        "TEXTCART_JOIN_KEYWORD",
        "JOIN",
        "The word a shopper texts to subscribe; they are asked to confirm "
        "with Y. Env: TEXTCART_JOIN_KEYWORD.",
    )
    marketing_kind: str = _env_field(
        "TEXTCART_MARKETING_KIND",
        "cart reminders and offers",
        "What subscribers get, as the JOIN confirmation request names it. "
        "Env: TEXTCART_MARKETING_KIND.",
    )
    quiet_hours_start: int = _store_field(
        "TEXTCART_QUIET_START",
        lambda s: s.quiet_hours.start,
        int,
        "Hour (0-23, shopper's local time) from which no proactive text is sent.",
    )
    quiet_hours_end: int = _store_field(
        "TEXTCART_QUIET_END",
        lambda s: s.quiet_hours.end,
        int,
        "Hour (0-23, shopper's local time) at which proactive texts may resume.",
    )
    proactive_cap_24h: int = _store_field(
        "TEXTCART_PROACTIVE_CAP_24H",
        lambda s: s.frequency_cap.texts,
        int,
        "Most proactive (unprompted) texts per shopper per rolling window "
        "(proactive_window_hours, 24 h by default).",
    )
    proactive_window_hours: float = _store_field(
        "TEXTCART_PROACTIVE_WINDOW_H",
        lambda s: s.frequency_cap.window_hours,
        float,
        "Length of the rolling window of the proactive cap, in hours.",
    )
    max_segments: int = _store_field(
        "TEXTCART_MAX_SEGMENTS",
        lambda s: s.max_segments,
        int,
        "Longest reply allowed, in SMS segments.",
    )
    reply_in_response: bool = field(
        default=False,
        metadata={
            "description": "Set per run by a caller that returns the reply itself (the SMS "
            "webhook answers with TwiML); otherwise the configured sender delivers it."
        },
    )
    review_handoffs: bool = field(
        default_factory=lambda: _setting(
            "TEXTCART_REVIEW_HANDOFFS",
            lambda s: s.handoff.review,
            lambda raw: raw.lower() in ("1", "true", "yes"),
        ),
        metadata={
            "description": "Pause every hand-off reply for a person to send, edit or skip "
            "(resume the run with {'action': 'send'|'edit'|'skip', 'text': ...}). "
            "Env: TEXTCART_REVIEW_HANDOFFS."
        },
    )
    offer_code: str = _store_field(
        "TEXTCART_OFFER_CODE",
        lambda s: s.offers.code,
        str,
        "The only discount code the agent may send (empty: no offers).",
    )
    offer_percent: int = _store_field(
        "TEXTCART_OFFER_PERCENT", lambda s: s.offers.percent, int, "Discount of that code, in %."
    )
    offer_bands: str = _store_field(
        "TEXTCART_OFFER_BANDS",
        lambda s: ",".join(s.offers.bands),
        str,
        "Comma-separated buy-likelihood bands allowed an offer (e.g. 'medium' or "
        "'low,medium'); offers also need a price signal.",
    )
    proactive_decider: Literal["rules", "policy"] = _env_field(
        "TEXTCART_PROACTIVE_DECIDER",
        "rules",
        "Who chooses a proactive text's type when the classic decider "
        "does: 'rules' (a cart gets a checkout nudge, a browse a recommendation) or "
        "'policy' (the next-message policy, learned from outcomes). "
        "Env: TEXTCART_PROACTIVE_DECIDER.",
    )
    holdout_share: float = _env_field(
        "TEXTCART_HOLDOUT_SHARE",
        "0.1",
        "Share (0-1) of shoppers whose proactive triggers are held out: "
        "decided and logged, never sent, to measure what texting adds. Drawn per "
        "shopper and experiment, only among triggers that could have been sent. "
        "Env: TEXTCART_HOLDOUT_SHARE.",
        float,
    )
    holdout_experiment: str = _env_field(
        "TEXTCART_HOLDOUT_EXPERIMENT",
        "holdout-1",
        "Name of the holdout experiment; a new name draws the held-out "
        "shoppers afresh. Env: TEXTCART_HOLDOUT_EXPERIMENT.",
    )
    wording_test: str = _env_field(
        "TEXTCART_WORDING_TEST",
        "",
        "Comma-separated message types whose template wording is A/B "
        "tested (A: the tone's template with the link, B: the one without), assigned "
        "per shopper; empty for none. Env: TEXTCART_WORDING_TEST.",
    )
    catalog_collection: str = _env_field(
        "TEXTCART_COLLECTION", "Product", "Weaviate collection holding the catalog."
    )

    def decider_for(self, decision: str) -> Literal["classic", "llm"]:
        """Resolve 'auto' for one decision: the LLM when a model is configured."""
        choice: str = getattr(self, f"{decision}_decider")
        model = self.model_for(decision)
        if choice == "auto":
            return "llm" if model else "classic"
        if choice not in ("classic", "llm"):
            raise ValueError(f"{decision}_decider must be auto, classic or llm, not {choice!r}")
        if choice == "llm" and not model:
            raise ValueError(f"{decision}_decider is 'llm' but no model is configured")
        return choice  # type: ignore[return-value]

    def llm_specs(self) -> list[str]:
        """Every chat model some decision of this context asks, each once, in name order."""
        decisions: tuple[str, ...] = get_args(DecisionName)
        return sorted(
            {s for d in decisions if self.decider_for(d) == "llm" and (s := self.model_for(d))}
        )

    def model_for(self, decision: str) -> str | None:
        """The chat model for one decision: its own setting, else `model`."""
        own: str | None = getattr(self, f"{decision}_model", None)
        return own or self.model

    @property
    def wording_test_types(self) -> frozenset[str]:
        """Message types under a wording test, parsed from `wording_test`."""
        return frozenset(_comma_separated(self.wording_test))

    @property
    def voice(self) -> dict[str, Any]:
        """The store's brand voice as the model that writes texts is shown it."""
        return {
            "store": self.store_name,
            "locale": self.locale,
            "guidelines": self.brand_voice,
            "never_use_words": self.avoid_word_list,
            "emoji": self.emoji,
        }

    @property
    def avoid_word_list(self) -> list[str]:
        """Words the store never texts, parsed from `avoid_words`."""
        return _comma_separated(self.avoid_words)

    @property
    def offer_band_set(self) -> frozenset[str]:
        """Bands allowed an offer, parsed from `offer_bands`; none without an offer code."""
        if not self.offer_code.strip():
            return frozenset()
        return frozenset(_comma_separated(self.offer_bands))
