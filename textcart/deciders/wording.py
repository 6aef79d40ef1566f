"""SMS wording: the text itself, from templates (classic) or written by the LLM."""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Mapping
from typing import Any

from langchain_core.language_models import BaseChatModel

from textcart.deciders.base import load_prompt_file, prompt_messages
from textcart.tools.llm import ainvoke_structured
from textcart.vocabulary.outputs import SmsDraft
from textcart.vocabulary.records import SmsFacts


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _fallback(message_type: str, facts: SmsFacts) -> str:
    """Plain wording used when no template's placeholders can all be filled."""
    store = facts.get("store", "us")
    if message_type == "order_help":
        return facts.get("order_line") or (
            f"I couldn't find a recent order for this number. Reply with your order number "
            f"and {store} will look it up."
        )
    if message_type == "handoff_to_human":
        return facts.get("handoff") or f"Please contact the {store} team directly."
    if message_type == "ask_clarifying":
        return facts.get("question") or "Happy to help! What are you shopping for?"
    if facts.get("products"):
        return f"A few picks for you: {facts['products']}."
    return f"Thanks for your message! What can {store} help you find?"


# "Hi {name}!" -> "Hi!", "Great question, {name}!" -> "Great question!", "{name}, the ..." ->
# "The ...": a template reads naturally without a name we do not know.
_NAME = re.compile(r",?\s*\{name\}\s*(?=[!?.,:])|\{name\},?\s*|\s+\{name\}")


def _without_name(template: str) -> str:
    text = _NAME.sub("", template)
    text = re.sub(r"\s+([!?.,:])", r"\1", text)
    text = re.sub(r"^[\s,.:;!-]+", "", text)
    return text[:1].upper() + text[1:]


def _fill(template: str, facts: SmsFacts) -> str:
    if not facts.get("name"):
        template = _without_name(template)
    return template.format(**facts).strip()


class ClassicWording:
    """Fill the templates in `prompts/wording.yaml`."""

    def __init__(self) -> None:
        """Load the templates."""
        wording = load_prompt_file("wording")
        self.templates: dict[str, dict[str, list[str]]] = wording["templates"]
        self.answer_first: dict[str, list[str]] = wording.get("answer_first", {})
        self.answer_lead: dict[str, dict[str, str]] = wording.get("answer_lead", {})

    def _pick(
        self, options: list[str], facts: SmsFacts, seed: str, variant: int | None = None
    ) -> str | None:
        have = {k for k, v in facts.items() if v} | {"name"}
        if variant is not None and variant < len(options):
            # A wording test: the variant's own template when the facts can fill it.
            if _placeholders(options[variant]) <= have:
                return options[variant]
        usable = [t for t in options if _placeholders(t) <= have]
        if not usable:
            return None
        return usable[int(hashlib.sha256(seed.encode()).hexdigest(), 16) % len(usable)]

    async def decide(
        self, message_type: str, tone: str, facts: SmsFacts, seed: str, variant: int | None = None
    ) -> SmsDraft:
        """Pick a template the facts can fill, varied by `seed` so repeats don't read canned.

        `variant` (a wording test) picks the tone's template of that index instead (0: the
        one with the link, 1: the one without), when the facts can fill it.

        With an answer in the facts the reply says it first: the answer (after the message
        type's `answer_lead` for the tone: an apology before a hand-off's warranty terms),
        then at most one line that fits the message type (`answer_first` in the wording file).
        """
        if facts.get("answer"):
            # The first line the facts can fill: they are listed in order of preference.
            have = {k for k, v in facts.items() if v} | {"name"}
            lines = self.answer_first.get(message_type, [""])
            follow = next((t for t in lines if _placeholders(t) <= have), "")
            if str(facts["answer"]).rstrip().endswith("?"):
                # The answer ends by asking ("want me to ask the team?"): nothing after it.
                follow = ""
            lead = self.answer_lead.get(message_type, {}).get(tone, "")
            text = f"{lead} {facts['answer']} {_fill(follow, facts) if follow else ''}".strip()
            return SmsDraft(text=text)
        by_tone = self.templates.get(message_type, {})
        options = by_tone.get(tone) or by_tone.get("friendly") or []
        template = self._pick(options, facts, seed, variant)
        if template is None:
            return SmsDraft(text=_fallback(message_type, facts))
        return SmsDraft(text=_fill(template, facts))


def variant_instruction(variant: str) -> str:
    """What the model writing a text in a wording test's arm is told (`variants` in the file)."""
    variants: dict[str, str] = load_prompt_file("wording").get("variants", {})
    if variant not in variants:
        raise ValueError(f"the wording file has no instruction for arm {variant!r}")
    return variants[variant]


def _few_shot() -> str:
    examples = load_prompt_file("wording").get("examples", [])
    return "\n".join(
        f"- {e.get('message_type')} / {e.get('tone')}: {e.get('text')}" for e in examples[:6]
    )


async def llm_wording(
    model: BaseChatModel,
    *,
    method: Any,
    timeout_s: float,
    message_type: str,
    tone: str,
    facts: SmsFacts,
    text: str | None,
    refused: tuple[str, list[str]] | None = None,
    voice: Mapping[str, Any] | None = None,
    variant: str | None = None,
) -> SmsDraft:
    """Ask the LLM to write the SMS from the facts only, in the store's voice.

    `refused` is a draft the output guard turned down and why: the model gets one chance
    to fix exactly those problems before the template wording replaces it. `voice` is the
    store's brand voice (guidelines, words to avoid, emoji policy) from its store folder.
    `variant` is the shopper's arm in a wording test: the model gets that arm's instruction.
    """
    case: dict[str, Any] = {"message_type": message_type, "tone": tone, "facts": facts}
    if voice:
        case["store_voice"] = dict(voice)
    if variant is not None:
        case["wording_test_arm"] = {"arm": variant, "instruction": variant_instruction(variant)}
    if refused is not None:
        case["your_previous_draft"] = refused[0]
        case["fix_these_problems"] = refused[1]
    messages = prompt_messages(
        "wording", case, _few_shot(), untrusted_text=text or "(no text: proactive message)"
    )
    return await ainvoke_structured(model, SmsDraft, messages, method=method, timeout_s=timeout_s)
