"""Run-time settings of the conversation graph.

One typed class; every field has a description (shown in LangGraph Studio when an
assistant is configured) and falls back to an environment variable, so the same graph is
configured from Studio, from the API, or from the shell.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

from textcart.tools.llm import llm_timeout_s

DeciderChoice = Literal["auto", "classic", "llm"]


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_model() -> str | None:
    value = os.environ.get("TEXTCART_MODEL", "").strip()
    return value or None


def _model_field(decision: str, what: str) -> Any:
    env = f"TEXTCART_{decision.upper()}_MODEL"
    return field(
        default_factory=lambda: os.environ.get(env, "").strip() or None,
        metadata={
            "description": f"Chat model for {what} only (same forms as 'model'); empty uses "
            f"'model'. Env: {env}."
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
            "Env: TEXTCART_MODEL."
        },
    )
    intent_model: str | None = _model_field("intent", "intent classification")
    buy_likelihood_model: str | None = _model_field("buy_likelihood", "buy-likelihood")
    tone_model: str | None = _model_field("tone", "tone")
    fit_model: str | None = _model_field("fit", "product fit")
    next_message_model: str | None = _model_field("next_message", "the next message type")
    wording_model: str | None = _model_field("wording", "writing the SMS")
    intent_decider: DeciderChoice = field(
        default_factory=lambda: _env("TEXTCART_INTENT_DECIDER", "auto"),  # type: ignore[arg-type,return-value]
        metadata={
            "description": "Who classifies intent: 'llm', 'classic', or 'auto' "
            "(LLM when a model is configured)."
        },
    )
    buy_likelihood_decider: DeciderChoice = field(
        default_factory=lambda: _env("TEXTCART_BUY_LIKELIHOOD_DECIDER", "auto"),  # type: ignore[arg-type,return-value]
        metadata={"description": "Who scores buy-likelihood: 'llm', 'classic' or 'auto'."},
    )
    tone_decider: DeciderChoice = field(
        default_factory=lambda: _env("TEXTCART_TONE_DECIDER", "auto"),  # type: ignore[arg-type,return-value]
        metadata={"description": "Who picks the tone: 'llm', 'classic' or 'auto'."},
    )
    fit_decider: DeciderChoice = field(
        default_factory=lambda: _env("TEXTCART_FIT_DECIDER", "auto"),  # type: ignore[arg-type,return-value]
        metadata={
            "description": "Who judges product fit and highlights: 'llm', 'classic' or 'auto'."
        },
    )
    next_message_decider: DeciderChoice = field(
        default_factory=lambda: _env("TEXTCART_NEXT_MESSAGE_DECIDER", "auto"),  # type: ignore[arg-type,return-value]
        metadata={
            "description": "Who chooses the next message type (the graph's edge): "
            "'llm', 'classic' or 'auto'."
        },
    )
    wording_decider: DeciderChoice = field(
        default_factory=lambda: _env("TEXTCART_WORDING_DECIDER", "auto"),  # type: ignore[arg-type,return-value]
        metadata={"description": "Who writes the SMS: 'llm', 'classic' (templates) or 'auto'."},
    )
    llm_timeout_s: float = field(
        default_factory=lambda: llm_timeout_s(None),
        metadata={
            "description": "Per-decision LLM time budget in seconds; on timeout the "
            "classic decider answers."
        },
    )
    store_name: str = field(
        default_factory=lambda: _env("TEXTCART_STORE_NAME", "Trailhead Outfitters"),
        metadata={"description": "Store name used in texts and the HELP reply."},
    )
    store_timezone: str = field(
        default_factory=lambda: _env("TEXTCART_STORE_TIMEZONE", "America/New_York"),
        metadata={"description": "Time zone used when the shopper's is unknown."},
    )
    join_keyword: str = field(
        default_factory=lambda: _env("TEXTCART_JOIN_KEYWORD", "JOIN"),
        metadata={
            "description": "The word a shopper texts to subscribe; they are asked to confirm "
            "with Y. Env: TEXTCART_JOIN_KEYWORD."
        },
    )
    marketing_kind: str = field(
        default_factory=lambda: _env("TEXTCART_MARKETING_KIND", "cart reminders and offers"),
        metadata={
            "description": "What subscribers get, as the JOIN confirmation request names it. "
            "Env: TEXTCART_MARKETING_KIND."
        },
    )
    quiet_hours_start: int = field(
        default_factory=lambda: int(_env("TEXTCART_QUIET_START", "21")),
        metadata={
            "description": "Hour (0-23, shopper's local time) from which no proactive text is sent."
        },
    )
    quiet_hours_end: int = field(
        default_factory=lambda: int(_env("TEXTCART_QUIET_END", "9")),
        metadata={
            "description": "Hour (0-23, shopper's local time) at which proactive texts may resume."
        },
    )
    proactive_cap_24h: int = field(
        default_factory=lambda: int(_env("TEXTCART_PROACTIVE_CAP_24H", "2")),
        metadata={
            "description": "Most proactive (unprompted) texts per shopper per rolling "
            "window (proactive_window_hours, 24 h by default)."
        },
    )
    proactive_window_hours: float = field(
        default_factory=lambda: float(_env("TEXTCART_PROACTIVE_WINDOW_H", "24")),
        metadata={"description": "Length of the rolling window of the proactive cap, in hours."},
    )
    max_segments: int = field(
        default_factory=lambda: int(_env("TEXTCART_MAX_SEGMENTS", "2")),
        metadata={"description": "Longest reply allowed, in SMS segments."},
    )
    reply_in_response: bool = field(
        default=False,
        metadata={
            "description": "Set per run by a caller that returns the reply itself (the SMS "
            "webhook answers with TwiML); otherwise the configured sender delivers it."
        },
    )
    review_handoffs: bool = field(
        default_factory=lambda: (
            _env("TEXTCART_REVIEW_HANDOFFS", "false").lower() in ("1", "true", "yes")
        ),
        metadata={
            "description": "Pause every hand-off reply for a person to send, edit or skip "
            "(resume the run with {'action': 'send'|'edit'|'skip', 'text': ...}). "
            "Env: TEXTCART_REVIEW_HANDOFFS."
        },
    )
    offer_code: str = field(
        default_factory=lambda: _env("TEXTCART_OFFER_CODE", "TRAIL10"),
        metadata={"description": "The only discount code the agent may send."},
    )
    offer_percent: int = field(
        default_factory=lambda: int(_env("TEXTCART_OFFER_PERCENT", "10")),
        metadata={"description": "Discount of that code, in percent."},
    )
    offer_bands: str = field(
        default_factory=lambda: _env("TEXTCART_OFFER_BANDS", "medium"),
        metadata={
            "description": "Comma-separated buy-likelihood bands allowed an offer "
            "(e.g. 'medium' or 'low,medium'); offers also need a price signal."
        },
    )
    proactive_decider: Literal["rules", "policy"] = field(
        default_factory=lambda: _env("TEXTCART_PROACTIVE_DECIDER", "rules"),  # type: ignore[arg-type,return-value]
        metadata={
            "description": "Who chooses a proactive text's type when the classic decider "
            "does: 'rules' (a cart gets a checkout nudge, a browse a recommendation) or "
            "'policy' (the next-message policy, learned from outcomes). "
            "Env: TEXTCART_PROACTIVE_DECIDER."
        },
    )
    holdout_share: float = field(
        default_factory=lambda: float(_env("TEXTCART_HOLDOUT_SHARE", "0.1")),
        metadata={
            "description": "Share (0-1) of shoppers whose proactive triggers are held out: "
            "decided and logged, never sent, to measure what texting adds. Drawn per "
            "shopper and experiment, only among triggers that could have been sent. "
            "Env: TEXTCART_HOLDOUT_SHARE."
        },
    )
    holdout_experiment: str = field(
        default_factory=lambda: _env("TEXTCART_HOLDOUT_EXPERIMENT", "holdout-1"),
        metadata={
            "description": "Name of the holdout experiment; a new name draws the held-out "
            "shoppers afresh. Env: TEXTCART_HOLDOUT_EXPERIMENT."
        },
    )
    wording_test: str = field(
        default_factory=lambda: _env("TEXTCART_WORDING_TEST", ""),
        metadata={
            "description": "Comma-separated message types whose template wording is A/B "
            "tested (A: the tone's template with the link, B: the one without), assigned "
            "per shopper; empty for none. Env: TEXTCART_WORDING_TEST."
        },
    )
    catalog_collection: str = field(
        default_factory=lambda: _env("TEXTCART_COLLECTION", "Product"),
        metadata={"description": "Weaviate collection holding the catalog."},
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

    def model_for(self, decision: str) -> str | None:
        """The chat model for one decision: its own setting, else `model`."""
        own: str | None = getattr(self, f"{decision}_model", None)
        return own or self.model

    @property
    def wording_test_types(self) -> frozenset[str]:
        """Message types under a wording test, parsed from `wording_test`."""
        return frozenset(t.strip() for t in self.wording_test.split(",") if t.strip())

    @property
    def offer_band_set(self) -> frozenset[str]:
        """Bands allowed an offer, parsed from `offer_bands`."""
        return frozenset(b.strip() for b in self.offer_bands.split(",") if b.strip())
