"""The process's settings: every environment variable textcart reads, typed, in one place.

One rule maps each field to its variable (`Settings.from_env`): an unset or empty variable
keeps the field's default, any other value is parsed as the field's type, and a value that
does not parse is refused with the variable's name. Per-run settings, the ones LangGraph
Studio shows per assistant, are `textcart.graph.context.Context`; they read their variables
through `environment()` here too.

The command line's `--data-dir`, `--store` (and `serve --production`'s database) are
applied with `configure(...)`, never by writing `os.environ`; a server process it starts is
handed them in its environment (`child_environment`). Variables are read at each
`current()`, so a test's `monkeypatch.setenv` applies at once.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


class SettingsError(ValueError):
    """A variable whose value cannot be used."""


def _setting(env: str, default: Any, help: str) -> Any:
    return field(default=default, metadata={"env": env, "help": help})


def _flag(raw: str) -> bool:
    return raw.strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Settings:
    """Everything the process is configured with from its environment."""

    # Where things are kept.
    home: Path | None = _setting(
        "TEXTCART_HOME", None, "Built binaries and models; default ~/.cache/textcart."
    )
    data_dir: Path | None = _setting(
        "TEXTCART_DATA_DIR", None, "Threads, shopper stores, servers' data; default ./var."
    )
    store_dir: Path | None = _setting(
        "TEXTCART_STORE_DIR", None, "The store folder; default the packaged demo store."
    )
    knowledge_dir: Path | None = _setting(
        "TEXTCART_KNOWLEDGE_DIR", None, "The knowledge folder; default the store folder's."
    )
    database_url: str = _setting(
        "TEXTCART_DATABASE_URL", "", "PostgreSQL connection string; empty: SQLite files."
    )
    # Models and the catalog.
    model: str = _setting("TEXTCART_MODEL", "", "The default chat model ('provider:model').")
    llm_base_url: str = _setting(
        "TEXTCART_LLM_BASE_URL", "", "OpenAI-compatible base URL for chat models."
    )
    openai_base_url: str = _setting("OPENAI_BASE_URL", "", "Used when the above is empty.")
    openai_api_key: str = _setting("OPENAI_API_KEY", "", "Key for OpenAI(-compatible) models.")
    llm_structured_output: str = _setting(
        "TEXTCART_LLM_STRUCTURED_OUTPUT", "", "Structured-output method for non-local models."
    )
    llm_timeout_s: float | None = _setting(
        "TEXTCART_LLM_TIMEOUT_S", None, "Per-decision model budget in seconds."
    )
    local_model: Path | None = _setting(
        "TEXTCART_LOCAL_MODEL", None, "The local model's GGUF file; default the bundled one."
    )
    embeddings: str = _setting(
        "TEXTCART_EMBEDDINGS", "", "Embedder: 'minilm' (default) or 'openai:<model>'."
    )
    weaviate_url: str = _setting("WEAVIATE_URL", "", "A Weaviate to use instead of our own.")
    weaviate_grpc_url: str = _setting("WEAVIATE_GRPC_URL", "", "Its gRPC host:port.")
    weaviate_api_key: str = _setting("WEAVIATE_API_KEY", "", "Its API key.")
    weaviate_bin: Path | None = _setting(
        "TEXTCART_WEAVIATE_BIN", None, "A weaviate-server binary to run instead of building one."
    )
    # Deciders fitted on data.
    explore_rate: float = _setting(
        "TEXTCART_EXPLORE_RATE", 0.0, "Share of next-message decisions drawn to explore."
    )
    next_message_policy: Path | None = _setting(
        "TEXTCART_NEXT_MESSAGE_POLICY", None, "The next-message policy file."
    )
    intent_model_file: Path | None = _setting(
        "TEXTCART_INTENT_MODEL_FILE", None, "The fitted intent classifier."
    )
    buy_likelihood_model_file: Path | None = _setting(
        "TEXTCART_BUY_LIKELIHOOD_MODEL_FILE", None, "The fitted buy-likelihood model."
    )
    # The server.
    api_keys: str = _setting("TEXTCART_API_KEYS", "", "Operator keys of the LangGraph API.")
    insecure_dev: bool = _setting(
        "TEXTCART_INSECURE_DEV", False, "Open every door (local development only)."
    )
    events_secret: str = _setting("TEXTCART_EVENTS_SECRET", "", "Signs POST /events.")
    public_url: str = _setting("TEXTCART_PUBLIC_URL", "", "The server's public base URL.")
    inbound_rate: str = _setting("TEXTCART_INBOUND_RATE", "", "Inbound texts allowed per number.")
    events_rate: str = _setting("TEXTCART_EVENTS_RATE", "", "Event posts allowed per client.")
    rate_limit_storage: str = _setting(
        "TEXTCART_RATE_LIMIT_STORAGE", "", "Shared storage URI of the rate limits."
    )
    abandonment_delay_minutes: float = _setting(
        "TEXTCART_ABANDONMENT_DELAY_MINUTES", 60.0, "Quiet time before a proactive text."
    )
    scheduler_interval_s: float = _setting(
        "TEXTCART_SCHEDULER_INTERVAL_S", 5.0, "How often the proactive queue is drained."
    )
    inbox_stale_s: float = _setting(
        "TEXTCART_INBOX_STALE_S", 120.0, "An unanswered text older than this counts as lost."
    )
    webhook_reply_s: float = _setting(
        "TEXTCART_WEBHOOK_REPLY_S",
        10.0,
        "How long the webhook waits for a reply before answering empty and texting it.",
    )
    recovery_interval_s: float = _setting(
        "TEXTCART_RECOVERY_INTERVAL_S", 60.0, "How often lost texts are looked for."
    )
    policy_refit_h: float = _setting(
        "TEXTCART_POLICY_REFIT_H", 24.0, "Hours between policy refits; 0 never."
    )
    assistant: str = _setting("TEXTCART_ASSISTANT", "textcart", "The assistant webhooks run.")
    runs_url: str = _setting("TEXTCART_RUNS_URL", "", "Where the runs API is; default in-process.")
    aegra_venv: Path | None = _setting(
        "TEXTCART_AEGRA_VENV", None, "Aegra's virtual environment; default ./.venv-aegra."
    )
    redis_url: str = _setting("REDIS_URL", "", "Redis of the production server.")
    # Sending texts.
    twilio_account_sid: str = _setting("TWILIO_ACCOUNT_SID", "", "Twilio account.")
    twilio_auth_token: str = _setting("TWILIO_AUTH_TOKEN", "", "Twilio token (signatures too).")
    twilio_from_number: str = _setting("TWILIO_FROM_NUMBER", "", "The store's number.")
    twilio_api_base_url: str = _setting("TWILIO_API_BASE_URL", "", "Another Twilio API base.")
    send_attempts: int | None = _setting("TEXTCART_SEND_ATTEMPTS", None, "Tries per text.")
    send_backoff_s: float | None = _setting(
        "TEXTCART_SEND_BACKOFF_S", None, "First wait between tries."
    )
    link_ttl_days: float = _setting("TEXTCART_LINK_TTL_DAYS", 30.0, "Tracked links live this long.")
    click_window_h: float = _setting(
        "TEXTCART_CLICK_WINDOW_H", 24.0, "A click this soon after a text is its outcome."
    )
    # Attribution windows (textcart.rules.attribution's defaults when unset).
    attribution_click_days: float | None = _setting(
        "TEXTCART_ATTRIBUTION_CLICK_DAYS", None, "A purchase this soon after a click is credited."
    )
    attribution_message_h: float | None = _setting(
        "TEXTCART_ATTRIBUTION_MESSAGE_H", None, "...after a text (no click)."
    )
    attribution_offer_days: float | None = _setting(
        "TEXTCART_ATTRIBUTION_OFFER_DAYS", None, "...with the offer's code."
    )
    reply_window_h: float | None = _setting(
        "TEXTCART_REPLY_WINDOW_H", None, "A reply this soon after a text is its outcome."
    )
    holdout_window_days: float | None = _setting(
        "TEXTCART_HOLDOUT_WINDOW_DAYS", None, "A held-out shopper's purchase window."
    )
    clock_skew_s: float | None = _setting(
        "TEXTCART_CLOCK_SKEW_S", None, "How far in the future an event's time may be."
    )
    # Shopify.
    shopify_webhook_secret: str = _setting("SHOPIFY_WEBHOOK_SECRET", "", "Signs its webhooks.")
    shopify_admin_token: str = _setting("SHOPIFY_ADMIN_TOKEN", "", "Admin API token.")
    shopify_api_base_url: str = _setting("SHOPIFY_API_BASE_URL", "", "Another Admin API base.")
    shopify_shop_domain: str = _setting("SHOPIFY_SHOP_DOMAIN", "", "The shop's domain.")
    shopify_api_version: str = _setting("SHOPIFY_API_VERSION", "", "Admin API version.")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Each field from its variable when set and not empty, else its default."""
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = environ.get(spec.metadata["env"], "").strip()
            if raw:
                values[spec.name] = _parse(spec.metadata["env"], str(spec.type), raw)
        return cls(**values)


def _parse(env: str, kind: str, raw: str) -> Any:
    parsers: dict[str, Callable[[str], Any]] = {
        "bool": _flag,
        "float": float,
        "int": int,
        "Path": Path,
    }
    parse = next((p for name, p in parsers.items() if kind.startswith(name)), str)
    try:
        return parse(raw)
    except ValueError:
        raise SettingsError(f"{env}={raw!r} is not a {kind.split(' ')[0]}") from None


_overrides: dict[str, Any] = {}


def configure(**values: Any) -> None:
    """Set fields for the rest of this process over the environment (the command line's)."""
    replace(Settings(), **values)  # refuses a name that is not a field
    _overrides.update(values)


def current() -> Settings:
    """The process's settings: the environment, with what `configure` set on top."""
    environ = os.environ
    raw = tuple(environ.get(name) for name in _VARIABLES)
    return _parsed(raw, tuple(_overrides.items()))


_VARIABLES: tuple[str, ...] = tuple(spec.metadata["env"] for spec in fields(Settings))


@functools.lru_cache(maxsize=16)
def _parsed(raw: tuple[str | None, ...], overrides: tuple[tuple[str, Any], ...]) -> Settings:
    # Parsed once per distinct environment: turns read settings often, and it rarely changes.
    environ = {name: value for name, value in zip(_VARIABLES, raw, strict=True) if value}
    return replace(Settings.from_env(environ), **dict(overrides))


def environment(name: str) -> str | None:
    """A variable's value as set for this process (`Context`'s fallbacks read through this)."""
    for spec in fields(Settings):
        if spec.metadata["env"] == name and spec.name in _overrides:
            return str(_overrides[spec.name])
    return os.environ.get(name)


def variable(setting: str) -> str:
    """The environment variable of a field, for messages that name it."""
    return next(s.metadata["env"] for s in fields(Settings) if s.name == setting)


def child_environment() -> dict[str, str]:
    """What a server process this one starts must be told of `configure`'s settings."""
    by_name = {spec.name: spec.metadata["env"] for spec in fields(Settings)}
    return {by_name[name]: str(value) for name, value in _overrides.items() if value}
