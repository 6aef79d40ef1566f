"""The answer step's rules, without a graph: what is asked, and the answer from evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from answer_evidence import evidence

from textcart.answers.carried import asked_for, kind_named
from textcart.answers.evidence import FOLLOW_UP, Evidence, find_answer, suggested_size
from textcart.answers.knowledge import KnowledgeError, load_knowledge, read_document
from textcart.answers.language import is_other_language
from textcart.answers.orders import order_named
from textcart.answers.question import read_question
from textcart.answers.turn import _asked, _said_before
from textcart.tools.catalog import Product
from textcart.tools.orders import Order


@pytest.mark.parametrize(
    "text,kind,extra",
    [
        ("hey do the ridgeline trail runners come in an 8.5?", "availability", {"size": "8.5"}),
        ("is the women's summit gtx boot in black in stock?", "availability", {"colour": "black"}),
        ("mudlark mens in olive, do u have it", "availability", {"colour": "olive"}),
        ("does the 150 crew run small? I'm usually an L", "fit", {}),
        ("in between a 9 and 9.5 for the ridgeline, which do i go w", "fit", {}),
        ("how much is the tempo racer", "price", {}),
        ("how much do the carbon trekking poles weigh?", "spec", {"topic": "weight"}),
        ("ascent 45 - how much weight can it carry?", "spec", {}),
        ("how bright is the beacon 400", "spec", {"topic": "brightness"}),
        ("what is the merino 150 made of", "material", {}),
        ("mens summit gtx boot - actually waterproof or just water resistant", "waterproof", {}),
        ("is the longhaul good for deep mud?", "suitability", {}),
        ("how do i wash the zip-neck", "care", {}),
        ("beacon 400 vs beacon 900, which is brighter", "comparison", {"topic": "brightness"}),
        ("how long does shipping usually take?", "policy", {"topic": "shipping_time"}),
        ("do you ship to canada?", "policy", {"topic": "international"}),
        ("got any coupon codes?", "policy", {"topic": "discounts"}),
        ("I think I was charged twice", "policy", {"topic": "billing"}),
        ("got the ridgeline in lake blue mens 11 rn??", "availability", {"size": "11"}),
        ("trailhead 22 daypack in black, M/L size in stock?", "availability", {"size": "M/L"}),
        ("what colours do the carbon trekking poles come in", "colours", {}),
        ("whats the temp rating on the emberloft", "spec", {"topic": "warmth"}),
        ("beacon 400 or beacon 900 for night runs in heavy rain", "comparison", {}),
        ("can i go running in the basecamp down parka? its freezing", "suitability", {}),
        ("no time to break in boots, would the talus be ok?", "suitability", {}),
        ("my mudlarks r caked in mud 🥾 can i just throw them in the dryer", "care", {}),
        ("can it get wet?", "waterproof", {}),
        ("canyon low hiking shoe - waterproof or nah", "waterproof", {}),
        ("caked in mud lol can i throw them in the dryer", "care", {}),
        ("how much merino is actually in the socks", "material", {}),
        ("does the daypack come w a rain cover", "spec", {"topic": "includes"}),
        (
            "beacon 900 how bright + how long on a charge",
            "spec",
            {"topics": ["brightness", "battery"]},
        ),
        ("u guys have the ascent 45 pack in glacier teal rn", "availability", {"colour": "teal"}),
        ("wearing it over a thick fleece, get my normal size or bigger", "fit", {}),
        ("on my feet 12 hr shifts, softloop good for that", "suitability", {}),
        ("diff in drop btwn ridgeline and mudlark?", "comparison", {"topic": "drop"}),
        ("which has the taller stack, longhaul max or softloop", "comparison", {"topic": "drop"}),
        ("can i wear the stormwall in the rain", "waterproof", {}),
        ("how cold can the talus handle", "suitability", {"topic": "warmth"}),
        ("ok and in a 9 and a half?", "availability", {"size": "9.5"}),
        ("is the mens ridgeline avail in cobalt", "availability", {"colour": "cobalt"}),
        ("im a womens 8.5 - what sz do i order", "fit", {"size": "8.5"}),
        ("my feet r wide and most shoes pinch, would the daymile work", "fit", {}),
        ("is the summit bottle dishwasher safe", "care", {}),
        ("my headlamp just quit after 4 months", "policy", {"topic": "warranty"}),
        ("i have wide feet and everything pinches. will the daymile work", "fit", {}),
        ("ok n how bright is it", "spec", {"topic": "brightness"}),
        ("is the frostline warm enough for like -20F?", "suitability", {"topic": "warmth"}),
        (
            "do u have an actual store in denver i could try stuff on at",
            "policy",
            {"topic": "locations"},
        ),
        ("k what if i need it faster", "policy", {"topic": "express"}),
        ("the teal stormwall, any xxl left?", "availability", {"size": "XXL"}),
        (
            "do the summit gtx boots come in olive? in my usual sz",
            "availability",
            {"colour": "olive"},
        ),
        (
            "ran one trail in my mudlarks and they give me blisters, can i return them",
            "policy",
            {"topics": ["worn", "returns"]},
        ),
        (
            "can i still send the parka back? havent worn it outside",
            "policy",
            {"topics": ["returns"]},
        ),
        (
            "wore them on 2 hikes and now they leak, can i send them back",
            "policy",
            {"topics": ["worn", "warranty", "returns"]},
        ),
        ("does the stormwall leak in a downpour?", "waterproof", {}),
        ("is the teal stormwall still marked down?", "price", {}),
        ("the pink daymiles, they got my size?", "availability", {"colour": "pink"}),
        ("ok do they have a medium", "availability", {"size": "M"}),
        ("if i just get a cap whats shipping on that", "policy", {"topic": "shipping_cost"}),
        ("do they ship today?", "policy", {"topic": "shipping_time"}),
        ("the sky blue longhauls, r they under 150?", "price", {}),
        ("lavender merino top - still got an M? how much", "availability", {"size": "M"}),
        ("do the summit gtx boots need breaking in or good out of the box", "suitability", {}),
        ("what size water bladder fits in the trailhead 22 pack", "spec", {"topic": "capacity"}),
        # The colour names the racer; the question is about a part of it.
        ("does that yellow racer have a carbon plate", "detail", {}),
        ("do u have a waterproof ridgeline in black?", "availability", {"colour": "black"}),
        ("is the daymile any wider", "fit", {}),
        ("do those ice cleat things go over hiking boots?", "suitability", {}),
        ("and how long till it gets here", "policy", {"topic": "shipping_time"}),
        ("cost of the womens daymile in black please", "price", {}),  # a request asks
        ("how many business days till it ships", "policy", {"topic": "shipping_time"}),
        ("the beacon quit charging after a month, help", "policy", {"topic": "warranty"}),
        ("i usually take a 9, what size in the daymile", "fit", {"size": "9"}),
        ("does the longhaul have less drop than the ridgeline?", "comparison", {}),
    ],
)
def test_what_a_text_asks(text: str, kind: str, extra: dict[str, Any]) -> None:
    question = read_question(text)
    assert question is not None and question["kind"] == kind, question
    for key, value in extra.items():
        assert question[key] == value  # type: ignore[literal-required]


def test_two_policy_topics_in_one_text_are_both_read() -> None:
    question = read_question("how much is shiping to chicago n how long does it tak")
    assert question is not None
    assert question["topics"] == ["shipping_cost", "shipping_time"]


def test_order_questions_depend_on_having_an_order() -> None:
    text = "do I need the original box?"
    assert read_question(text)["kind"] == "policy"  # type: ignore[index]
    assert read_question(text, has_order=True)["kind"] == "order_return"  # type: ignore[index]
    swap = read_question("can I still swap the shorts for a medium?", has_order=True)
    assert swap is not None and swap["kind"] == "order_change"


@pytest.mark.parametrize(
    "text",
    [
        "no thanks, not right now",
        "great, thanks!",
        "👍",
        "hmm",
        "STOP texting",
        "thanks that was good for me",
    ],
)
def test_texts_that_ask_nothing(text: str) -> None:
    assert read_question(text) is None


def test_other_languages() -> None:
    assert is_other_language("hola, tienen estas zapatillas en talla 40?")
    assert is_other_language("bonjour, est-ce que vous avez cette veste en taille M?")
    assert is_other_language("这双鞋有九号吗")
    assert not is_other_language("do u hav teh daymile in wide?? 😂")
    assert not is_other_language("la sportiva or ridgeline for the trail?")


# --- answers from evidence --------------------------------------------------------------


def _shoe(colour: str, stock: list[str], price: float = 145.0, **extra: Any) -> Product:
    return Product(
        id=f"RIDGE-W-{colour[:3].upper()}",
        title=f"Women's Ridgeline Trail Runner — {colour}",
        category="footwear/trail running shoes",
        description="True to size with a secure midfoot; runners between sizes usually "
        "go up half a size.",
        price=price,
        colors=[colour.split()[-1].lower()],
        sizes=["7", "7.5", "8", "8.5", "9", "9.5", "10"],
        sizes_in_stock=stock,
        in_stock=bool(stock),
        selling_points=["6 mm drop", "quick-draining mesh upper"],
        url="https://shop.example/p",
        **extra,
    )


BLUE = _shoe("Lake Blue", ["8", "8.5", "9"])
BLACK = _shoe("Black", ["7", "9.5"])
PINK = _shoe("Sunset Pink", [], price=99.0, compare_at_price=145.0)


def _evidence(text: str, product: Product | None = BLUE, **kw: Any) -> Evidence:
    kw.setdefault("variants", [BLUE, BLACK, PINK] if product else [])
    return evidence(text, product, **kw)


def _answer(text: str, **kw: Any) -> Any:
    question = read_question(text, has_order=kw.get("order") is not None)
    assert question is not None
    return find_answer(question, _evidence(text, **kw))


def test_yes_first_with_the_colours_that_have_the_size() -> None:
    answer = _answer("do the ridgeline runners come in an 8.5?")
    assert answer["status"] == "yes"
    assert answer["text"].startswith("Yes, the Women's Ridgeline Trail Runner is in stock in 8.5")
    assert "Lake Blue" in answer["text"] and "Black" not in answer["text"]


def test_sold_out_in_that_colour_offers_the_closest_in_stock() -> None:
    answer = _answer("ridgeline in black in an 8.5?")
    assert answer["status"] == "no"
    assert "sold out in 8.5" in answer["text"] and "Lake Blue has it in 8.5" in answer["text"]


def test_a_size_outside_the_run_is_not_made() -> None:
    answer = _answer("ridgeline in a 12?")
    assert "isn't made in 12" in answer["text"] and "7 to 10" in answer["text"]


def test_a_colour_not_offered_lists_the_ones_that_are() -> None:
    answer = _answer("do they come in green?")
    assert answer["status"] == "no" and "doesn't come in green" in answer["text"]


def test_a_sold_out_colourway_names_the_others() -> None:
    answer = _answer("is the pink one in stock?", product=PINK)
    assert "sold out" in answer["text"] and "Lake Blue" in answer["text"]


def test_price_says_the_sale() -> None:
    answer = _answer("how much is it?", product=PINK)
    assert "$99" in answer["text"] and "on sale from $145" in answer["text"]


def test_not_on_sale_says_so_before_the_price() -> None:
    answer = _answer("is it on sale rn?")
    assert answer["text"].startswith("The Women's Ridgeline Trail Runner — Lake Blue isn't on sale")
    assert "$145" in answer["text"]


def test_colours_lists_the_ones_in_stock_and_the_sold_out_ones() -> None:
    answer = _answer("what colors does it come in?")
    assert answer["status"] == "yes"
    assert "comes in Lake Blue and Black" in answer["text"]
    assert "Sunset Pink is sold out" in answer["text"]


def test_a_number_asked_for_is_not_answered_by_a_sentence_without_one() -> None:
    lamp = _shoe("Black", ["7"]).model_copy(
        update={"selling_points": ["rechargeable over USB-C", "weighs 78 g"]}
    )
    answer = _answer("how many hrs does it last on one charge", product=lamp)
    assert answer["status"] == "unknown" and "battery life" in answer["text"]
    assert not any(ch.isdigit() for ch in answer["text"])


def test_the_rule_for_the_amount_said_comes_first() -> None:
    answer = _answer("how much is shipping if my order is like $40", product=None)
    assert answer["text"].index("$6.95") < answer["text"].index("free")
    over = _answer("how much is shipping on a $120 order", product=None)
    assert over["text"].lower().index("free") < over["text"].index("$6.95")


def test_fit_quotes_the_product_and_suggests_a_size() -> None:
    answer = _answer("im between a 9 and 9.5, which should i get?")
    assert "go up half a size" in answer["text"]
    assert "So go with a 9.5. It's in stock in Black." in answer["text"]


def test_a_spec_the_evidence_lacks_is_not_guessed() -> None:
    answer = _answer("how many lumens is it?")
    assert answer["status"] == "unknown" and FOLLOW_UP in answer["text"]
    assert not any(ch.isdigit() for ch in answer["text"])


def test_how_cold_it_handles_asks_for_the_rating_it_may_not_have() -> None:
    answer = _answer("how cold can it handle?")
    assert answer["status"] == "unknown" and "temperature rating" in answer["text"]
    assert not any(ch.isdigit() for ch in answer["text"])


def test_a_comparison_of_a_spec_quotes_the_numbers() -> None:
    tall = _shoe("Black", ["8"]).model_copy(
        update={
            "id": "LONG-BLK",
            "title": "Women's Longhaul Max Trail — Black",
            "selling_points": ["tall stack for long days", "38 mm stack, 6 mm drop"],
        }
    )
    answer = _answer("which has the taller stack, longhaul max or ridgeline", others=[tall])
    assert "38 mm stack" in answer["text"] and "tall stack for long days" not in answer["text"]


def test_a_part_the_product_text_names_is_a_yes_else_not_guessed() -> None:
    named = _answer("does it come with a mesh upper?")
    assert named["status"] == "yes" and "quick-draining mesh upper" in named["text"]
    absent = _answer("does it come w a rain cover")
    assert absent["status"] == "unknown" and "doesn't mention a rain cover" in absent["text"]


def test_a_part_named_in_other_words_and_the_rest_of_the_text_left_out() -> None:
    vest = _shoe("Black", ["7"]).model_copy(
        update={"selling_points": ["two 500 ml soft flasks included"], "description": ""}
    )
    text = "does it come w bottles or do i gotta buy those separate"
    assert "two 500 ml soft flasks" in _answer(text, product=vest)["text"]
    absent = _answer("does it come w a whistle or do i buy one")
    assert "doesn't mention a whistle," in absent["text"]


def test_anything_else_asked_is_answered_only_by_a_sentence_that_speaks_to_it() -> None:
    # The turn asks this kind when no rule reads the question (`answers.turn`).
    asked = _asked("detail")
    made = find_answer(asked, _evidence("where is it made? like what country"))
    assert made is not None and made["status"] == "unknown"
    assert "doesn't say, so I won't guess" in made["text"]
    mesh = find_answer(asked, _evidence("is the upper mesh?"))
    assert mesh is not None and "quick-draining mesh upper" in mesh["text"]


def test_a_restock_date_is_not_promised() -> None:
    answer = _answer("when is the pink coming back?", product=PINK)
    assert "sold out" in answer["text"] and "don't have a restock date" in answer["text"]


def test_a_long_size_run_names_the_sizes_missing_inside_it() -> None:
    from textcart.answers.common import size_run

    made = ["7", "7.5", "8", "8.5", "9", "9.5", "10", "10.5", "11"]
    assert size_run([s for s in made if s != "9.5"], made=made) == "7 to 11, except 9.5"
    assert size_run(made, made=made) == "7 to 11"


def test_my_size_is_the_size_the_shopper_saved() -> None:
    answer = _answer(
        "is the pink still on sale? and do u have my size",
        product=PINK,
        preferences={"shoe_size": "9.5"},
    )
    assert "on sale from $145" in answer["text"] and "Black has it in 9.5" in answer["text"]


def test_a_defect_said_as_a_statement_gets_the_warranty() -> None:
    answer = _answer("the sole is peeling after a month", product=None)
    assert "1-year warranty" in answer["text"] and "photo" in answer["text"]


def test_stack_height_is_not_answered_with_the_drop() -> None:
    answer = _answer("what's the stack height?")
    assert answer["status"] == "unknown" and "stack height" in answer["text"]
    assert "6 mm drop" in _answer("what's the drop?")["text"]


def test_a_comparison_of_the_drop_is_not_answered_with_the_stack() -> None:
    tall = _shoe("Black", ["8"]).model_copy(
        update={
            "id": "LONG-BLK",
            "title": "Women's Longhaul Max Trail — Black",
            "selling_points": ["38 mm stack height under the heel", "5 mm drop"],
        }
    )
    answer = _answer("whats the drop on the longhaul vs the ridgeline?", others=[tall])
    assert "5 mm drop" in answer["text"] and "38 mm" not in answer["text"]


def test_a_part_the_product_has_is_a_yes_and_a_part_it_lacks_is_not() -> None:
    plated = BLUE.model_copy(update={"selling_points": ["full-length carbon fiber plate"]})
    answer = _answer("does that blue one actually have a carbon plate", product=plated)
    assert answer["text"].startswith("Yes.") and "carbon fiber plate" in answer["text"]
    plain = BLUE.model_copy(update={"selling_points": ["no carbon plate, just foam"]})
    answer = _answer("does it have a carbon plate", product=plain)
    assert not answer["text"].startswith("Yes")


def test_what_can_be_done_to_it_is_a_yes_when_its_text_says_so() -> None:
    boot = BLUE.model_copy(update={"description": "Made to last more than one resole."})
    text = "can these get resoled?"  # no rule's kind: the turn asks it as a detail
    answer = find_answer(_asked("detail"), _evidence(text, product=boot))
    assert answer["text"].startswith("Yes.") and "resole" in answer["text"]


def test_wide_feet_are_answered_by_how_snug_it_fits() -> None:
    snug = BLUE.model_copy(update={"description": "It fits snug through the midfoot."})
    answer = _answer("my feet are pretty wide. would it work", product=snug)
    assert "fits snug" in answer["text"]


def test_two_specs_in_one_text_are_both_answered() -> None:
    lamp = _shoe("Black", ["7"]).model_copy(
        update={"selling_points": ["900 lumens max", "up to 50 h on low"], "description": ""}
    )
    answer = _answer("how bright is it + how long does the battery last", product=lamp)
    assert "900 lumens" in answer["text"] and "50 h" in answer["text"]


def test_not_listed_as_waterproof() -> None:
    answer = _answer("is it waterproof?")
    assert answer["status"] == "no" and "isn't listed as waterproof" in answer["text"]


def test_a_policy_answer_quotes_the_knowledge_base() -> None:
    answer = _answer("do i need the original box to send it back", product=None)
    assert answer["text"].startswith("No original box needed")
    assert answer["sources"][0] == "knowledge:returns#original-box-and-tags"


def _order(status: str, delivered: int | None) -> Order:
    return Order("TO-1", "s", status, ("RIDGE-W-BLU",), "UPS", None, None, delivered)


def test_a_return_inside_the_window_says_so_and_how() -> None:
    answer = _answer(
        "can i send it back?",
        product=None,
        order=_order("delivered", 21),
        order_titles={"RIDGE-W-BLU": "Women's Ridgeline Trail Runner"},
    )
    assert answer["text"].startswith("Yes: order TO-1 (Women's Ridgeline Trail Runner)")
    assert "21 days ago" in answer["text"] and "60-day return window" in answer["text"]
    assert "trailhead.example/returns" in answer["text"]


def test_the_days_left_to_return_are_said_when_asked() -> None:
    def reply(text: str, days: int) -> str:
        answer = _answer(text, product=None, order=_order("delivered", days))
        return str(answer["text"])

    assert "(39 days left)" in reply("how many days do i have left to return it?", 21)
    assert "today is the last day" in reply("till when can i send it back", 60)
    assert "days left" not in reply("can i send it back?", 21)  # not asked: not said


def test_a_return_past_the_window_says_no() -> None:
    answer = _answer("can i return it", product=None, order=_order("delivered", 70))
    assert answer["status"] == "no" and "past our 60-day return window" in answer["text"]


def test_a_shipped_order_cannot_be_changed() -> None:
    answer = _answer(
        "can I still swap it for a medium?", product=None, order=_order("shipped", None)
    )
    assert "already shipped" in answer["text"] and "exchange it within 60 days" in answer["text"]
    processing = _answer(
        "can I still cancel my order?", product=None, order=_order("processing", None)
    )
    assert processing["text"].startswith("Yes, order TO-1 hasn't shipped yet")


@pytest.mark.parametrize(
    "text",
    [
        "yo where are my boots?? the summit ones",
        "has my pack shipped yet",
        "any update on my order",
        "do you have a tracking number for me",
        "when will my jacket get here",
        "my package still hasn't arrived",
        "when r the headlamp and shorts gonna get here?",
        "when is the jacket supposed to arrive",
    ],
)
def test_where_an_order_is_is_read_whatever_products_the_text_names(text: str) -> None:
    question = read_question(text, has_order=True)
    assert question is not None and question["kind"] == "order_status", question
    # Without an order on file the text is not read as one (order help says none was found).
    without = read_question(text)
    assert without is None or without["kind"] != "order_status"


@pytest.mark.parametrize(
    "text", ["when will the stormwall be back in stock", "when will the daymile come in wide"]
)
def test_when_a_product_comes_back_is_not_an_order_question(text: str) -> None:
    asked = read_question(text, has_order=True)
    assert asked is None or asked["kind"] != "order_status", asked


@pytest.mark.parametrize(
    "text,topic",
    [
        ("if i buy something on sale can i still return it", "returns"),
        ("if the 8 ends up too snug can i swap for an 8.5 for free?", "exchanges"),
    ],
)
def test_what_could_happen_asks_the_rule_not_about_their_order(text: str, topic: str) -> None:
    asked = read_question(text, has_order=True)
    assert asked is not None and asked["kind"] == "policy" and asked["topic"] == topic


def test_a_change_of_mind_is_a_return_not_a_change_to_the_order() -> None:
    asked = read_question("how long do i have to return it if i change my mind?", has_order=True)
    assert asked is not None and asked["kind"] == "order_return"


def test_an_order_not_placed_yet_is_not_asked_about() -> None:
    asked = read_question("when will my boots get here if i order today?", has_order=True)
    assert asked is not None and asked["kind"] == "policy"


def _placed(status: str, **kw: Any) -> Order:
    fields: dict[str, Any] = {
        "order_id": "TO-7",
        "shopper_id": "s",
        "status": status,
        "item_ids": ("LAMP",),
        "carrier": "FedEx",
        "tracking": "7700",
        "eta_days": 3,
        **kw,
    }
    return Order(**fields)


def test_an_order_status_says_where_it_is_from_the_order_alone() -> None:
    titles = {"LAMP": "Beacon 900 Headlamp"}
    kw: dict[str, Any] = {"product": None, "order_titles": titles}
    shipped = _answer("wheres my headlamp", order=_placed("shipped"), **kw)
    assert shipped["kind"] == "order_status" and shipped["sources"] == ["order:TO-7"]
    assert shipped["text"] == (
        "Order TO-7 (Beacon 900 Headlamp) has shipped with FedEx (tracking 7700) and is "
        "expected in 3 days."
    )
    waiting = _answer("has my order shipped?", order=_placed("processing"), **kw)
    assert "hasn't shipped yet" in waiting["text"] and "expected in 3 days" in waiting["text"]
    here = _placed("delivered", eta_days=None, delivered_days_ago=4)
    assert "was delivered 4 days ago" in _answer("wheres my order", order=here, **kw)["text"]


def test_a_returned_order_says_when_its_refund_comes() -> None:
    for text in ("did my return make it back to you? where's my money", "wheres my refund"):
        answer = _answer(text, product=None, order=_placed("returned"))
        assert "marked as returned" in answer["text"], text
        # The refund's own timing, not the return window that also names a refund.
        assert "within 5 business days of the return arriving" in answer["text"], text
        assert "60 days" not in answer["text"], text


def test_whether_the_order_can_go_back_comes_before_what_to_send_it_in() -> None:
    answer = _answer(
        "the jacket is too big, can i return it? still has the tags",
        product=None,
        order=_order("delivered", 12),
        order_titles={"RIDGE-W-BLU": "Women's Ridgeline Trail Runner"},
    )
    assert answer["status"] == "yes"
    assert answer["text"].startswith("Yes: order TO-1 (Women's Ridgeline Trail Runner)")
    assert "leave the tags on" in answer["text"] and "trailhead.example/returns" in answer["text"]
    late = _answer(
        "can i send it back without the box", product=None, order=_order("delivered", 70)
    )
    assert late["status"] == "no" and "past our 60-day" in late["text"]
    # Only how to pack it asked: the packing rule, with no "Yes" that would read as "you
    # need the box".
    box = _answer("do I need the original box?", product=None, order=_order("delivered", 12))
    assert box["text"].startswith("No original box needed") and "tags on" in box["text"]


def test_an_exchange_says_whether_the_size_asked_is_in_stock() -> None:
    order = Order("TO-1", "s", "delivered", (BLUE.id,), "UPS", None, None, 20)
    kw: dict[str, Any] = {"product": None, "order": order, "order_products": [BLUE]}
    titles = {BLUE.id: "Women's Ridgeline Trail Runner"}
    has = _answer("runs small, can i exchange them for a 9", order_titles=titles, **kw)
    assert has["status"] == "yes" and "The 9 is in stock in Lake Blue." in has["text"]
    assert "Exchanges for a different size" in has["text"]
    assert f"product:{BLUE.id}" in has["sources"]
    out = _answer("can i exchange them for a 7", order_titles=titles, **kw)
    assert "The 7 is sold out in Lake Blue right now." in out["text"]
    never = _answer("can i exchange them for a 14", order_titles=titles, **kw)
    assert "isn't made in a 14" in never["text"]
    # Too long for two segments with every name in it: the order's items go, the how stays.
    assert len(has["text"]) <= 300


def test_a_swap_of_a_delivered_order_is_an_exchange_not_a_change() -> None:
    answer = _answer(
        "can i still swap my shoes for a different size?",
        product=None,
        order=_order("delivered", 10),
    )
    assert answer["status"] == "yes" and "can't be changed" not in answer["text"]
    assert "Exchanges for a different size" in answer["text"]


def test_the_order_holding_the_product_the_text_names_is_picked() -> None:
    shorts = _shoe("Black", ["M"]).model_copy(
        update={
            "id": "SHORTS",
            "title": "Men's Stride 5\" Running Shorts — Black",
            "category": "apparel/running shorts",
        }
    )
    boots = _shoe("Olive", ["10", "10.5"]).model_copy(
        update={
            "id": "BOOTS",
            "title": "Men's Switchback Mid Waterproof Hiker — Olive",
            "category": "footwear/hiking boots",
        }
    )
    latest = Order("TO-2", "s", "shipped", ("SHORTS",), "UPS", None, 2)
    earlier = Order("TO-1", "s", "delivered", ("BOOTS",), "UPS", None, None, 30)
    products = {"SHORTS": shorts, "BOOTS": boots}
    both = [latest, earlier]
    assert order_named("the switchbacks r tight, swap for a 10.5?", both, products) == (
        earlier,
        [boots],
        True,
    )
    # "boots" is the kind of the hiker: the order holds them, by kind only.
    assert order_named("can i return my hiking boots", both, products) == (earlier, [boots], False)
    assert order_named("are the shorts on the way", both, products) == (latest, [shorts], True)
    # A number alone names nothing ("a 5" is a size, not the Stride 5); nor does nothing.
    assert order_named("can i swap for a 5", both, products) is None
    assert order_named("can i return it", both, products) is None


@pytest.mark.parametrize(
    "text,topic",
    [
        ("the buckle cracked the first week, will you replace it?", "warranty"),
        ("zipper pull came off already. is this covered??", "warranty"),
        ("the seam tore after two hikes", "warranty"),
        ("im torn between the 9 and 9.5", None),
        ("is the hood covered in dwr", None),
        ("there are two charges on my card for the same thing", "billing"),
        ("looks like you charged me double", "billing"),
        ("whats this pending charge on my card", "billing"),
    ],
)
def test_damage_and_double_charges_in_the_shoppers_words(text: str, topic: str | None) -> None:
    question = read_question(text)
    assert (question["topic"] if question and question["kind"] == "policy" else None) == topic


def test_two_charges_get_the_payments_answer() -> None:
    answer = _answer("why are there 2 payments for my order", product=None)
    assert answer["sources"] == ["knowledge:payments#charged-twice"]
    assert "authorization" in answer["text"] and "3-5 business days" in answer["text"]


@pytest.mark.parametrize(
    "text,notes,expected",
    [
        ("between a 9 and 9.5", ["runners between sizes usually go up half a size"], "9.5"),
        ("im a 9.5", ["whole sizes only (men's); if you are a half size, size up"], "10"),
        ("im a womens 8.5", ["women usually order 1.5 sizes down"], "7"),
        ("im a 9", ["runners between sizes usually go up half a size"], None),
        ("between a 10 and 10.5", ["go up half a size"], None),  # 10.5 is not in the run
    ],
)
def test_suggested_size(text: str, notes: list[str], expected: str | None) -> None:
    assert suggested_size(BLUE, text, notes) == expected


def test_a_knowledge_file_without_sections_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "faq.md"
    bad.write_text("Just text, no sections.\n")
    with pytest.raises(KnowledgeError, match="faq.md"):
        read_document(bad)
    (tmp_path / "faq.md").write_text("## Hours\nTopics: contact\nOpen daily.\n")
    with pytest.raises(KnowledgeError, match="policies.yaml"):
        load_knowledge(tmp_path)


WINTER = _shoe("Black", ["9"]).model_copy(
    update={
        "title": "Women's Frostline Insulated Winter Boot — Black",
        "selling_points": ["200 g synthetic insulation, rated comfortable to -25 °F"],
        "description": "A warm, waterproof boot for long winter dog walks.",
    }
)


@pytest.mark.parametrize(
    "text,status,says",
    [
        ("warm enough for like -20F?", "yes", "Yes."),
        ("ok at 20 below?", "yes", "Yes."),
        ("would it be warm enough at -35 f", "no", "colder than it's rated for"),
        ("good to minus 40 c?", "no", "colder than it's rated for"),
    ],
)
def test_a_temperature_asked_is_held_against_the_rating(text: str, status: str, says: str) -> None:
    answer = _answer(f"is the frostline {text}", product=WINTER)
    assert answer["status"] == status and says in answer["text"]
    assert "rated comfortable to -25 °F" in answer["text"]


def test_a_temperature_without_a_rating_is_not_guessed() -> None:
    answer = _answer("is it warm enough for -20F?")
    assert answer["status"] == "unknown" and "temperature rating" in answer["text"]


def test_my_usual_with_a_womens_line_converts_a_unisex_size() -> None:
    unisex = _shoe("Cobalt", ["7", "7.5", "8"]).model_copy(
        update={
            "title": "Scree Dash Trail Racer — Cobalt",
            "description": "Unisex sizing in men's sizes; women usually order 1.5 sizes down.",
        }
    )
    text = "scree dash says unisex?? what sz would i order then, my usual"
    prefs = {"shoe_size": "9", "shoe_line": "women"}
    answer = _answer(text, product=unisex, preferences=prefs)
    assert "So go with a 7.5." in answer["text"]
    # For someone else, the shopper's own line says nothing.
    answer = _answer(f"for my bf: {text}", product=unisex, preferences=prefs)
    assert "7.5" not in answer["text"]


def test_worn_shoes_get_the_worn_items_rule() -> None:
    text = "ran one trail in my mudlarks and they give me blisters, can i return them"
    answer = _answer(text, product=None)
    assert "Shoes worn outdoors can't be returned" in answer["text"]


def test_a_shop_to_visit_the_documents_never_mention_is_not_guessed() -> None:
    answer = _answer("do u have an actual store in denver", product=None)
    assert answer["status"] == "unknown"
    assert answer["text"] == f"I don't have that in our store info, so I won't guess. {FOLLOW_UP}"


@pytest.mark.parametrize(
    "text,kind",
    [
        ("need a bike helmet what do u have", "bike helmets"),
        ("do you sell kayaks?", "kayaks"),
        ("u have the zephyrmax", None),  # a lone name may be a model we lack
        ("whats good for bouldering", None),  # a need, not a kind of product
        ("looking for something to keep my dog warm on walks lol", None),  # too many words
    ],
)
def test_the_kind_a_short_ask_names(text: str, kind: str | None) -> None:
    assert kind_named(text) == kind


@pytest.mark.parametrize(
    "points,status,says",
    [
        (["vegan: recycled mesh and synthetic suede, no animal products"], "yes", "It's vegan."),
        (["full-grain leather upper"], "no", "It's not vegan."),
        (["faux suede overlays"], "info", "faux suede"),
    ],
)
def test_a_vegan_question_is_answered_yes_or_no_from_the_materials(
    points: list[str], status: str, says: str
) -> None:
    boot = _shoe("Black", ["9"]).model_copy(update={"selling_points": points})
    answer = _answer("r these vegan? trying to avoid leather", product=boot)
    assert answer["status"] == status and says in answer["text"]


def test_a_number_asked_for_one_spec_is_not_asked_of_the_other() -> None:
    lamp = _shoe("Black", ["7"]).model_copy(
        update={"selling_points": ["400 lumens max", "recharges over USB-C"], "description": ""}
    )
    answer = _answer("how bright is it & does it charge usb c", product=lamp)
    assert "400 lumens" in answer["text"] and "USB-C" in answer["text"]
    assert "won't guess" not in answer["text"]


@pytest.mark.parametrize(
    "text,asked",
    [
        ("need a 2 person tent for yosemite, what do u have", ("a", "tent")),
        ("do u sell 2-person tents", ("", "tents")),
        ("do yall carry tents?", ("", "tents")),
        ("got a 9 in blue?", None),  # a size, not a kind of product
        ("i have wide feet, which road shoe would u recommend", None),  # theirs, not ours
        ("i've got flat feet, any suggestions", None),
        ("whats the drop on that shoe", None),
    ],
)
def test_what_a_do_you_sell_text_asks_for(text: str, asked: tuple[str, str] | None) -> None:
    assert asked_for(text) == asked


def test_the_sentence_with_the_number_asked_for_is_found_wherever_it_stands() -> None:
    parka = _shoe("Black", ["M"]).model_copy(
        update={
            "title": "Women's Basecamp Down Parka — Black",
            "description": "",
            "selling_points": [
                "800-fill down",
                "thigh-length cut with an insulated hood",
                "warm, water-resistant shell fabric",
                "rated comfortable to -20 °F when standing around",
            ],
        }
    )
    answer = _answer("whats the basecamp parka rated to temp wise", product=parka)
    assert "-20 °F" in answer["text"] and "won't guess" not in answer["text"]


def test_the_load_a_pack_carries_is_not_its_own_weight() -> None:
    pack = _shoe("Black", ["M"]).model_copy(
        update={
            "title": "Ascent 45 Backpacking Pack — Black",
            "description": "",
            "selling_points": [
                "weighs 1.3 kg",
                "45 L plus a 5 L collar",
                "carries 35 lb comfortably",
            ],
        }
    )
    text = "ascent 45 - how many liters total and how much weight is it comfy with?"
    assert read_question(text, has_order=False)["topics"] == ["load", "capacity"]  # type: ignore[index]
    answer = _answer(text, product=pack)
    assert "35 lb" in answer["text"] and "45 L" in answer["text"]
    assert "1.3 kg" not in answer["text"]


def test_a_comparison_answers_two_specs() -> None:
    def lamp(name: str, lumens: int, grams: int) -> Product:
        return _shoe("Black", ["OS"]).model_copy(
            update={
                "id": name,
                "title": f"Beacon {name} Headlamp — Black",
                "description": "",
                "selling_points": [f"{lumens} lumens max", f"weighs {grams} g", "tilting head"],
            }
        )

    answer = _answer(
        "beacon 400 vs 900 - which is brighter and how much heavier is the 900",
        product=lamp("400", 400, 78),
        others=[lamp("900", 900, 115)],
    )
    for said in ("400 lumens", "78 g", "900 lumens", "115 g"):
        assert said in answer["text"]


def test_a_colour_the_text_names_is_listed_first() -> None:
    names = ["Mustard", "Charcoal", "Lavender", "Ember Red", "Navy", "Moss"]
    fleeces = [_shoe(n, ["M"]) for n in names]
    answer = _answer(
        "does it come in black? if not navy works",
        product=fleeces[0],
        variants=fleeces,
    )
    assert "doesn't come in black" in answer["text"]
    assert answer["text"].index("Navy") < answer["text"].index("Mustard")


@pytest.mark.parametrize(
    "text,earlier,what,said",
    [
        ("what abt slate grey", ["got the daymile in a mens 9?"], "size", "9"),
        ("and in a 9?", ["is it avail in cobalt"], "colour", "cobalt"),
        ("slate grey in stock?", ["got the daymile in a mens 9?"], "size", None),  # a new ask
    ],
)
def test_a_follow_on_keeps_what_the_last_text_said(
    text: str, earlier: list[str], what: Any, said: str | None
) -> None:
    assert _said_before(text, earlier, what) == said


@pytest.mark.parametrize(
    "text",
    ["do the carbon trekking poles come in anything besides black", "any other than grey?"],
)
def test_anything_besides_a_colour_asks_for_the_colours(text: str) -> None:
    question = read_question(text, has_order=False)
    assert question is not None and question["kind"] == "colours"


def test_which_colour_is_cheapest_is_a_price_question_naming_the_cheaper_colour() -> None:
    text = "which colour of the ridgeline is cheapest rn"
    assert read_question(text, has_order=False)["kind"] == "price"  # type: ignore[index]
    moss = _shoe("Moss Green", ["8", "9"], price=86.95)
    answer = _answer(text, variants=[BLUE, BLACK, moss])
    assert "$145" in answer["text"] and "Moss Green colour is $86.95" in answer["text"]
