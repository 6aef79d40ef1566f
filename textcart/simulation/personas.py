"""Simulated shoppers: personas with hidden goals, and a rule-based way of answering texts.

A persona wants something (a category, a budget) and has a temperament (patience, a
propensity to buy, an aversion to discounts or to being pushed). None of that is shown
to the agent: it sees only the persona's browsing history and texts. The rule-based
shopper reads each reply the agent sends and answers, clicks, buys, goes silent or texts
STOP; every draw comes from a generator seeded per persona, so the same persona facing
the same replies always does the same thing.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from textcart.conversations import TurnRecord
from textcart.demo_store.loader import catalog_path

Action = Literal["reply", "buy", "silent", "stop"]

# What shoppers call what they want, per catalog category.
NEEDS: dict[str, tuple[str, ...]] = {
    "footwear/trail running shoes": ("trail running shoes", "trail runners for muddy trails"),
    "footwear/road running shoes": ("road running shoes", "a cushioned running shoe"),
    "footwear/hiking boots": ("hiking boots", "waterproof hiking boots"),
    "apparel/base layers": ("a merino base layer", "a warm base layer"),
    "apparel/jackets": ("a rain jacket", "a light wind jacket"),
    "apparel/socks": ("hiking socks", "merino socks"),
    "gear/headlamps": ("a headlamp", "a bright headlamp for night runs"),
    "gear/packs": ("a daypack", "a hiking backpack"),
    "apparel/running shorts": ("running shorts", "shorts for summer runs"),
}
FIRST_NAMES = (
    "Alex", "Sam", "Jo", "Rae", "Kim", "Lee", "Max", "Ana", "Eli", "Mia", "Noa", "Ravi",
    "Tess", "Ugo", "Vera", "Wen", "Yara", "Zoe", "Omar", "Ines",
)  # fmt: skip


@dataclass(frozen=True)
class CatalogItem:
    """What a persona knows about a product it might want."""

    id: str
    model: str
    category: str
    price: float


@cache
def catalog_items() -> tuple[CatalogItem, ...]:
    """The demo catalog's in-stock products, as personas see them."""
    items = []
    for line in catalog_path().read_text(encoding="utf-8").splitlines():
        if line.strip():
            p = json.loads(line)
            if p["in_stock"]:
                model = re.sub(r"^(Men's|Women's)\s+", "", p["title"].split(" — ")[0])
                items.append(CatalogItem(p["id"], model, p["category"], float(p["price"])))
    return tuple(items)


@dataclass(frozen=True)
class Persona:
    """A simulated shopper: who they are, what they want, and how they take to texts."""

    key: str
    first_name: str
    phone: str
    category: str
    need: str
    budget: float
    patience: int
    propensity: float
    discount_aversion: float
    pushiness_aversion: float
    price_sensitive: bool
    opener: Literal["recommendation", "question", "price"]
    viewed: tuple[str, ...]
    in_cart: str | None

    def wants(self, product: dict[str, Any]) -> bool:
        """A product in their category within their budget (a little stretch allowed)."""
        return bool(product["category"] == self.category and product["price"] <= self.budget * 1.1)


def make_population(n: int, seed: int) -> list[Persona]:
    """`n` personas drawn from a generator seeded with `seed` (same seed, same people)."""
    rng = random.Random(f"population:{seed}")
    items = catalog_items()
    people = []
    for i in range(n):
        category = rng.choice(sorted(NEEDS))
        choices = [p for p in items if p.category == category]
        prices = sorted(p.price for p in choices)
        viewed = rng.sample(choices, k=min(len(choices), rng.randint(1, 3)))
        cheapest, dearest = prices[0], prices[-1]
        price_sensitive = rng.random() < 0.4
        budget = round(rng.uniform(cheapest, dearest if not price_sensitive else cheapest * 1.2))
        people.append(
            Persona(
                key=f"p{seed}-{i:04d}",
                first_name=rng.choice(FIRST_NAMES),
                # Fiction-reserved numbers: area code from the index, 555-01xx.
                phone=f"+1{200 + (seed * 7919 + i) % 800}55501{i % 100:02d}",
                category=category,
                need=rng.choice(NEEDS[category]),
                budget=float(max(budget, cheapest)),
                patience=rng.randint(2, 5),
                propensity=round(rng.uniform(0.2, 0.9), 2),
                discount_aversion=round(rng.random() * (0.3 if price_sensitive else 1.0), 2),
                pushiness_aversion=round(rng.random(), 2),
                price_sensitive=price_sensitive,
                opener=rng.choice(("recommendation", "question", "price")),
                viewed=tuple(p.id for p in viewed),
                in_cart=viewed[0].id if rng.random() < 0.3 else None,
            )
        )
    return people


@dataclass
class Reaction:
    """What a shopper does after reading the agent's text."""

    action: Action
    text: str | None = None
    clicked: bool = False
    product_id: str | None = None


@dataclass
class RuleBasedShopper:
    """A persona answering by rules.

    Interest grows with fitting products; annoyance grows with pushing, offers they
    dislike and replies that do not help.
    """

    persona: Persona
    seed: int = 0
    interest: float = 0.3
    annoyance: float = 0.0
    patience_left: int = 0
    offered: bool = False
    liked: dict[str, Any] | None = None
    said: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Seed this persona's generator and start with its full patience."""
        self.rng = random.Random(f"{self.seed}:{self.persona.key}")
        self.patience_left = self.persona.patience
        if self.persona.in_cart:
            self.interest += 0.2

    def _item(self, product_id: str) -> CatalogItem | None:
        return next((p for p in catalog_items() if p.id == product_id), None)

    def opening(self) -> str:
        """The shopper's first text."""
        p = self.persona
        viewed = self._item(p.viewed[0])
        model = viewed.model.lower() if viewed else p.need
        options = {
            "recommendation": (
                f"hi, looking for {p.need} under ${p.budget:.0f}, any ideas?",
                f"can you recommend {p.need}? budget about ${p.budget:.0f}",
            ),
            "question": (
                f"does the {model} run true to size?",
                f"is the {model} any good for long days out?",
            ),
            "price": (
                f"any discount on the {model}? bit over my budget",
                f"do you have a promo code for the {model}?",
            ),
        }[p.opener]
        return self._say(self.rng.choice(options))

    def _say(self, text: str) -> str:
        self.said.append(text)
        return text

    async def respond(self, record: TurnRecord) -> Reaction:
        """What to do after the agent's turn (the rules need no waiting)."""
        return self.react(record)

    def react(self, record: TurnRecord) -> Reaction:
        """Read the agent's reply (or its silence) and decide what to do next."""
        p, kind = self.persona, record.next_message or "no_reply"
        if not record.reply:
            self.patience_left -= 1
            if self.patience_left > 0 and self.rng.random() < 0.5:
                return Reaction("reply", self._say("hello? anyone there?"))
            return Reaction("silent")
        fitting = [x for x in record.products if p.wants(x)]
        helped = False
        clicked = False
        if kind in ("recommend_products", "answer_question", "nudge_checkout", "send_offer"):
            if fitting:
                helped = True
                self.liked = fitting[0]
                self.interest += 0.25 if kind == "recommend_products" else 0.15
                clicked = self.rng.random() < 0.3 + 0.4 * self.interest
            elif record.products:
                self.interest -= 0.05
        if kind == "send_offer":
            self.offered = True
            self.interest += 0.3 if p.price_sensitive else 0.05
            self.annoyance += 0.5 * p.discount_aversion
        elif kind == "nudge_checkout":
            if self.interest < 0.6 or not fitting:
                self.annoyance += 0.5 * p.pushiness_aversion
        elif kind == "ask_clarifying":
            helped = self.liked is None
            self.annoyance += 0.05
        elif kind in ("order_help", "handoff_to_human"):
            self.annoyance += 0.2
        if not helped:
            self.patience_left -= 1
        if self.annoyance >= 0.6 or self.rng.random() < 0.25 * self.annoyance:
            return Reaction("stop", "STOP", clicked)
        if kind == "nudge_checkout" and fitting and self.interest >= 0.6:
            chance = p.propensity + (0.15 if self.offered and p.price_sensitive else 0.0)
            if self.rng.random() < chance:
                return Reaction("buy", None, True, fitting[0]["id"])
        if self.patience_left <= 0:
            return Reaction("silent", None, clicked)
        return Reaction("reply", self._next_text(kind), clicked)

    def _next_text(self, kind: str) -> str:
        p, liked = self.persona, self.liked
        if kind == "ask_clarifying" or liked is None:
            return self._say(
                self.rng.choice(
                    (
                        f"{p.need}, budget ${p.budget:.0f}",
                        f"I need {p.need}, nothing over ${p.budget:.0f}",
                    )
                )
            )
        model = re.sub(r"^(Men's|Women's)\s+", "", liked["title"].split(" — ")[0]).lower()
        if self.interest >= 0.6:
            return self._say(
                self.rng.choice(
                    (f"ok I'll take the {model}", f"I want the {model}, how do I order")
                )
            )
        if p.price_sensitive and not self.offered and self.rng.random() < 0.5:
            return self._say(f"is there any discount on the {model}?")
        return self._say(
            self.rng.choice(
                (
                    f"does the {model} run true to size?",
                    f"how does the {model} hold up in rain?",
                    f"is the {model} comfortable for all day?",
                )
            )
        )
