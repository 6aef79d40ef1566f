"""`store.yaml`: who the store is and the rules it texts by, read and checked once.

An operator edits this file; a mistake in it is reported with the file, the line and the
field (`store.yaml:14: voice.emoji: Input should be 'none', 'sparing' or 'free'`), never
as a stack trace in the middle of a shopper's turn. Environment variables still win over
the file (the same `TEXTCART_...` names as before), so one deployment can override a
setting without editing the folder.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from textcart.paths import store_dir
from textcart.vocabulary.money import CURRENCIES, is_known_currency

SETTINGS_FILE = "store.yaml"
Emoji = Literal["none", "sparing", "free"]
Band = Literal["low", "medium", "high"]
DECISIONS = ("intent", "buy_likelihood", "tone", "fit", "next_message", "wording")


class StoreFolderError(ValueError):
    """A store folder file that cannot be used; the message names file, line and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Voice(_Strict):
    """How the store sounds in a text."""

    guidelines: str = Field(
        default="Friendly, plain and brief. Answer first, then at most one helpful line.",
        description="Brand voice, in a few sentences; the model that writes texts reads it.",
    )
    avoid_words: list[str] = Field(
        default_factory=list,
        description="Words and phrases the store never texts; a draft using one is refused.",
    )
    emoji: Emoji = Field(
        default="sparing", description="'none' (never), 'sparing' (at most one) or 'free'."
    )
    sign_off: str = Field(
        default="",
        max_length=40,
        description="Added to the end of every reply when it fits the segment budget.",
    )


class QuietHours(_Strict):
    """Hours (shopper's local time) when no proactive text goes out."""

    start: int = Field(default=21, ge=0, le=23)
    end: int = Field(default=9, ge=0, le=23)


class FrequencyCap(_Strict):
    """At most `texts` proactive texts per shopper in a rolling window."""

    texts: int = Field(default=2, ge=0)
    window_hours: float = Field(default=24, gt=0)


class Offers(_Strict):
    """The only discount the agent may send, and to whom."""

    code: str = Field(default="", pattern=r"^[A-Za-z0-9-]{0,20}$")
    percent: int = Field(default=10, ge=0, le=90)
    bands: list[Band] = Field(default_factory=lambda: list[Band](["medium"]))


class Handoff(_Strict):
    """Where a hand-off goes, and how long a person keeps the thread."""

    webhook_url: str = Field(
        default="",
        description="Slack-compatible incoming webhook told of every hand-off (empty: none).",
    )
    release_after_hours: float = Field(
        default=24,
        gt=0,
        description="A thread a person took over goes back to the agent after this long.",
    )
    review: bool = Field(
        default=False, description="Pause each hand-off reply for a person to send or edit."
    )

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL or empty")
        return value


class Models(_Strict):
    """Chat model per decision ('provider:model', 'local', or empty for classic)."""

    default: str = ""
    intent: str = ""
    buy_likelihood: str = ""
    tone: str = ""
    fit: str = ""
    next_message: str = ""
    wording: str = ""


class StoreSettings(_Strict):
    """Everything `store.yaml` says. Only `name` and `currency` are required."""

    name: str = Field(min_length=1, max_length=40)
    currency: str
    locale: str = Field(default="en-US", pattern=r"^[a-z]{2}(-[A-Z]{2})?$")
    timezone: str = "America/New_York"
    voice: Voice = Field(default_factory=Voice)
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    frequency_cap: FrequencyCap = Field(default_factory=FrequencyCap)
    max_segments: int = Field(default=2, ge=1, le=10)
    offers: Offers = Field(default_factory=Offers)
    handoff: Handoff = Field(default_factory=Handoff)
    models: Models = Field(default_factory=Models)
    catalog: list[str] = Field(
        default_factory=list,
        description="Product files (JSONL, CSV, Shopify or Flipkart CSV), relative to the folder.",
    )
    orders: str = Field(
        default="", description="An order book file (YAML) relative to the folder; optional."
    )
    knowledge: str = Field(default="knowledge", description="The knowledge base folder.")

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not is_known_currency(value):
            raise ValueError(f"unknown currency {value!r}; one of {', '.join(CURRENCIES)}")
        return value.upper()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return known_timezone(value)

    @field_validator("catalog", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc` (or of its deepest ancestor found)."""
    line = node.start_mark.line + 1 if node is not None else None
    for step in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if 0 <= step < len(node.value):
                child = node.value[step]
                line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def known_timezone(value: str) -> str:
    """`value` if it names an IANA time zone; a validator's error otherwise."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r} (an IANA name)") from exc
    return value


def parse_settings(text: str, where: str) -> StoreSettings:
    """Validate the text of a `store.yaml`; errors name `where`, the line and the field."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise StoreFolderError(f"{where}{line}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise StoreFolderError(f"{where}:1: must be a mapping with at least `name` and `currency`")
    try:
        return StoreSettings.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            field = ".".join(str(p) for p in loc) or "(top level)"
            problems.append(f"{where}:{_line_of(root, loc) or 1}: {field}: {error['msg']}")
        raise StoreFolderError("\n".join(problems)) from exc


def load_settings(folder: Path) -> StoreSettings:
    """Read and check `folder/store.yaml`."""
    path = folder / SETTINGS_FILE
    if not path.is_file():
        raise StoreFolderError(
            f"{path}: missing; a store folder needs a store.yaml (`textcart init DIR` writes one)"
        )
    return parse_settings(path.read_text(encoding="utf-8"), str(path))


@functools.cache
def _settings_of(folder: str) -> StoreSettings:
    return load_settings(Path(folder))


def active_store() -> StoreSettings:
    """The settings of the selected store folder (`TEXTCART_STORE_DIR`, else the demo's)."""
    return _settings_of(str(store_dir().resolve()))


def store_path(relative: str) -> Path:
    """A path named in `store.yaml`, resolved against the selected store folder."""
    path = Path(relative)
    return path if path.is_absolute() else store_dir() / path
