"""Is every claim in a draft backed? The output guard's rules, read without a graph.

A draft may say only what the facts it was written from say (catalog fields, the answer and
its evidence, the store's policies), plus the size or colour the shopper said themselves.
Prices, links, phone numbers, discounts, codes, stock, urgency and delivery claims are
checked against those facts; a draft that quotes our instructions to the models, or only
repeats the shopper's text back, is refused as well.
"""

from __future__ import annotations

import re
from functools import cache

from textcart.prompts.loader import PROMPT_NAMES, load_prompt
from textcart.rules.privacy import mask_phone
from textcart.vocabulary.colours import COLOUR_WORDS
from textcart.vocabulary.money import MONEY_PATTERN
from textcart.vocabulary.records import SmsFacts
from textcart.vocabulary.urls import URL_PATTERN, split_trailing

_WORD = re.compile(r"[a-z0-9]+")
_MONEY = MONEY_PATTERN
_URL = URL_PATTERN
_PERCENT = re.compile(r"\d+\s?%")
# A web address without a scheme ("evil-deals.com/x") is as much a link as one with it.
_BARE_DOMAIN = re.compile(
    r"(?<![@\w.])(?:www\.)?[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\."
    r"(?:com|net|org|io|co|ly|me|us|biz|info|shop|store|xyz|link|app|site|online|gg|to)\b"
    r"(?:/\S*)?",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?:\+?1[\s.-]?)?\(?\b\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}\b|\+\d{8,15}\b")
_CODE = re.compile(r"\b(?:code|coupon|promo)\s*:?\s*([A-Za-z0-9][A-Za-z0-9-]{2,19})\b", re.I)
_PRICED_TITLE = re.compile(r"\s*([^,()]+?)\s*\((" + MONEY_PATTERN.pattern + r")[.,]?\)")
# Words of our own instructions to the models: a draft quoting a run of them leaks the prompt.
_LEAK_RUN = 6
_LEAK_MARKERS = ("labelled examples", "one json object", "never instructions to follow")


def _echoes(draft: str, said: str | None) -> bool:
    """True when a draft mostly repeats the shopper's own words back to them."""
    draft_words = _WORD.findall(draft.lower())
    said_words = set(_WORD.findall((said or "").lower()))
    if len(draft_words) < 3 or not said_words:
        return False
    return sum(w in said_words for w in draft_words) / len(draft_words) > 0.8


@cache
def _prompt_runs() -> frozenset[tuple[str, ...]]:
    """Every run of `_LEAK_RUN` consecutive words in the deciders' instructions."""
    runs: set[tuple[str, ...]] = set()
    for name in PROMPT_NAMES:
        words = _WORD.findall(load_prompt(name).instructions.lower())
        runs.update(tuple(words[i : i + _LEAK_RUN]) for i in range(len(words) - _LEAK_RUN + 1))
    return frozenset(runs)


def _leaks_prompt(text: str) -> bool:
    """True when a draft quotes our instructions to the models."""
    lowered = text.lower()
    if any(marker in lowered for marker in _LEAK_MARKERS):
        return True
    words = _WORD.findall(lowered)
    runs = _prompt_runs()
    return any(tuple(words[i : i + _LEAK_RUN]) in runs for i in range(len(words) - _LEAK_RUN + 1))


def _price_of_title(facts: SmsFacts) -> dict[str, str]:
    """Each product title the facts name, lower-cased, with its price."""
    priced: dict[str, str] = {}
    for title, price in _PRICED_TITLE.findall(facts.get("products") or ""):
        priced[title.strip().lower()] = price.rstrip(".,")
    for title_key, price_key in (("product", "price"), ("alternative", "alternative_price")):
        title, price = facts.get(title_key), facts.get(price_key)  # type: ignore[misc]
        if title and price:
            priced[str(title).lower()] = str(price)
    return priced


def _misquoted_prices(text: str, facts: SmsFacts) -> list[str]:
    """Prices a draft puts next to a product whose price they are not."""
    priced = _price_of_title(facts)
    lowered, problems, since = text.lower(), [], 0
    for money in _MONEY.finditer(text):
        window = lowered[max(since, money.start() - 120) : money.start()]
        nearest = max(
            ((window.rfind(title) + len(title), title) for title in priced if title in window),
            default=None,
        )
        quoted = money.group(0).replace(" ", "")
        if nearest is not None and priced[nearest[1]].replace(" ", "") != quoted:
            problems.append(f"price {quoted} is not the price of {nearest[1]!r}")
        since = money.end()
    return problems


def violations(
    text: str,
    facts: SmsFacts,
    message_type: str,
    said: str | None,
    *,
    offer_code: str,
    offer_percent: int,
) -> list[str]:
    """Everything in a draft that the facts do not back, or that says nothing new."""
    allowed_text = " ".join(str(v) for v in facts.values())
    allowed_lower = allowed_text.lower()
    problems = ["repeats the shopper's text back"] if _echoes(text, said) else []
    allowed_money = {m.replace(" ", "") for m in _MONEY.findall(allowed_text)}
    problems += [
        f"price {m} not in catalog facts"
        for m in _MONEY.findall(text)
        if m.replace(" ", "") not in allowed_money
    ]
    problems += _misquoted_prices(text, facts)
    problems += [
        f"link {u} not provided"
        for u in _URL.findall(text)
        if split_trailing(u)[0] not in allowed_text
    ]
    without_urls = _URL.sub(" ", text)
    problems += [
        f"link {d} not provided"
        for d in _BARE_DOMAIN.findall(without_urls)
        if split_trailing(d)[0].lower() not in allowed_lower
    ]
    problems += [
        f"phone number {mask_phone(re.sub(r'[^0-9+]', '', p))} not provided"
        for p in _PHONE.findall(text)
        if p not in allowed_text
    ]
    if _leaks_prompt(text):
        problems.append("quotes the instructions given to the models")
    problems += unbacked_claims(text, facts, said)
    codes = [c for c in _CODE.findall(text) if c.isupper() or any(ch.isdigit() for ch in c)]
    if message_type != "send_offer":
        # A percentage from the facts ("56% recycled nylon") is fine; any other is a discount.
        problems += [
            f"discount {p} without an offer"
            for p in _PERCENT.findall(text)
            if p not in allowed_text
        ]
        # A store without an offer code has nothing to leak ("" is in every text).
        if offer_code and offer_code.lower() in text.lower():
            problems.append("offer code outside an offer")
        problems += [f"offer code {c} outside an offer" for c in codes]
    else:
        problems += [
            f"discount {p} is not the policy's"
            for p in _PERCENT.findall(text)
            if p.replace(" ", "") != f"{offer_percent}%"
        ]
        problems += [
            f"offer code {c} is not the policy's" for c in codes if c.upper() != offer_code.upper()
        ]
    return problems


_SIZE_CLAIM = re.compile(
    r"\b(?:size|sizes|in an?|in)\s+(\d{1,2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl)\b"
    r"|\b(\d{1,2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl) is (?:in stock|sold out|available)\b",
    re.IGNORECASE,
)
_STOCK_CLAIM = re.compile(r"\b(in stock|sold out|out of stock|back in stock)\b", re.IGNORECASE)
_URGENCY = re.compile(
    r"sizes can go|selling fast|going fast|won'?t last|limited stock|almost gone|low stock|"
    r"only \d+ (?:left|sizes? left)|last chance|hurry|before (?:it'?s|they'?re) gone",
    re.IGNORECASE,
)
_DELIVERY = re.compile(
    r"\b\d+\s?(?:-|to)\s?\d+\s+(?:business\s+)?days?\b|\b(?:in|within)\s+\d+\s+(?:business\s+)?days?\b"
    r"|\b(?:tomorrow|today|tonight|overnight|next[- ]day)\b",
    re.IGNORECASE,
)
_COLOUR_WORD = re.compile(r"\b(" + "|".join(COLOUR_WORDS) + r")\b", re.IGNORECASE)


def unbacked_claims(text: str, facts: SmsFacts, said: str | None) -> list[str]:
    """Size, colour, stock, urgency and delivery claims that the facts do not back.

    A claim is backed when the facts (catalog fields, the answer and its evidence, the
    store's policies) say it; a size or colour the shopper said themselves may be repeated.
    """
    allowed = " ".join(str(v) for v in facts.values()).lower()
    heard = f"{allowed} {(said or '').lower()}"
    words = set(_WORD.findall(heard))
    problems = []
    for match in _SIZE_CLAIM.finditer(_URL.sub(" ", text)):
        size = (match.group(1) or match.group(2)).lower()
        if size not in words and not re.search(rf"(?<![\w.]){re.escape(size)}(?![\w])", heard):
            problems.append(f"size {size.upper()} is not in the facts")
    for colour in {m.lower() for m in _COLOUR_WORD.findall(_URL.sub(" ", text))}:
        if colour not in words:
            problems.append(f"colour {colour} is not in the facts")
    for claim in {m.lower() for m in _STOCK_CLAIM.findall(text)}:
        if claim not in allowed:
            problems.append(f"stock claim {claim!r} is not in the facts")
    if _URGENCY.search(text) and not facts.get("scarcity"):
        problems.append("urgency without a real low-stock fact")
    for claim in {m.lower() for m in _DELIVERY.findall(text)}:
        if claim not in allowed:
            problems.append(f"delivery claim {claim!r} is not in the facts")
    return problems
