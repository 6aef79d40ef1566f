"""A simulated shopper played by a chat model: the persona's hidden goals in its prompt.

The model reads the conversation so far and answers as the persona would: a reply text,
a purchase, silence or STOP. When it fails (timeout, invalid output) or breaks character
(buys when the store's text showed nothing in the persona's category and budget) the
rule-based shopper answers that turn instead, so a run never stops on a bad model answer
and a model cannot buy what the persona would never buy; both are counted.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from textcart.conversations import TurnRecord
from textcart.simulation.personas import Persona, Reaction, RuleBasedShopper
from textcart.tools.llm import StructuredOutputError, ainvoke_structured

_INSTRUCTIONS = """\
You play one shopper texting an online store by SMS. Stay in
character. Your hidden goals and temperament are below; never reveal them, act on them.
After each text from the store, choose one action:
- reply: text back (short, casual, like a real SMS, under 160 characters);
- buy: you check out the product the store showed you (only if it fits your goal and budget);
- silent: you stop answering (you lost patience or interest);
- stop: you text STOP because the store annoyed you (too pushy, unwanted discounts).
Answer with one JSON object: {"action": ..., "text": ..., "clicked": true|false}.
"""


class ShopperMove(BaseModel):
    """The persona's next move, as the model must answer it."""

    action: Literal["reply", "buy", "silent", "stop"]
    text: str = Field(default="", max_length=300)
    clicked: bool = False


@dataclass
class LlmShopper:
    """A persona whose replies a chat model writes."""

    persona: Persona
    model: BaseChatModel
    method: Any
    timeout_s: float = 30.0
    seed: int = 0
    answered: int = 0
    fallbacks: int = 0
    out_of_character: int = 0
    transcript: list[str] = field(default_factory=list)
    slot: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    def __post_init__(self) -> None:
        """Keep a rule-based twin for the opening text and for failed turns."""
        self.rules = RuleBasedShopper(self.persona, self.seed)

    def opening(self) -> str:
        """The first text (the rules write it, so every policy sees the same opening)."""
        text = self.rules.opening()
        self.transcript.append(f"you: {text}")
        return text

    def _goals(self) -> dict[str, Any]:
        p = self.persona
        return {
            "wants": p.need,
            "budget_usd": p.budget,
            "patience_in_unhelpful_texts": p.patience,
            "propensity_to_buy": p.propensity,
            "dislikes_discounts": p.discount_aversion,
            "dislikes_pushy_sales": p.pushiness_aversion,
            "price_sensitive": p.price_sensitive,
        }

    async def respond(self, record: TurnRecord) -> Reaction:
        """Ask the model for the persona's move; the rules answer if it fails."""
        self.transcript.append(f"store: {record.reply or '(no reply)'}")
        products = [
            {"id": x["id"], "title": x["title"], "price": x["price"]} for x in record.products
        ]
        body = json.dumps(
            {
                "your_goals": self._goals(),
                "conversation": self.transcript[-8:],
                "products_in_the_store_text": products,
            },
            indent=1,
        )
        messages = [SystemMessage(_INSTRUCTIONS), HumanMessage(body)]
        try:
            async with self.slot:
                move = await ainvoke_structured(
                    self.model, ShopperMove, messages, method=self.method, timeout_s=self.timeout_s
                )
        except StructuredOutputError:
            self.fallbacks += 1
            return self.rules.react(record)
        fitting = next((x["id"] for x in record.products if self.persona.wants(x)), None)
        if move.action == "buy" and fitting is None:
            self.out_of_character += 1
            return self.rules.react(record)
        self.answered += 1
        product = fitting or (products[0]["id"] if products else None)
        if move.action == "reply" and move.text.strip():
            self.transcript.append(f"you: {move.text}")
            return Reaction("reply", move.text.strip()[:300], move.clicked, product)
        if move.action == "buy":
            return Reaction("buy", None, True, fitting)
        if move.action == "stop":
            return Reaction("stop", "STOP", move.clicked, product)
        return Reaction("silent", None, move.clicked, product)
