"""The store-policy topics a text asks about: shipping, returns, exchanges, warranty...

Patterns, most specific first, read by `textcart.answers.question`.
"""

from __future__ import annotations

import re


def any_of(*alternatives: str) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of the alternatives."""
    return re.compile("|".join(alternatives), re.IGNORECASE)


# Store-policy topics, most specific first: "can I return it without the box" is packaging.
POLICY_TOPICS: list[tuple[str, re.Pattern[str]]] = [
    (
        "packaging",
        any_of(
            r"original (box|packaging|bag)",
            r"(?<!out of )\bthe box\b",
            r"\bpackaging\b",
            r"\btags?\b",
            r"\bshoe ?box\b",
            r"(?<!n't )(?<!nt )(?<!never )(?<!not )\bworn (it|them) (once|outside)",
        ),
    ),
    (
        "price_match",
        any_of(r"price[- ]?match", r"\bmatch (it|the price|their price|that|a price)\b"),
    ),
    (
        "worn",
        any_of(
            r"(?<!never )(?<!not )(?<!haven't )(?<!havent )\bwore\b",
            r"(?<!never )(?<!not )(?<!un)(?<!never been )(?<!n't )(?<!nt )(?<!even )\bworn\b"
            r"(?! once)",
            r"\bused (it|them)\b",
            r"\b(ran|run|hiked|walked) in\b",
            r"\bafter (wearing|running|a run)\b",
            r"\bon (one|a) (trail )?(run|hike)\b",
            r"\b(ran|hiked|walked|raced) (one|a|an|two|three|\d+) (\w+ )?"
            r"(trails?|runs?|hikes?|races?|miles?|km|times?|\d+k|marathon|half|ultra)\b",
            r"\bdid (a|an|one|two|three|\d+) (\w+ )?"
            r"(\d+k|runs?|hikes?|races?|miles?|marathon|ultra)\b",
            # "ran a muddy 10k in my new trail shoes".
            r"\b(ran|hiked|walked|raced)\b.{0,30}\bin (my|them|those|these|the|em)\b",
            # "took my new shoes on 2 trail runs".
            r"\btook (it|them|em|(my|the|those|these)( \w+){1,2}) (out|on)\b",
        ),
    ),
    (
        "warranty",
        any_of(
            r"warrant",
            r"guarantee",
            r"defect",
            r"fell apart",
            r"\bbroke\b",
            r"\bbroken\b",
            r"peeling",
            r"\bripped\b",
            r"seam came",
            r"\b(just |already )?(quit|died|stopped working|won'?t (turn|switch) on)\b",
            r"\b(stopped|stops|quit) (charging|holding a charge|turning on|switching on)\b",
            r"\b(doesn'?t|does not|don'?t|won'?t) (work|charge|hold a charge) any ?more\b",
            # Damage said in the shopper's words: "the strap snapped after 4 months".
            r"\b(snapped|cracked|busted|frayed|unravell?ed|delaminat\w*|tore|gave out)\b",
            # "the zipper on my fleece split"; "split it up somehow" is paying.
            r"\b(zipper|seam|sole|strap|fabric|stitching|shell|lining|upper|toe|heel|hood|pocket|"
            r"cuff|bottle|lid|handle|pole|buckle)s?\b[^.?!]{0,25}\bsplit\b"
            r"(?! (it|them|the|this|that|up|payments?|my|in)\b)",
            r"\bsplit (open|apart|down the)\b",
            r"\btorn\b(?! between)",
            # A leak that started: "now they leak", "it's leaking" (not "does it leak?").
            r"\bnow (they |it |both |the \w+ )?leak(s|ing)?\b",
            r"\b(started|starting|began|begun) (to )?leak",
            r"\b(is|are|'s|'re) leaking\b",
            # "coming off a high drop trainer" is what they run in now, not damage.
            r"\b(came|coming|come) (apart|unglued|unstitched|undone|off(?! (a|an|the|my|of)\b))\b",
            r"\b(fell|falling) off\b",
            r"\b(wore|worn) (a hole|through)\b",
            r"\b(got|has|have|developed) (a |an )?holes?\b",
            # "is that covered?": whether the warranty takes it.
            r"\b(is|are|would|will|does|do) (that|this|it|they|those|these|the \w+) "
            r"(be |get )?covered\b(?! (in|with|from|up)\b)",
        ),
    ),
    (
        "express",
        any_of(
            r"express",
            # "an overnight ultra" is a race, not a delivery speed.
            # "an overnight ultra", "my first overnight 100 miler" is a race, not a speed.
            r"overnight(?= (shipping|delivery|express|option)|\W*$)",
            r"\b(ship|send|deliver|get)\w* (it |them |this |that |my order )?overnight",
            r"next[- ]day",
            r"expedit",
            r"\brush\b",
            r"faster (shipping|delivery)",
            r"\b(a |any )?(faster|quicker|speedier) (option|way|method|service)s?\b",
            r"by (friday|saturday|tomorrow|the weekend)",
            r"\b2[- ]day\b",
            r"\b(need|get|want|have) (it|them|this|that|my order|the order) "
            r"(faster|sooner|quicker)\b",
        ),
    ),
    (
        "international",
        any_of(
            r"\bcanada\b",
            r"international",
            r"outside (the )?(us|usa|u\.s\.)",
            r"\babroad\b",
            r"\bto the uk\b",
            r"\bto (mexico|europe|australia)\b",
            r"overseas",
        ),
    ),
    (
        "exchanges",
        any_of(
            r"exchange",
            r"\bswap\b",
            r"switch (it|them|\w+) for",
            r"different size",
            r"\b(switch|change|swap|trade)\b.{0,15}\b(to|for) (an? )?"
            r"(smaller|bigger|larger|half)\b",
            r"trade (it|them) in",
        ),
    ),
    (
        "returns",
        any_of(
            r"\breturns?\b",
            r"returning",
            # "i had to send them back" tells what happened, it asks nothing.
            r"(?<!had to )(?<!already )\b(send|ship|mail|take) (it |them |(the |my |this |that |"
            r"these |those )?\w+ (\w+ )?)?back\b",
            r"\brefund",
            r"money back",
        ),
    ),
    (
        "shipping_cost",
        any_of(
            r"free ship",
            r"shipp?ing (cost|fee|price|charge)",
            r"(cost|charge|much).{0,25}\b(ship|shipp?ing|delivery)\b",
            r"\bshipp?ing\b.{0,25}\b(cost|much)\b",
            r"\bship(ping)? (is )?free",
            r"\bpay (for )?shipp?ing\b",
            r"shipp?ing (is )?(extra|included)",
            # "whats shipping on that", "shipping for one cap?"
            r"\bwhat'?s?( is)?( the)? shipp?ing\b(?! (time|speed|take|like))",
            r"\bshipp?ing (on|for) (it|that|this|them|those|these|an?|the|my|one|just)\b",
        ),
    ),
    (
        "shipping_time",
        any_of(
            r"how (long|fast|soon|quickly).{0,30}"
            r"\b(ship|shipp?ing|deliver|delivery|arrive|gets? here)",
            r"when (will|would|does|do|should).{0,30}\b(arrive|ship|deliver|get here)",
            r"shipp?ing (time|speed)",
            r"delivery time",
            r"business days",
            r"how long .{0,25}\bta?ke?\b",
            r"how many (business |working )?days\b.{0,30}"
            r"\b(ship|shipp?ing|deliver|delivery|arrive)",
            r"same[- ]day",
            r"\bcut ?-?off\b",
            r"\b(leave|ship|go) out (today|tomorrow)\b",
            r"\bships? (today|tomorrow|same[- ]day|right away)\b",
        ),
    ),
    (
        "billing",
        any_of(
            r"charged twice",
            r"double[- ]charged",
            r"two charges",
            r"overcharged",
            r"charged (me )?(2|two) times",
            r"\bbilled twice\b",
            r"\b(2|two|double|duplicate|multiple|extra|second) (pending )?"
            r"(charges|payments|transactions)\b",
            r"\b(double|duplicate) (charge|payment)\b",
            r"\bcharged (me )?(double|2x|again)\b",
            r"\bpending charges?\b",
        ),
    ),
    (
        "discounts",
        any_of(r"coupon", r"promo", r"discount code", r"\bany codes?\b", r"\bcodes?\?"),
    ),
    (
        "payment",
        any_of(
            r"afterpay",
            r"klarna",
            r"paypal",
            r"pay (in|over|later|with)",
            r"installments?",
            r"\bsplit (up )?(the |my |it |a )?(payments?|pay|cost|price|purchase|bill)\b",
            r"\bpayment plans?\b",
            r"apple pay",
            r"google pay",
            r"gift card",
            r"credit card",
            r"\bvenmo\b",
        ),
    ),
    (
        # A shop to visit: only the store's documents can say whether there is one.
        "locations",
        any_of(
            r"\b(physical|actual|real|retail|brick[- ]and[- ]mortar|walk[- ]in) "
            r"(store|shop|location)s?\b",
            r"\b(store|shop|showroom)s? (near|in|around) (me|you|\w+)\b",
            r"\b(try|trying) (it|them|stuff|things|some|\w+) on (in person|in store|at)\b",
            r"\bin[- ]person\b",
            r"\bshowroom\b",
            r"\b(pick ?up|pickup) in[- ]store\b",
            r"\bvisit (you|your (store|shop))\b",
        ),
    ),
    (
        "contact",
        any_of(
            r"phone number",
            r"call (you|the store|someone)",
            r"email (you|address)",
            r"customer service (number|hours|email)",
            r"store hours",
        ),
    ),
]


def policy_topics(text: str) -> list[str]:
    """The policy topics the text asks about, in the order of `POLICY_TOPICS`."""
    topics = [topic for topic, pattern in POLICY_TOPICS if pattern.search(text)]
    if "worn" in topics and "returns" not in topics:
        # "can I run in the parka?" is not about returning worn gear.
        topics.remove("worn")
    if {"express", "shipping_cost"} <= set(topics) and all(
        _EXPRESS.search(clause) for clause in _CLAUSES.split(text) if _COST.search(clause)
    ):
        # "how much is express": the cost of express, which its own rule says.
        topics.remove("shipping_cost")
    if "warranty" in topics and _REPLACING.search(text) and not _CLAIMING.search(text):
        # "my old pair just died on me": why they are buying, not a claim on what we sold.
        topics.remove("warranty")
    return topics


_REPLACING = any_of(
    r"\b(my|our|the|his|her) old (\w+ )?(pair|ones?|shoes|boots|\w+s)\b",
    # "my ridgelines finally died after 600 miles... need the cobalt ones again"
    r"\b(need|want|get|buy|order|grab)\b.{0,40}\bagain\b",
    r"\b(another|a new|new) pair\b",
    r"\bafter (like |about |over |around )?\d[\d,]* (miles|km|kilometers)\b",
)
_CLAIMING = any_of(
    r"warrant", r"guarantee", r"covered", r"defect", r"\b(bought|got|ordered) (it|them|from)"
)
_TOPIC = dict(POLICY_TOPICS)
_EXPRESS, _COST = _TOPIC["express"], _TOPIC["shipping_cost"]
_CLAUSES = re.compile(r"[.?!;\n]+|\band\b|\balso\b", re.IGNORECASE)
