"""SMS wording: the text itself, from templates (classic) or written by the LLM."""

from __future__ import annotations

import hashlib
import string
from typing import Any, TypedDict

from langchain_core.language_models import BaseChatModel

from textcart.deciders.base import load_prompt_file, prompt_messages
from textcart.graph.state import SmsDraft
from textcart.tools.llm import ainvoke_structured


class SmsFacts(TypedDict, total=False):
    """Everything a message may say. The output guard checks texts against these facts."""

    name: str
    store: str
    product: str
    price: str
    highlight: str
    alternative: str
    alternative_price: str
    products: str
    link: str
    offer_code: str
    offer_percent: str
    order_line: str
    question: str
    policy: str


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
    if facts.get("policy") and message_type in ("answer_question", "order_help"):
        return f"Hi {facts.get('name', 'there')}! {facts['policy']}"
    if message_type == "handoff_to_human":
        name = facts.get("name", "there")
        return f"Thanks, {name}. A member of the {store} team will text you shortly."
    if message_type == "ask_clarifying":
        return facts.get("question") or "Happy to help! What are you shopping for?"
    if facts.get("products"):
        return f"A few picks for you: {facts['products']}."
    return f"Thanks for your message! How can {store} help?"


class ClassicWording:
    """Fill the templates in `prompts/wording.yaml`."""

    def __init__(self) -> None:
        """Load the templates."""
        self.templates: dict[str, dict[str, list[str]]] = load_prompt_file("wording")["templates"]

    async def decide(self, message_type: str, tone: str, facts: SmsFacts, seed: str) -> SmsDraft:
        """Pick a template the facts can fill, varied by `seed` so repeats don't read canned."""
        if facts.get("policy") and not facts.get("order_line") and not facts.get("product"):
            # A store-policy question is answered with the policy, word for word.
            return SmsDraft(text=_fallback(message_type, facts))
        by_tone = self.templates.get(message_type, {})
        options = by_tone.get(tone) or by_tone.get("friendly") or []
        usable = [t for t in options if _placeholders(t) <= {k for k, v in facts.items() if v}]
        if not usable:
            return SmsDraft(text=_fallback(message_type, facts))
        pick = int(hashlib.sha256(seed.encode()).hexdigest(), 16) % len(usable)
        return SmsDraft(text=usable[pick].format(**facts).strip())


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
) -> SmsDraft:
    """Ask the LLM to write the SMS from the facts only."""
    messages = prompt_messages(
        "wording",
        {"message_type": message_type, "tone": tone, "facts": facts},
        _few_shot(),
        untrusted_text=text or "(no text: proactive message)",
    )
    return await ainvoke_structured(model, SmsDraft, messages, method=method, timeout_s=timeout_s)
