"""Readings the blind sets taught from the eighteenth on: each a rule, tested on its own words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from answer_evidence import evidence

from textcart.answers.asked_products import PLAIN_ONE
from textcart.answers.carried import not_carried
from textcart.answers.details import temperature
from textcart.answers.evidence import find_answer
from textcart.answers.policy_topics import policy_topics
from textcart.answers.question import goes_on, read_question
from textcart.answers.specs_asked import specs_asked
from textcart.answers.turn import _asked, _asks_for_picks, _other_questions, _said_before
from textcart.graph.asked import PRONOUN, asks_about_discussed
from textcart.graph.named import asking_clauses
from textcart.rules.grounding import violations
from textcart.rules.needs import read_needs
from textcart.rules.references import colourway_reference, position_said
from textcart.tools.catalog import Product
from textcart.tools.compliance import gsm_friendly, is_gsm7
from textcart.vocabulary.money import MONEY_PATTERN
from textcart.vocabulary.records import ProductCard, Recommended, SmsFacts

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def _product(title: str, description: str, points: list[str], **extra: Any) -> Product:
    return Product(
        id="-".join(title.upper().split()),
        title=title,
        category="apparel",
        description=description,
        price=extra.pop("price", 75.0),
        colors=["black"],
        sizes=["S", "M", "L"],
        sizes_in_stock=["S", "M", "L"],
        in_stock=True,
        selling_points=points,
        url="https://shop.example/p",
        **extra,
    )


@pytest.mark.parametrize(
    "text,warranty",
    [
        ("is the gtx in plum still around in 8.5? my old pair just died on me lol", False),
        ("my old boots fell apart, is the talus any tougher", False),
        ("my headlamp died after 4 months", True),
        ("my old pair from you guys died, is that covered?", True),
    ],
)
def test_an_old_pair_that_died_is_why_they_buy_not_a_claim(text: str, warranty: bool) -> None:
    assert ("warranty" in policy_topics(text)) is warranty


@pytest.mark.parametrize(
    "text,express",
    [
        ("how long does the battery go on low? doing an overnight ultra", False),
        ("packing for an overnight hike, is it light", False),
        ("can u ship it overnight", True),
        ("do you do overnight shipping", True),
    ],
)
def test_an_overnight_race_is_not_overnight_shipping(text: str, express: bool) -> None:
    assert ("express" in policy_topics(text)) is express


@pytest.mark.parametrize(
    "text", ["is the wind shell waterprof??", "watrproof or not", "waterpoof?"]
)
def test_waterproof_typed_fast_asks_about_waterproofing(text: str) -> None:
    question = read_question(text)
    assert question is not None and question["kind"] == "waterproof"


async def test_something_to_do_to_a_product_is_not_a_kind_we_lack() -> None:
    # No catalog is reached: the text names no kind of product to look up.
    text = "can my merino crew go in the dryer? really dont wanna shrink it"
    assert await not_carried(None, text) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text,picks",
    [
        # The sentence naming the product asks about it; "something" in another says why.
        ("which camp slides do u have in a 12... i just need something for after runs", False),
        ("need something like the camp slide but cheaper", True),
        ("anything warm under $90?", True),
    ],
)
def test_a_pick_word_in_another_sentence_than_the_product_named(text: str, picks: bool) -> None:
    assert _asks_for_picks(text, "product_question", "Camp Slide Recovery Sandal — Black") is picks


def test_a_question_about_a_colourways_price_is_not_a_request_for_picks() -> None:
    text = "how much are the black ones... and is the brown cheaper or pricier"
    assert not _asks_for_picks(text, "product_question", None)


def test_the_other_colourways_price_is_said_when_asked_against() -> None:
    black = _product("Frostline Boot — Black", "Warm.", ["rated to -25 F"], price=110.95)
    brown = _product("Frostline Boot — Saddle Brown", "Warm.", ["rated to -25 F"], price=185.0)
    text = "how much are the black ones... and is the brown cheaper or pricier"
    question = read_question(text)
    assert question is not None and question["kind"] == "price"
    ev = evidence(text, black, variants=[black, brown])
    answer = find_answer(question, ev)
    assert answer is not None
    assert "$110.95" in answer["text"] and "Saddle Brown colour is $185" in answer["text"]


def test_a_part_of_the_text_is_read_without_the_products_own_name() -> None:
    text = "should i just get my normal size in the merino 150 crew? i like a bit of room"
    # The turn reads the whole text as fit once the name is out (`_without_name`); "merino"
    # in its first part is the product's name, not a question about its material.
    fit = _asked("fit")
    assert _other_questions(text, fit, "Men's Merino 150 Crew Base Layer — Black") == []
    assert _other_questions(text, fit, None) == []  # no product: nothing more to answer


@pytest.mark.parametrize(
    "text,asking",
    [
        (
            "the tempo racer i sent back was sooo narrow 😩 my feet r kinda wide... is the "
            "daymile any better",
            "is the daymile any better",
        ),
        ("got the daymile in a 9?", "got the daymile in a 9?"),  # one sentence, a question
        ("i love the daymile. ok bye", "i love the daymile. ok bye"),  # no question at all
    ],
)
def test_the_sentences_that_ask_name_the_product_asked_about(text: str, asking: str) -> None:
    assert asking_clauses(text).strip() == asking


def test_how_many_miles_is_answered_only_by_a_sentence_about_miles() -> None:
    racer = _product(
        "Tempo Road Racer — Pink",
        "A carbon plate and springy foam make fast paces feel easier.",
        ["PEBA-based foam midsole that returns energy on every stride"],
    )
    text = "how many miles do the tempo racers last before the foam goes dead??"
    answer = find_answer(_asked("detail"), evidence(text, racer))
    assert answer is not None and answer["status"] == "unknown"
    assert "doesn't say" in answer["text"] and "PEBA" not in answer["text"]


def test_fibres_the_materials_do_not_mention_are_not_guessed() -> None:
    bottoms = _product("Merino 250 Bottoms — Navy", "Warm leggings.", ["midweight 250 g/m² merino"])
    text = "r the merino 250 bottoms pure merino or is there nylon/spandex mixed in?"
    question = read_question(text)
    assert question is not None and question["kind"] == "material"
    answer = find_answer(question, evidence(text, bottoms))
    assert answer is not None and answer["status"] == "unknown"
    assert "250 g/m² merino" in answer["text"]
    assert "doesn't say whether there's any nylon or spandex" in answer["text"]
    pure = _product("Merino 150 Crew — Black", "Soft.", ["100% merino wool"])
    answered = find_answer(question, evidence(text, pure))
    assert answered is not None and answered["status"] == "info"
    assert "100% merino wool" in answered["text"]


def test_a_superscript_does_not_make_a_text_ucs2() -> None:
    assert is_gsm7(gsm_friendly("lightweight 150 g/m² merino"))


@pytest.mark.parametrize(
    "text,kind,topic",
    [
        ("how long does the beacon 400 go on low?", "spec", "battery"),
        ("do i go my usual size in the crew if i want it a bit loose", "fit", None),
        ("how many miles will the mens daymile last", "detail", None),
        ("how long do the soles last", "detail", None),
    ],
)
def test_run_time_in_a_mode_a_looser_fit_and_how_long_it_lasts(
    text: str, kind: str, topic: str | None
) -> None:
    question = read_question(text)
    assert question is not None and question["kind"] == kind and question["topic"] == topic


# --- the nineteenth blind set ------------------------------------------------------------


@pytest.mark.parametrize(
    "text,size",
    [("fastpack 8 vest in the yellow, size M/L — got one?", "M/L"), ("size m pls", "M")],
)
def test_a_pack_size_after_size_is_the_pack_size(text: str, size: str) -> None:
    assert read_needs(text, {})["size"] == size


@pytest.mark.parametrize(
    "text,topic,present",
    [
        ("whats the drop? coming off a super high drop trainer", "warranty", False),
        ("the sole is coming off after a month", "warranty", True),
        ("ran a muddy 10k in my new trail shoes and hated them. can i return em?", "worn", True),
        ("how many hrs on max? doing my first overnight 100 miler", "express", False),
        ("any way to split payments? moneys tight til payday", "payment", True),
    ],
)
def test_topics_the_nineteenth_set_taught(text: str, topic: str, present: bool) -> None:
    assert (topic in policy_topics(text)) is present


@pytest.mark.parametrize(
    "text,colour",
    [
        ("ugh fine. what about the rust ones then, same size", "rust"),
        ("got it in sand?", "sand"),
        ("will the carbon poles rust", None),
        ("running in sand and rocks", None),
    ],
)
def test_a_colour_that_is_also_a_word_only_when_said_as_one(text: str, colour: str | None) -> None:
    question = read_question(text)
    assert (question["colour"] if question else None) == colour


def test_same_size_keeps_the_size_said_before() -> None:
    earlier = ["hey do u have mens mudlark in black, 12.5"]
    assert _said_before("ugh fine. what about the rust ones then, same size", earlier, "size")


def test_a_weight_comparison_says_which_is_lighter_when_weighed_alike() -> None:
    racer = _product("Men's Tempo Road Racer — Volt", "Fast.", ["weighs 198 g (men's 9)"])
    trainer = _product("Men's Daymile Daily Trainer — Red", "Easy.", ["weighs 285 g (men's 9)"])
    text = "which one is lighter"
    question = read_question(text)
    assert question is not None and question["kind"] == "comparison"
    answer = find_answer(question, evidence(text, racer, others=[trainer]))
    assert answer is not None
    assert answer["text"].startswith("The Men's Tempo Road Racer is lighter: 198 g against 285 g")
    women = _product("Women's Daymile Daily Trainer — Red", "Easy.", ["weighs 240 g (women's 7)"])
    unlike = find_answer(question, evidence(text, racer, others=[women]))
    assert unlike is not None and "is lighter" not in unlike["text"]  # different sizes


def test_a_run_time_asked_for_another_mode_is_not_guessed() -> None:
    lamp = _product("Beacon 900 Headlamp — Black", "Bright.", ["up to 50 h on low"])
    text = "how many hrs does the beacon 900 last on max brightness?"
    question = read_question(text)
    assert question is not None and question["topics"][0] == "battery"
    answer = find_answer(question, evidence(text, lamp))
    assert answer is not None and answer["status"] == "unknown"
    assert "run time on max" in answer["text"] and "50 h on low" in answer["text"]
    low = find_answer(question, evidence("how long on low?", lamp))
    assert low is not None and low["status"] != "unknown"


def test_a_bare_xs_or_xl_is_a_size_and_alright_opens_a_question() -> None:
    assert read_needs("womens basecamp down parka in black, xs?", {})["size"] == "XS"
    assert read_needs("got an xl", {})["size"] == "XL"
    question = read_question("alright what about the sand ones, same size")
    assert question is not None and question["colour"] == "sand"


def test_a_5k_in_them_is_wearing_them() -> None:
    assert "worn" in policy_topics("did a 5k in the mudlarks and they rub, can i send em back?")


# --- the twentieth blind set -------------------------------------------------------------


def test_the_sky_blue_one_is_that_shade_of_the_product_discussed() -> None:
    shown = Recommended(
        at=(NOW - timedelta(minutes=5)).isoformat(),
        products=[
            ProductCard(  # type: ignore[typeddict-item]
                id="HOODY-WHT", title="Sunrise Sun Hoodie — Cloud White", price=65.0
            )
        ],
    )
    said = colourway_reference("is the sky blue one any cheaper?", shown, NOW)
    assert said is not None and said[1:] == ("sky blue", "Sunrise Sun Hoodie")
    other = colourway_reference("what about the other blue one", shown, NOW)
    assert other is not None and other[1] == "blue"


@pytest.mark.parametrize(
    "text,kind",
    [
        ("is the sky blue one any cheaper? 👀", "price"),
        (
            "how short do the carbon trekking poles fold down? need them to fit in my carry on",
            "detail",
        ),
        ("is the daymile any wider than that tempo racer i sent back?", "comparison"),
        ("does it fit true to size", "fit"),
    ],
)
def test_readings_the_twentieth_set_taught(text: str, kind: str) -> None:
    question = read_question(text)
    assert question is not None and question["kind"] == kind


def test_a_faster_option_asks_about_express_too() -> None:
    text = "how long does shipping take? need them before my race, is there a faster option"
    assert {"express", "shipping_time"} <= set(policy_topics(text))


def test_a_care_guide_for_another_kind_of_product_does_not_answer() -> None:
    bottle = _product("Summit Insulated Bottle — Black", "Keeps drinks cold.", ["1 L"])
    bottle = bottle.model_copy(update={"category": "accessories/bottles"})
    text = "is the summit insulated bottle dishwasher safe? i refuse to hand wash anything"
    answer = find_answer(_asked("care"), evidence(text, bottle))
    assert answer is not None and answer["status"] == "unknown"
    assert "merino" not in answer["text"].lower()
    shoe = _product("Mudlark Trail Shoe — Black", "Grippy.", ["5 mm lugs"])
    shoe = shoe.model_copy(update={"category": "footwear/trail running shoes"})
    dried = find_answer(_asked("care"), evidence("can they go in the dryer", shoe))
    assert dried is not None and "Never put them in the dryer" in dried["text"]


def test_what_is_different_besides_the_price_gives_what_each_has() -> None:
    small = _product("Beacon 400 Headlamp — Black", "Light.", ["400 lumens max", "IPX4"])
    big = _product("Beacon 900 Headlamp — Black", "Bright.", ["900 lumens max", "50 h on low"])
    text = "beacon 400 vs 900? whats actually different besides the price"
    question = read_question(text)
    assert question is not None and question["kind"] == "comparison"
    answer = find_answer(question, evidence(text, small, others=[big]))
    assert answer is not None
    assert (
        "400 lumens max. IPX4" in answer["text"] and "900 lumens max. 50 h on low" in answer["text"]
    )


# --- the twenty-first set -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text,kind",
    [
        # After chat, mid-sentence: still questions.
        ("parka got kinda gross after a camping trip lol how do i wash it", "care"),
        ("ok be honest is that teal rain jacket still on sale or did i miss it", "price"),
        # "budget is tight" is money, not the fit.
        ("are the blue ridgelines in my cart on sale? budget is tight this month", "price"),
        ("are the ridgelines tight in the toe box?", "fit"),
        # A count of what is left is a stock question, whatever else the text says.
        ("how many of the red packs do u have left? want one before the sale ends", "availability"),
        ("how many trailhead 22 packs r in stock, sale ends soon?", "stock"),
    ],
)
def test_questions_after_chat_and_words_used_another_way(text: str, kind: str) -> None:
    question = read_question(text)
    assert question is not None and question["kind"] == kind


def test_how_many_are_left_says_the_count_is_not_known() -> None:
    pack = _product("Trailhead 22 Daypack — Ember Red", "Roomy.", ["22 L"])
    text = "how many of the red trailhead 22 packs do u have left?"
    question = read_question(text)
    assert question is not None
    answer = find_answer(question, evidence(text, pack))
    assert answer is not None and answer["text"].startswith("Yes, the Trailhead 22 Daypack")
    assert "can't see how many are left" in answer["text"]


def test_shoes_taken_on_runs_are_worn() -> None:
    assert "worn" in policy_topics("took my new shoes on 2 trail runs, can i return them")
    assert "worn" not in policy_topics("can i return shoes i never took out of the box")


def test_a_text_that_goes_on_from_the_one_before() -> None:
    assert goes_on("and the womens version?")
    assert goes_on("what about the mens")
    assert not goes_on("is the womens version lighter?")
    assert asks_about_discussed("and the womens version?")
    assert not asks_about_discussed("and do u have trail shoes?")


def test_stack_up_against_is_no_stack_height() -> None:
    assert specs_asked("how does it stack up vs the talus weight wise") == ["weight"]
    assert specs_asked("whats the stack height") == ["drop"]


def test_a_version_compared_with_its_model_says_what_it_adds_first() -> None:
    plain = _product(
        "Women's Ridgeline Trail Runner — Blue", "Our one-shoe quiver.", ["4.5 mm lugs"]
    )
    gtx = _product(
        "Women's Ridgeline GTX Trail Runner — Black",
        "On hot summer days the regular Ridgeline breathes better.",
        ["waterproof GORE-TEX membrane", "4.5 mm lugs"],
    )
    text = "ridgeline vs ridgeline gtx, worth the extra? i run mostly in summer"
    question = read_question(text)
    assert question is not None and question["kind"] == "comparison"
    over = read_question("is the ridgeline gtx worth it over the normal ridgeline")
    assert over is not None and over["kind"] == "comparison"
    answer = find_answer(question, evidence(text, plain, others=[gtx]))
    assert answer is not None
    assert "GTX Trail Runner is $75: waterproof GORE-TEX membrane" in answer["text"]
    assert "breathes better" in answer["text"]


def test_a_base_layers_warmth_is_its_fabric_weight() -> None:
    light = _product("Men's Merino 150 Crew — Black", "For cool runs.", ["lightweight 150 g/m²"])
    mid = _product("Merino 250 Zip-Neck — Navy", "For cold days.", ["midweight 250 g/m² merino"])
    text = "whats the diff between the merino 150 crew and the 250 zip neck? which is warmer"
    question = read_question(text)
    assert question is not None and question["topics"] == ["warmth"]
    answer = find_answer(question, evidence(text, mid, others=[light]))
    assert answer is not None
    assert "150 g/m²" in answer["text"] and "250 g/m²" in answer["text"]


def test_staying_dry_is_no_care_instruction() -> None:
    shell = _product(
        "Women's Stormwall 3L Rain Jacket — Teal",
        "The fabric stays dry against your skin.",
        ["pit zips"],
    ).model_copy(update={"category": "apparel/rain jackets"})
    answer = find_answer(_asked("care"), evidence("how do i wash it", shell))
    assert answer is not None
    assert "stays dry" not in answer["text"] and "tech wash" in answer["text"]


# --- the twenty-second set ----------------------------------------------------------------


def test_on_sale_or_full_price_under_a_limit_says_both_and_the_guard_lets_it_pass() -> None:
    shoe = _product("Women's Ridgeline Trail Runner — Lake Blue", "Grippy.", ["6 mm drop"])
    shoe = shoe.model_copy(update={"price": 145.0})
    text = "is the blue pair in my cart on sale or full price? trying to stay under 150"
    question = read_question(text)
    assert question is not None and question["kind"] == "price"
    answer = find_answer(question, evidence(text, shoe))
    assert answer is not None
    assert answer["text"].startswith(
        "The Women's Ridgeline Trail Runner — Lake Blue isn't on sale right now: it's $145, "
        "under $150."
    )
    facts = SmsFacts(answer=answer["text"], product=answer["product_title"], price="$145")
    said = text
    guard = violations(
        answer["text"], facts, "answer_question", said, offer_code="", offer_percent=0
    )
    assert guard == []  # "$145," is $145
    assert MONEY_PATTERN.findall("it's $145, under $150. Rs 1,299") == ["$145", "$150", "Rs 1,299"]


def test_how_far_poles_extend_is_their_length() -> None:
    assert specs_asked("how long do the carbon poles extend?? im 6'4") == ["length"]


def test_good_for_it_is_for_what_the_text_before_said() -> None:
    question = read_question("would the longhaul max be a good shoe for it")
    assert question is not None and question["kind"] == "suitability"


def test_where_is_my_order_is_answered_beside_a_swap() -> None:
    swap = read_question("can i still swap the shorts for an XL", has_order=True)
    assert swap is not None and swap["kind"] == "order_change"
    text = "hey where's my order at? also can i still swap the shorts for an XL before it shows up"
    parts = _other_questions(text, swap, None, has_order=True)
    assert [(first, asked["kind"]) for first, _, asked in parts] == [(True, "order_status")]


def test_a_colour_said_before_holds_for_them() -> None:
    earlier = ["hiii quick q about the womens ridgeline trail runners, the lake blue ones"]
    assert _said_before("do u have them in an 11?", earlier, "colour") == "blue"
    assert _said_before("do u have trail shoes in an 11?", earlier, "colour") is None


def test_the_normal_one_is_the_model_a_version_is_of() -> None:
    assert PLAIN_ONE.search("how is the ridgeline gtx different from the normal one")
    assert PLAIN_ONE.search("gtx vs the regular ridgelines")
    assert not PLAIN_ONE.search("does the ridgeline gtx come in a normal width")


# --- the twenty-third set -----------------------------------------------------------------


def test_a_split_zipper_is_damage_and_split_payments_are_not() -> None:
    assert policy_topics("the zipper on my fleece split after like 4 months") == ["warranty"]
    assert policy_topics("can i split payments") == ["payment"]


def test_having_sent_them_back_is_a_story_not_a_return_question() -> None:
    text = "the tempo racers were so narrow i had to send them back. would the daymile be better"
    assert "returns" not in policy_topics(text)
    question = read_question(text, has_order=True)
    assert question is not None and question["kind"] == "fit"
    assert policy_topics("can i send them back") == ["returns"]


def test_how_much_is_express_asks_express_not_the_standard_cost() -> None:
    text = "how long does normal shipping take? and how much is express if i need it faster"
    assert policy_topics(text) == ["express", "shipping_time"]
    assert policy_topics("how much is shipping and is there express") == [
        "express",
        "shipping_cost",
    ]


def test_a_colour_alone_goes_on_from_the_text_before() -> None:
    assert goes_on("the mint ones i mean")
    assert goes_on("oh sorry, in olive")
    assert not goes_on("the mint ones are cute, do they run small?")


def test_what_they_were_just_looking_at_and_the_second_one() -> None:
    assert PRONOUN.search("the yellow racing shoes i was just looking at, got a 13?")
    assert position_said("does the second one need a lot of breaking in?") == 1
    assert position_said("is it waterproof?") is None


# --- the twenty-fourth set ----------------------------------------------------------------


def test_needing_the_same_again_is_buying_not_a_claim() -> None:
    text = "my ridgelines finally died after like 600 miles rip need the cobalt ones again mens 9"
    assert "warranty" not in policy_topics(text)
    assert "warranty" in policy_topics("my ridgelines died after 2 weeks, is that covered")


def test_split_it_up_is_paying_and_a_split_seam_is_damage() -> None:
    assert policy_topics("can i pay w klarna? or split it up somehow") == ["payment"]
    assert policy_topics("the seam split open after a week") == ["warranty"]


@pytest.mark.parametrize(
    "text,kind",
    [
        # After an emoji a question starts; "sell out" is stock.
        ("i left those trail shoes in my cart 🙈 r they still there or did they sell out", "stock"),
        ("need the cobalt ones again mens 9 u got em?", "availability"),
        (
            "ngl the blue mens ridgeline is way cheaper than the black... is black on sale too",
            "price",
        ),
        ("lol could i run in the parka when its freezing out or is that dumb", "suitability"),
        ("is the softloop only for running or would it work for work", "suitability"),
        ("black one in the bigger size?", "availability"),
    ],
)
def test_what_the_twenty_fourth_set_asked(text: str, kind: str) -> None:
    question = read_question(text)
    assert question is not None and question["kind"] == kind


def test_a_size_word_asked_for_on_its_own_is_a_size() -> None:
    assert read_needs("the featherlite one in the light blue, medium pls 🙏", {})["size"] == "M"
    assert read_needs("a medium weight fleece", {})["size"] is None


def test_the_colour_asked_on_sale_is_the_one_priced() -> None:
    blue = _product("Men's Ridgeline Trail Runner — Lake Blue", "Grippy.", ["6 mm drop"])
    blue = blue.model_copy(update={"price": 99.0, "compare_at_price": 145.0, "colors": ["blue"]})
    black = _product("Men's Ridgeline Trail Runner — Black", "Grippy.", ["6 mm drop"])
    black = black.model_copy(update={"id": "RIDGE-BLACK", "price": 145.0})
    text = "the blue mens ridgeline is way cheaper than the black... is black on sale too or nah"
    question = read_question(text)
    assert question is not None and question["colour"] == "black"
    assert not _asks_for_picks(text, "price_or_discount", blue.title)
    answer = find_answer(question, evidence(text, blue, [blue, black]))
    assert answer is not None
    assert "Black isn't on sale right now: it's $145" in answer["text"]


def test_the_bigger_size_is_the_end_of_the_run() -> None:
    pack = _product("Trailhead 22 Daypack — Black", "Roomy.", ["22 L"])
    pack = pack.model_copy(update={"sizes": ["S/M", "M/L"], "sizes_in_stock": ["S/M"]})
    text = "black one in the bigger size?"
    question = read_question(text)
    assert question is not None
    answer = find_answer(question, evidence(text, pack))
    assert answer is not None and "sold out in M/L" in answer["text"]


def test_they_point_back_unless_they_are_the_store() -> None:
    assert PRONOUN.search("signed up for a muddy 50k, would they be ok for that?")
    assert not PRONOUN.search("do they sell tents")
    text = "how heavy r the womens ones? my old boots felt like bricks tbh"
    assert asks_about_discussed(text)


# --- the twenty-fifth set -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text,kind",
    [
        ("what sizes u got left in the cobalt ridgeline? mens", "availability"),
        ("the yellow fastpack one, is it sold out in every size??", "availability"),
        ("whats the cheapest colour of the mens ridgeline rn", "price"),
        ("wait the mint pacer tee is $22.95?? typo or real lol", "price"),
        ("im like a 9 or 9.5 depending on the brand... which do i get in the ridgelines", "fit"),
        ("is the basecamp parka actual down??", "material"),
        ("canyon low waterproof y/n", "waterproof"),
    ],
)
def test_what_the_twenty_fifth_set_asked(text: str, kind: str) -> None:
    question = read_question(text)
    assert question is not None and question["kind"] == kind


def test_which_sizes_are_left_are_listed_in_full_with_those_sold_out() -> None:
    pack = _product("Trailhead 22 Daypack — Black", "Roomy.", ["22 L"])
    pack = pack.model_copy(update={"sizes": ["S/M", "M/L"], "sizes_in_stock": ["S/M"]})
    text = "which sizes does the black trailhead 22 daypack come in rn"
    question = read_question(text)
    assert question is not None
    answer = find_answer(question, evidence(text, pack))
    assert answer is not None and "in S/M only; M/L is sold out" in answer["text"]


def test_looking_for_a_named_product_is_no_request_for_picks() -> None:
    text = "hi! looking for the switchback mid boots, womens 7.5 in the forest green"
    assert not _asks_for_picks(text, "recommendation_request", "Women's Switchback Mid — Forest")
    assert _asks_for_picks("looking for a warm jacket", "recommendation_request", None)


def test_a_number_below_zero_is_a_temperature_without_a_unit() -> None:
    assert temperature("frostline boots warm enough for like -30 when im shoveling?") == -30
    assert temperature("a 10-15 mile hike") is None


def test_a_price_said_back_gets_a_yes_or_no_first() -> None:
    tee = _product("Pacer Tech Tee — Mint", "Light.", ["quick-dry"])
    tee = tee.model_copy(update={"price": 22.95, "compare_at_price": 38.0})
    text = "wait the mint pacer tee is $22.95?? typo or real lol"
    question = read_question(text)
    assert question is not None and question["kind"] == "price"
    answer = find_answer(question, evidence(text, tee))
    assert answer is not None
    assert answer["text"].startswith("Yes, that is right: the Pacer Tech Tee — Mint is $22.95")
    assert "on sale from $38" in answer["text"]
    wrong = find_answer(question, evidence("is the mint tee $19.99?", tee))
    assert wrong is not None and wrong["text"].startswith("No: the Pacer Tech Tee")
