"""The answer step of a turn: read the question, gather its evidence, build the answer.

`answer_turn` is what the graph's `find_answer` node runs. It reads the question from the
shopper's text (`question.read_question`), fetches the evidence the question needs (the
asked product and all its colourways from the catalog, other products the text names, the
knowledge base, the shopper's latest order) and builds the answer from it
(`evidence.find_answer`). A text in another language, a catalog that is empty, and a
product the store does not sell each get a plain answer that says so.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from textcart.answers.asked_products import (
    PLAIN_ONE,
    base_model,
    model_named,
    models_in,
    named_before,
    pair_named_before,
    plain_model,
    products_asked,
    two_models_named,
)
from textcart.answers.carried import (
    FILLER,
    SERVICE_ASK,
    WORD,
    documents_mention,
    kind_named,
    no_kids_range,
    not_carried,
    sells_anything_like,
)
from textcart.answers.evidence import FOLLOW_UP, Evidence, find_answer, model_of, unanswerable
from textcart.answers.knowledge import KnowledgeBase
from textcart.answers.language import is_other_language
from textcart.answers.orders import order_named
from textcart.answers.own_terms import product_terms
from textcart.answers.question import (
    COLOUR_ON_SALE,
    COLOUR_PRICE,
    asks_something,
    colour_said,
    goes_on,
    read_question,
)
from textcart.answers.superlative import superlative_answer, superlative_asked
from textcart.rules.references import name_match
from textcart.tools.catalog import Catalog, Product
from textcart.tools.embeddings import Embedder
from textcart.tools.orders import OrderBook
from textcart.vocabulary.answers import (
    ORDER_KINDS,
    PRODUCT_KINDS,
    Answer,
    AskedQuestion,
    QuestionKind,
)
from textcart.vocabulary.records import ProductCard

log = logging.getLogger("textcart.answers")

OTHER_LANGUAGE = f"Sorry, I can only answer texts in English for now. {FOLLOW_UP}"
EMPTY_CATALOG = "Sorry, I can't look up our products right now, so I can't check that. " + FOLLOW_UP
NOT_SOLD = "I couldn't find that in our catalog, so I can't tell you more about it. " + FOLLOW_UP
# Answers that say why a text can't be answered: they are the whole reply.
NO_KIDS = "Sorry, we don't carry kids' gear: everything we sell is in adult sizes."
UNANSWERABLE = frozenset({"other_language", "empty_catalog", "not_sold", "catalog_unavailable"})
_POLICY_INTENTS = frozenset({"shipping_question", "return_or_refund", "billing_or_payment"})
_PRODUCT_INTENTS = frozenset({"product_question", "recommendation_request", "purchase_intent"})


async def answer_turn(
    *,
    text: str | None,
    intent: str | None,
    shopper_id: str,
    asked_product_id: str | None,
    products: Sequence[ProductCard],
    said_size: str | None,
    preferences: dict[str, Any],
    catalog: Catalog | None,
    catalog_error: str | None,
    knowledge: KnowledgeBase,
    embedder: Embedder,
    orders: OrderBook,
    earlier: Sequence[str] = (),
    theirs: Sequence[str] = (),
    now: datetime | None = None,
) -> dict[str, Any]:
    """The state update of the answer step: `question` and `answer` (either may be None).

    `earlier` holds the shopper's earlier texts of this conversation, newest first: "ok and
    in a 9?" after "is it avail in cobalt" still asks about cobalt.
    """
    if text is None:
        return {"question": None, "answer": None}
    if is_other_language(text):
        return {"question": None, "answer": unanswerable("other_language", OTHER_LANGUAGE)}
    order = orders.latest_for(shopper_id)
    on_file = orders.orders_for(shopper_id) or ([order] if order is not None else [])
    question = read_question(text, has_order=order is not None)
    from_before = False
    if question is None and earlier and asked_product_id is not None and goes_on(text):
        # "and the womens version?" after "what do the mens tempo racers weigh": the
        # question before, about the product this text points to.
        before = read_question(earlier[0], has_order=order is not None)
        if before is not None and before["kind"] in PRODUCT_KINDS - {"comparison"}:
            # "the mint ones i mean" after "do the canyon lows come in a womens 10": mint.
            colour = colour_said(text) or before["colour"]
            question, from_before = AskedQuestion(**{**before, "colour": colour}), True
    if question is not None and catalog is not None:
        # "do the ridgeline socks have a lifetime guarantee?": the sock's own terms.
        question, own = await product_terms(catalog, text, question, asked_product_id)
        asked_product_id = own or asked_product_id
    if (
        catalog is not None
        and intent in _PRODUCT_INTENTS
        and asked_product_id is None
        and not (question and question["kind"] not in PRODUCT_KINDS)
    ):
        # "do u guys carry tents?": a kind of product the catalog has none of; "my 8 yr
        # old needs boots" in a store that makes nothing for children.
        try:
            if await no_kids_range(catalog, text):
                return {"question": None, "answer": unanswerable("not_sold", NO_KIDS)}
            missing = await not_carried(catalog, text)
        except Exception as exc:  # noqa: BLE001 - the turn goes on without this check
            log.warning("catalog check failed: %s", exc)
            missing = None
        if missing:
            # "tents" is a kind of product and reads as one; a single name may be a model.
            said = f"Sorry, we don't carry {missing}." if missing.endswith("s") else NOT_SOLD
            return {"question": None, "answer": unanswerable("not_sold", said)}
    if catalog is not None and superlative_asked(text):
        # "which trail shoe has the most cushion": every product of that kind, measured.
        try:
            best = await superlative_answer(catalog, text)
        except Exception as exc:  # noqa: BLE001 - the turn goes on without this answer
            log.warning("catalog check failed: %s", exc)
            best = None
        if best is not None:
            return {"question": question, "answer": best}
    if (
        question is None
        and intent in _PRODUCT_INTENTS
        and asks_something(text)
        and asked_product_id is None
        and catalog is not None
    ):
        # "do you sell kayaks?": a product question about nothing the catalog holds.
        try:
            if not await sells_anything_like(catalog, text):
                kind = kind_named(text)
                said = f"Sorry, we don't carry {kind}." if kind else NOT_SOLD
                return {"question": None, "answer": unanswerable("not_sold", said)}
        except Exception as exc:  # noqa: BLE001 - the turn goes on without this check
            log.warning("catalog check failed: %s", exc)
    if question is None and (service := SERVICE_ASK.search(text)):
        # "do u do gift wrapping?": a service of the store, answered from its documents
        # only when they speak of it.
        words = [w for w in WORD.findall(service.group(1).lower()) if w not in FILLER]
        if words:
            if not documents_mention(knowledge, words):
                what = " ".join(words)
                return {
                    "question": None,
                    "answer": unanswerable(
                        "policy",
                        f"I don't have anything about {what} in our store info, so I won't "
                        f"guess. {FOLLOW_UP}",
                    ),
                }
            question = _asked("policy")
    if (
        question is None
        and intent == "product_question"
        and asked_product_id is not None
        and asks_something(text)
    ):
        # "is it dishwasher safe?": about the product, but no rule knows the kind.
        question = _asked("detail")
    if (
        question is None
        and asked_product_id is not None
        and catalog is not None
        and "?" in text
        and _OR.search(text)
        and await two_models_named(catalog, text)
    ):
        # "35 lb on my back, summit gtx or switchback mid?": one of two to choose.
        question = _asked("comparison")
    if question is None and intent in _POLICY_INTENTS and asks_something(text):
        # "shipping?" names no topic the rules know; the knowledge base is searched by meaning.
        question = _asked("policy")
    if question is None:
        return {"question": None, "answer": None}
    if question["kind"] in ("availability", "stock") and not question["colour"]:
        colour = _said_before(text, earlier, "colour")
        if colour:
            question = AskedQuestion(**{**question, "kind": "availability", "colour": colour})
    if question["kind"] in ("availability", "stock") and not question["size"]:
        # "what abt slate grey" after "got the daymile in a mens 9?": still a 9.
        size = _said_before(text, earlier, "size")
        if size:
            question = AskedQuestion(**{**question, "kind": "availability", "size": size})
    if question["topic"] == "discounts" and asked_product_id is not None:
        # "any promo codes? the stormwall is still too much": its price, and any offer.
        question = AskedQuestion(**{**question, "kind": "price", "topic": None, "topics": []})
    update: dict[str, Any] = {"question": question, "answer": None}
    product: Product | None = None
    variants: list[Product] = []
    others: list[Product] = []
    order_titles: dict[str, str] = {}
    order_products: list[Product] = []
    try:
        if catalog is None:
            raise RuntimeError(catalog_error or "no catalog")
        asked_title = next((p["title"] for p in products if p["id"] == asked_product_id), None)
        if question["kind"] == "comparison" and asked_product_id is None and earlier:
            # "which ones warmer" after "the merino 150 crew and the 250 zip neck".
            product, variants, others = await pair_named_before(catalog, earlier[0])
        about_one = product is None and question["kind"] in PRODUCT_KINDS
        # "my trail shoes r caked in mud... best way to clean em?": the care guide answers.
        if about_one and question["kind"] != "care" and _asks_for_picks(text, intent, asked_title):
            # "anything warm under $90?" asks for recommendations, not about one product.
            return {"question": question, "answer": None}
        if about_one:
            line = preferences.get("shoe_line")
            product, variants, others = await products_asked(
                catalog, asked_product_id, products, text, question, frozenset(theirs), line
            )
            if (
                product is not None
                and question["kind"] != "comparison"
                and _OR.search(text)
                # "a 9 or 9.5... which do i get in the ridgeline": the "or" joins sizes.
                and await two_models_named(catalog, text)
            ):
                # "mudlark or ridgeline for mud?": two products named is a comparison.
                compared = AskedQuestion(**{**question, "kind": "comparison", "topic": None})
                _, _, named = await products_asked(
                    catalog, asked_product_id, products, text, compared, frozenset(theirs), line
                )
                if any(base_model(p.title) != base_model(product.title) for p in named):
                    question, others = compared, named
                    update["question"] = question
            if product is not None and question["kind"] != "comparison" and not from_before:
                # "will the icegrip traction cleats work on boots?" asks about suitability,
                # not traction: the product's own name says nothing about the question.
                question = _without_name(question, text, product.title, order is not None)
                update["question"] = question
            if product is not None and question["kind"] == "comparison" and not others:
                if PLAIN_ONE.search(text):
                    # "how is the ridgeline gtx different from the normal one"
                    others = await plain_model(catalog, product)
            if product is not None and question["kind"] == "comparison" and not others:
                # "and the mudlark? which ones lighter": the other one was named before.
                others = await named_before(catalog, earlier, product)
            if product is None and question["kind"] != "care":
                if await catalog.count() == 0:
                    update["answer"] = unanswerable("empty_catalog", EMPTY_CATALOG)
                elif question["explicit"] and not await sells_anything_like(catalog, text):
                    update["answer"] = unanswerable("not_sold", NOT_SOLD)
                return update
        if order is not None and question["kind"] in ORDER_KINDS:
            # "the switchbacks i got last month": the order holding them, maybe not the latest.
            found = await catalog.get_many([i for o in on_file for i in o.item_ids])
            matched = order_named(text, on_file, found)
            back = matched is None and question["kind"] != "order_status" and _BACK.search(text)
            for line in earlier[:2] if back else []:
                # "can i swap em for a 10.5?" after "the switchback boots i got feel small";
                # "where's my order?" is about the latest, whatever was said before.
                if (matched := order_named(line, on_file, found)) is not None:
                    break
            in_order = (matched[0], matched[1]) if matched is not None else None
            if (
                not (matched and matched[2])  # a kind ("my boots") may be another model's
                and question["kind"] != "order_status"  # "where's my order?": the latest
                and (model := await model_named(catalog, text)) is not None
            ):
                held = [o for o in on_file if model in models_in(o, found)]
                if held:
                    in_order = held[0], [found[i] for i in held[0].item_ids if i in found]
                else:
                    # "can i swap the summit boots?" when no order of theirs holds such
                    # boots: the store's rule is the answer.
                    order, in_order = None, None
                    question = AskedQuestion(**{**question, "kind": "policy", "about_order": False})
                    update["question"] = question
            if in_order is not None:
                order, order_products = in_order
            elif order is not None:
                order_products = [found[i] for i in order.item_ids if i in found]
            order_titles = {p.id: model_of(p.title) for p in order_products}
    except Exception as exc:  # noqa: BLE001 - a catalog failure must not fail the turn
        log.warning("answer step without the catalog: %s", exc)
        if question["kind"] in PRODUCT_KINDS:
            update["answer"] = unanswerable("catalog_unavailable", EMPTY_CATALOG)
            return update
    said = text
    if question["kind"] == "suitability" and earlier and _FOR_IT.search(text):
        # "would the longhaul max be a good shoe for it" after "the course is notoriously
        # muddy": what it is for was said in the text before.
        said = f"{text} {earlier[0]}"
    evidence = Evidence(
        text=said,
        product=product,
        variants=variants,
        others=others,
        knowledge=knowledge,
        embedder=embedder,
        order=order,
        order_titles=order_titles,
        said_size=said_size,
        preferences=preferences,
        order_products=order_products,
        theirs=frozenset(theirs),
        now=now,
    )
    answer = await asyncio.to_thread(find_answer, question, evidence)
    if answer is not None:
        # "navy in 10.5? also r they any good for wide feet": the other question too.
        title = product.title if product is not None else None
        for first, part, asked in _other_questions(text, question, title, order is not None):
            more = await asyncio.to_thread(find_answer, asked, replace(evidence, text=part))
            if more is not None and more["text"] not in answer["text"]:
                # In the order asked: the SMS may be cut short at its end.
                answer = _joined(more, answer) if first else _joined(answer, more)
                break
    update["answer"] = answer
    return update


_PARTS = re.compile(
    r"\?|\balso\b|\s\+\s|\bplus\b|\band (?=(do|does|is|are|can|r|u|got)\b)"
    r"|\b(?:and|n|&) (?=(how|what|whats|which)\b)",
    re.I,
)


def _other_questions(
    text: str, question: AskedQuestion, title: str | None, has_order: bool = False
) -> list[tuple[bool, str, AskedQuestion]]:
    """Parts of a text that ask a question of another kind than the whole text was read as.

    Each with whether it is the text's first part. A part is read without the product's
    own name: "my normal size in the merino 150 crew?" asks nothing about merino. "where's
    my order at? also can i still swap the shorts" asks where the order is too.
    """
    found = []
    parts = [p.strip() for p in _PARTS.split(text) if p and len(p.split()) >= 2]
    for index, part in enumerate(parts if len(parts) >= 2 else []):
        asked = read_question(_name_out(part, title) if title else part, has_order=has_order)
        if asked is None or asked["kind"] in (question["kind"], "comparison", "detail"):
            continue
        if asked["kind"] == "order_status" and question["kind"] in ORDER_KINDS:
            found.append((index == 0, part, asked))
            continue
        if title is None or asked["kind"] not in PRODUCT_KINDS:
            # Two product questions; a policy text already answers each topic it names,
            # and an order's own answer is not repeated as the general rule.
            continue
        asked = AskedQuestion(**{**asked, "size": asked["size"] or question["size"]})
        found.append((index == 0, part, asked))
    return found


_ORDER_NAMED = re.compile(r"^Order \S+ \([^)]*\)")


def _joined(first: Answer, second: Answer) -> Answer:
    """Two answers as one reply: both texts, every fact and source behind them.

    The order both speak of is named once: "Order TO-1 (...) has shipped... It has
    already shipped, so it can't be changed now."
    """
    named = _ORDER_NAMED.match(first["text"])
    then = second["text"]
    if named and then.startswith(named.group(0)):
        then = "It" + then[len(named.group(0)) :]
    return Answer(
        **{
            **first,
            "text": f"{first['text']} {then}",
            "facts": [*first["facts"], *second["facts"]],
            "sources": list(dict.fromkeys([*first["sources"], *second["sources"]])),
        }
    )


_PICKS = re.compile(
    # "come in anything besides black" asks about this product's colours, not for picks.
    r"\b((any|some)thing(?! (besides|but|except|other than)\b)|"
    r"any (other(?! than\b)|good(?! (for|in|on|at)\b)|cheaper|warmer|lighter)|"
    r"recommend|suggest|"
    # "which is cheaper, x or y" compares the two named.
    # "looking for the switchback mid boots, womens 7.5" names what it looks for.
    r"alternatives?|options?|looking for(?! (the|those|these|that|this|my)\b)|i need an?|"
    r"what else|instead|similar|"
    # "the blue is way cheaper than the black" compares what is named.
    r"(?<!the )(?<!which is )(?<!which one is )(?<!which ones )cheaper(?! than))\b",
    re.IGNORECASE,
)


def _asks_for_picks(text: str, intent: str | None, asked_title: str | None) -> bool:
    """True when the text asks for products to be picked rather than about one of them.

    "which camp slides do u have in a 12... i just need something for after runs": the
    sentence naming the product asks about it; "something" in another one says why.
    """
    if _PICKS.search(text) and not (COLOUR_PRICE.search(text) or COLOUR_ON_SALE.search(text)):
        sentences = _SENTENCE.split(text)
        naming = {s for s in sentences if asked_title and name_match(s, asked_title) >= 50}
        return not naming or any(_PICKS.search(s) for s in naming)
    return intent == "recommendation_request" and asked_title is None


_SENTENCE = re.compile(r"[.!?;\n]+")
_OR = re.compile(r"\bor\b|\bvs\.?\b|\bversus\b", re.IGNORECASE)


def _name_out(text: str, title: str) -> str:
    """The text with the product's own name taken out: "merino 150 crew" asks no material."""
    words = {w for w in re.findall(r"[a-z0-9]+", model_of(title).lower()) if len(w) > 2}
    # "mens" and "womens" are how the line is texted: without them "mens stride 5" is a 5.
    words |= {f"{w}s" for w in words & {"men", "women"}}
    rest = re.sub(
        r"[A-Za-z0-9]+", lambda m: "" if m.group(0).lower() in words else m.group(0), text
    )
    return " ".join(rest.split())


def _without_name(question: AskedQuestion, text: str, title: str, has_order: bool) -> AskedQuestion:
    """The question read again with the product's own name taken out of the text.

    A size or colour asked about stays asked: "need the navy ones again mens 10 u got em"
    loses its "mens" with the name, not its question.
    """
    if question["kind"] in ("availability", "stock"):
        return question
    again = read_question(_name_out(text, title), has_order=has_order)
    if again is None and question["kind"] in _NAME_KINDS and question["explicit"]:
        # "is the insulated bottle dishwasher safe?" read as warmth only for its name.
        return _asked("detail")
    if again is None or again["kind"] not in PRODUCT_KINDS or question["kind"] == "comparison":
        return question
    return AskedQuestion(**{**again, "size": question["size"], "colour": question["colour"]})


# A use said before: "good for it", "ok for that".
_FOR_IT = re.compile(r"\b(for|on|in) (it|that|this|those|these|them)\W*$", re.I)
# Words that point back at what the text before named: "can i swap em".
_BACK = re.compile(r"\b(it|them|em|they|those|these)\b", re.I)
# "what about the rust ones then, same size": the size said before, said to be kept.
_SAME = re.compile(r"\bsame (size|sz|colou?r)\b", re.I)


def _said_before(text: str, earlier: Sequence[str], what: Literal["colour", "size"]) -> str | None:
    """The colour or size of the last text, when this one only goes on from it.

    "and in a 9?" after "is it avail in cobalt" is still cobalt; "what abt slate grey"
    after "got the daymile in a 9?" is still a 9; "do u have them in an 11?" after "the
    womens ridgeline trail runners, the lake blue ones" is still lake blue.
    """
    if not earlier:
        return None
    if goes_on(text) or _SAME.search(text):
        before = read_question(earlier[0])
        if before is not None:
            return before[what]
    if what == "colour" and (goes_on(text) or _BACK.search(text)):
        return colour_said(earlier[0])
    return None


# Kinds a product's own name can suggest ("Insulated", "Waterproof", "Light").
_NAME_KINDS = frozenset({"spec", "suitability", "waterproof"})


def _asked(kind: QuestionKind) -> AskedQuestion:
    """A question of `kind` read from no rule of its own: "shipping?", "is it dishwasher safe"."""
    return AskedQuestion(
        kind=kind,
        topic=None,
        topics=[],
        size=None,
        colour=None,
        about_order=False,
        explicit=True,
    )
