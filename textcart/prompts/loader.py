"""Load and validate the prompt files in this package, or a store's override of one.

Every decision has one YAML file here; a store folder may replace one with its own
`prompts/<decision>.yaml` (same shape, same checks). Loading validates it: labels must come from the
fixed vocabularies in the design brief, each label needs enough examples, and examples must
not contradict the rules the instructions state. Files are read once and cached, so call
``load_prompt`` at start-up (it does blocking file I/O the first time).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args, overload

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from textcart.paths import store_dir
from textcart.prompts.templates import check_template

# The fixed vocabularies live with the graph's state; the prompt files must use them.
from textcart.vocabulary.labels import Intent, MessageType, Tone

LikelihoodBand = Literal["low", "medium", "high"]
PromptName = Literal["intent", "tone", "buy_likelihood", "next_message", "fit", "wording"]

INTENTS: tuple[Intent, ...] = get_args(Intent)
TONES: tuple[Tone, ...] = get_args(Tone)
MESSAGE_TYPES: tuple[MessageType, ...] = get_args(MessageType)
PROMPT_NAMES: tuple[PromptName, ...] = get_args(PromptName)
# no_reply sends nothing, so it is the one message type without wording templates.
WORDED_MESSAGE_TYPES: tuple[MessageType, ...] = tuple(t for t in MESSAGE_TYPES if t != "no_reply")


MIN_INTENT_EXAMPLES_PER_LABEL = 16
MIN_TONE_EXAMPLES_PER_LABEL = 12
MIN_BUY_LIKELIHOOD_EXAMPLES = 40
MIN_BUY_LIKELIHOOD_EXAMPLES_PER_OUTCOME = 15
MIN_NEXT_MESSAGE_EXAMPLES = 50
MIN_NEXT_MESSAGE_EXAMPLES_PER_LABEL = 3
MIN_FIT_EXAMPLES = 4
MIN_TEMPLATES_PER_TONE = 2
MIN_WORDING_EXAMPLES = 6


class PromptFileError(ValueError):
    """A prompt file is missing, unknown or does not pass validation."""


def normalise_text(text: str) -> str:
    """Return ``text`` case-folded with whitespace collapsed, for duplicate checks."""
    return " ".join(text.casefold().split())


def _require_full_coverage(labels: Mapping[Any, str], vocabulary: tuple[str, ...]) -> None:
    missing = [label for label in vocabulary if label not in labels]
    if missing:
        raise ValueError(f"labels is missing meanings for: {', '.join(missing)}")
    empty = [label for label, meaning in labels.items() if not meaning.strip()]
    if empty:
        raise ValueError(f"labels without a meaning: {', '.join(empty)}")


def _require_examples_per_label(
    found: list[str], vocabulary: tuple[str, ...], minimum: int
) -> None:
    short = {label: found.count(label) for label in vocabulary if found.count(label) < minimum}
    if short:
        detail = ", ".join(f"{label} has {count}" for label, count in short.items())
        raise ValueError(f"each label needs at least {minimum} examples: {detail}")


def _require_unique(keys: list[Any], what: str) -> None:
    seen: set[Any] = set()
    repeated = []
    for key in keys:
        if key in seen:
            repeated.append(key)
        seen.add(key)
    if repeated:
        raise ValueError(f"duplicate {what}: {repeated}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PromptFile(_Strict):
    """Fields every prompt file has."""

    decision: str
    version: int = Field(ge=1)
    instructions: str = Field(min_length=1)


class IntentExample(_Strict):
    """One shopper text and its intent; `after` names the store message it answers, if any.

    Without `after` the text means the same whatever the store said before it. With it,
    the label holds only after that type of store message ("yes please" after an offer).
    """

    text: str = Field(min_length=1)
    after: MessageType | None = None
    label: Intent


class IntentPrompt(PromptFile):
    """``intent.yaml``: classify what an inbound text wants."""

    labels: dict[Intent, str]
    examples: list[IntentExample]

    @model_validator(mode="after")
    def _check_examples(self) -> IntentPrompt:
        _require_full_coverage(self.labels, INTENTS)
        _require_examples_per_label(
            [e.label for e in self.examples], INTENTS, MIN_INTENT_EXAMPLES_PER_LABEL
        )
        _require_unique([(normalise_text(e.text), e.after) for e in self.examples], "example texts")
        return self


class ToneExample(_Strict):
    """A shopper's text and situation with the tone that fits."""

    text: str
    situation: str = Field(min_length=1)
    label: Tone


class TonePrompt(PromptFile):
    """``tone.yaml``: pick the tone of the next message."""

    labels: dict[Tone, str]
    examples: list[ToneExample]

    @model_validator(mode="after")
    def _check_examples(self) -> TonePrompt:
        _require_full_coverage(self.labels, TONES)
        _require_examples_per_label(
            [e.label for e in self.examples], TONES, MIN_TONE_EXAMPLES_PER_LABEL
        )
        _require_unique(
            [(normalise_text(e.text), normalise_text(e.situation)) for e in self.examples],
            "examples (text, situation)",
        )
        return self


class ShopperBehaviour(_Strict):
    """What a shopper did on the site recently."""

    product_views_7d: int = Field(ge=0)
    distinct_products_viewed_7d: int = Field(ge=0)
    cart_adds_7d: int = Field(ge=0)
    checkout_started_7d: bool
    purchases_90d: int = Field(ge=0)
    sessions_7d: int = Field(ge=0)
    minutes_since_last_activity: float | None = Field(ge=0)
    returning_customer: bool

    @model_validator(mode="after")
    def _check_consistent(self) -> ShopperBehaviour:
        if self.distinct_products_viewed_7d > self.product_views_7d:
            raise ValueError("distinct_products_viewed_7d cannot exceed product_views_7d")
        if self.product_views_7d and not self.sessions_7d:
            raise ValueError("product views need at least one session")
        if self.purchases_90d and not self.returning_customer:
            raise ValueError("a shopper with purchases_90d > 0 is a returning customer")
        return self


class BuyLikelihoodExample(_Strict):
    """A shopper's behaviour and text, whether they bought, and the probability we give."""

    behaviour: ShopperBehaviour
    text: str | None
    bought: bool
    probability: float = Field(ge=0.0, le=1.0)


class BuyLikelihoodPrompt(PromptFile):
    """``buy_likelihood.yaml``: estimate the probability that a shopper buys soon."""

    examples: list[BuyLikelihoodExample]

    @model_validator(mode="after")
    def _check_examples(self) -> BuyLikelihoodPrompt:
        if len(self.examples) < MIN_BUY_LIKELIHOOD_EXAMPLES:
            raise ValueError(f"needs at least {MIN_BUY_LIKELIHOOD_EXAMPLES} examples")
        bought = sum(e.bought for e in self.examples)
        for outcome, count in (("bought", bought), ("not bought", len(self.examples) - bought)):
            if count < MIN_BUY_LIKELIHOOD_EXAMPLES_PER_OUTCOME:
                raise ValueError(
                    f"needs at least {MIN_BUY_LIKELIHOOD_EXAMPLES_PER_OUTCOME} "
                    f"'{outcome}' examples, found {count}"
                )
        _require_unique(
            [(e.behaviour, e.text and normalise_text(e.text)) for e in self.examples],
            "examples (behaviour, text)",
        )
        return self


class NextMessageExample(_Strict):
    """A moment in a conversation and the message type that works best there."""

    intent: Intent
    buy_likelihood_band: LikelihoodBand
    last_message_type: MessageType | None
    turns_so_far: int = Field(ge=0)
    has_products: bool
    label: MessageType
    why: str = Field(min_length=1)

    @model_validator(mode="after")
    def _check_policy(self) -> NextMessageExample:
        # The rules below are stated in the instructions; an example that breaks one would
        # teach a decider the opposite of what the instructions say.
        if self.intent == "opt_out":
            raise ValueError("opt_out is handled before this decision; no examples for it")
        if self.label == "send_offer":
            if self.intent != "price_or_discount" and self.buy_likelihood_band != "medium":
                raise ValueError(
                    "send_offer needs price sensitivity (price_or_discount) or a medium band"
                )
            if self.last_message_type == "send_offer":
                raise ValueError("never send a second offer right after one")
        if self.intent in ("complaint", "human_agent") and self.label != "handoff_to_human":
            raise ValueError(f"{self.intent} must be handed to a human")
        if self.intent == "not_interested" and self.label not in ("answer_question", "no_reply"):
            raise ValueError("not_interested gets one acknowledgement or no reply, never selling")
        if self.label == "recommend_products" and not self.has_products:
            raise ValueError("recommend_products needs products to recommend")
        return self


class NextMessagePrompt(PromptFile):
    """``next_message.yaml``: choose the type of the next message."""

    labels: dict[MessageType, str]
    examples: list[NextMessageExample]

    @model_validator(mode="after")
    def _check_examples(self) -> NextMessagePrompt:
        _require_full_coverage(self.labels, MESSAGE_TYPES)
        if len(self.examples) < MIN_NEXT_MESSAGE_EXAMPLES:
            raise ValueError(f"needs at least {MIN_NEXT_MESSAGE_EXAMPLES} examples")
        _require_examples_per_label(
            [e.label for e in self.examples], MESSAGE_TYPES, MIN_NEXT_MESSAGE_EXAMPLES_PER_LABEL
        )
        _require_unique(
            [
                (
                    e.intent,
                    e.buy_likelihood_band,
                    e.last_message_type,
                    e.turns_so_far,
                    e.has_products,
                )
                for e in self.examples
            ],
            "example situations",
        )
        return self


class FitProduct(_Strict):
    """A product as the fit decision sees it."""

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    price: float = Field(ge=0)
    sizes_in_stock: list[str]
    selling_points: list[str] = Field(min_length=1)
    rating: float | None = Field(default=None, ge=0, le=5)


class ShopperSummary(_Strict):
    """What we know about the shopper for the fit decision."""

    stated_needs: str
    size: str | None
    budget: float | None = Field(ge=0)
    viewed_recently: list[str]
    bought_before: list[str]


class FitAnswer(_Strict):
    """The fit decision: best product, alternatives, highlights and why."""

    best_fit_id: str
    is_asked_product_best: bool
    alternative_ids: list[str] = Field(max_length=2)
    highlights: list[str] = Field(min_length=1, max_length=3)
    reason: str = Field(min_length=1)


class FitExample(_Strict):
    """One worked fit decision."""

    shopper: ShopperSummary
    asked_about: FitProduct
    candidates: list[FitProduct]
    answer: FitAnswer

    @model_validator(mode="after")
    def _check_grounded(self) -> FitExample:
        # A worked example that names an unknown product or an unlisted selling point would
        # teach the model to invent them.
        products = {p.id: p for p in [self.asked_about, *self.candidates]}
        answer = self.answer
        if answer.best_fit_id not in products:
            raise ValueError(f"best_fit_id {answer.best_fit_id} is not among the products")
        if answer.is_asked_product_best != (answer.best_fit_id == self.asked_about.id):
            raise ValueError("is_asked_product_best disagrees with best_fit_id")
        candidate_ids = {c.id for c in self.candidates}
        unknown = [i for i in answer.alternative_ids if i not in candidate_ids]
        if unknown:
            raise ValueError(f"alternative_ids not among the candidates: {unknown}")
        _require_unique(list(answer.alternative_ids), "alternative_ids")
        if answer.best_fit_id in answer.alternative_ids:
            raise ValueError("the best fit is not also an alternative")
        listed = products[answer.best_fit_id].selling_points
        invented = [h for h in answer.highlights if h not in listed]
        if invented:
            raise ValueError(f"highlights not in the best fit's selling points: {invented}")
        return self


class FitPrompt(PromptFile):
    """``fit.yaml``: judge whether the asked-about product is the best fit."""

    examples: list[FitExample]

    @model_validator(mode="after")
    def _check_examples(self) -> FitPrompt:
        if len(self.examples) < MIN_FIT_EXAMPLES:
            raise ValueError(f"needs at least {MIN_FIT_EXAMPLES} worked examples")
        return self


class WordingExample(_Strict):
    """A finished SMS written by an expert for one message type and tone."""

    message_type: MessageType
    tone: Tone
    text: str = Field(min_length=1)


class WordingPrompt(PromptFile):
    """``wording.yaml``: how to write the SMS, with templates per message type and tone."""

    templates: dict[MessageType, dict[Tone, list[str]]]
    # After an answer, at most one of these lines per message type ("" = the answer alone).
    answer_first: dict[MessageType, list[str]] = Field(default_factory=dict)
    # Before an answer, per message type and tone: an apology before the warranty terms.
    answer_lead: dict[MessageType, dict[Tone, str]] = Field(default_factory=dict)
    # A wording test's arms: the instruction the model writing a text in each arm gets.
    variants: dict[Literal["A", "B"], str] = Field(default_factory=dict)
    examples: list[WordingExample]

    @model_validator(mode="after")
    def _check_templates(self) -> WordingPrompt:
        missing_types = [t for t in WORDED_MESSAGE_TYPES if t not in self.templates]
        if missing_types:
            raise ValueError(f"templates missing for: {', '.join(missing_types)}")
        if "no_reply" in self.templates:
            raise ValueError("no_reply sends nothing, so it has no templates")
        for message_type, by_tone in self.templates.items():
            for tone in TONES:
                options = by_tone.get(tone, [])
                if len(options) < MIN_TEMPLATES_PER_TONE:
                    raise ValueError(
                        f"{message_type}/{tone} needs at least {MIN_TEMPLATES_PER_TONE} templates"
                    )
                for template in options:
                    check_template(template)
                _require_unique(
                    [normalise_text(t) for t in options], f"{message_type}/{tone} templates"
                )
        for leads in self.answer_lead.values():
            for lead in leads.values():
                check_template(lead)
        for message_type, lines in self.answer_first.items():
            if not lines:
                raise ValueError(f"answer_first/{message_type} needs at least one line")
            for line in lines:
                check_template(line)
        if self.variants and (set(self.variants) != {"A", "B"} or not all(self.variants.values())):
            raise ValueError("variants needs an instruction for both arms, A and B")
        if len(self.examples) < MIN_WORDING_EXAMPLES:
            raise ValueError(f"needs at least {MIN_WORDING_EXAMPLES} example messages")
        if any(e.message_type == "no_reply" for e in self.examples):
            raise ValueError("no_reply sends nothing, so it has no example messages")
        return self


_MODELS: dict[str, type[PromptFile]] = {
    "intent": IntentPrompt,
    "tone": TonePrompt,
    "buy_likelihood": BuyLikelihoodPrompt,
    "next_message": NextMessagePrompt,
    "fit": FitPrompt,
    "wording": WordingPrompt,
}


@overload
def load_prompt(name: Literal["intent"]) -> IntentPrompt: ...


@overload
def load_prompt(name: Literal["tone"]) -> TonePrompt: ...


@overload
def load_prompt(name: Literal["buy_likelihood"]) -> BuyLikelihoodPrompt: ...


@overload
def load_prompt(name: Literal["next_message"]) -> NextMessagePrompt: ...


@overload
def load_prompt(name: Literal["fit"]) -> FitPrompt: ...


@overload
def load_prompt(name: Literal["wording"]) -> WordingPrompt: ...


def load_prompt(name: PromptName) -> PromptFile:
    """The validated prompt of one decision: the store folder's override, else the package's.

    The store folder is `$TEXTCART_STORE_DIR` (default the demo store); its
    `prompts/<name>.yaml`, when present, replaces the packaged file. Cached per folder.
    """
    return _load_prompt(name, str(prompt_override_path(name)))


def prompt_override_path(name: str) -> Path:
    """Where the selected store folder would keep its own prompt for `name`."""
    return store_dir() / "prompts" / f"{name}.yaml"


@functools.cache
def _load_prompt(name: str, override: str) -> PromptFile:
    model = _MODELS.get(name)
    if model is None:
        raise PromptFileError(f"no prompt called {name!r}; known: {', '.join(PROMPT_NAMES)}")
    path = Path(override)
    where = str(path) if path.is_file() else f"{name}.yaml"
    try:
        if path.is_file():
            text = path.read_text(encoding="utf-8")
        else:
            package = resources.files(__package__ or "textcart.prompts")
            text = package.joinpath(f"{name}.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, yaml.YAMLError) as exc:
        raise PromptFileError(f"{where} could not be read: {exc}") from exc
    if not isinstance(data, dict):
        raise PromptFileError(f"{where} must hold a mapping of keys at the top level")
    if data.get("decision") != name:
        raise PromptFileError(f"{where} must say decision: {name}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "\n".join(
            f"{where}: {'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}"
            for e in exc.errors()
        )
        raise PromptFileError(f"{where} is not valid:\n{problems}") from exc
