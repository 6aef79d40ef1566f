"""What the shopper is asking, read by rules: the kind of question and its details.

The intent decider says what the shopper wants in general; this says what a reply must
answer: availability in a size or colour, stock, price, fit, a spec, materials,
waterproofing, suitability for an activity, care, a comparison, or a store policy (and
whether it is about one of their orders). Rules, not a model, because the answer that
follows quotes facts: a misread question must be visible and testable.
"""

from __future__ import annotations

import re
from functools import lru_cache

from textcart.answers.policy_topics import any_of, policy_topics
from textcart.answers.specs_asked import LOAD, spec_asked, specs_asked
from textcart.rules.needs import read_needs
from textcart.vocabulary.answers import AskedQuestion, QuestionKind
from textcart.vocabulary.colours import COLOUR_WORDS, COLOURWAY_WORDS

_ORDER = any_of(
    r"\b(my|our|the)\s+(order|package|parcel|delivery|purchase)\b",
    r"\border\s*#?\s*[a-z]{0,3}-?\d{4,}",
)
_OWNED = any_of(
    r"\b(i|we)\s+(just\s+)?(bought|ordered|got|received|purchased)\b",
    r"\bmy\s+\w+\s+(came|arrived)\b",
)
# Where an order is: "wheres my stuff?", "has my backpack shipped yet?", "tracking #?"
_PARCEL = r"(order|package|parcel|delivery|shipment|stuff|things)"
_STATUS = any_of(
    r"\bwhere(?:'?s|s|\s+is|\s+are|\s+r)\s+(?:my|our)\b"
    r"(?!\s+(?:code|coupon|discount|promo|size|cart|account|password|points|nearest)\b)",
    rf"\bwhere(?:'?s|s|\s+is|\s+are)\s+the\s+{_PARCEL}\b",
    r"\b(?:has|have|did|is|are)\s+(?:my|our)\s+(?:\w+\s+){0,3}?(?:shipped|ship|left|been sent|"
    r"arrived|been delivered|on (?:its|the) way|out for delivery|gone out|go out)\b",
    r"\btrack(?:ing)?\s*(?:#|number|no\b|info|link|code)|\btrack (?:my|the) (?:order|package)",
    r"\border status\b|\bstatus (?:of|on) (?:my|the) order\b",
    r"\bwhen(?:'?s|\s+will|\s+does|\s+do|\s+should)\s+(?:my|our)\s+(?:\w+\s+){0,2}?"
    r"(?:arrive|arriving|get here|getting here|come|coming|be here|ship|shipping|be delivered|"
    r"show up)\b",
    # "when r the headlamp and shorts gonna get here?": things already bought, on their way.
    r"\bwhen\s+(?:r|are|is|will|would|should|do|does)\s+(?:the|my|our|those|these|they|it)\b"
    r"(?:\s+[\w&+]+){0,5}?\s+(?:gonna\s+|going to\s+|supposed to\s+|expected to\s+)?"
    r"(?:arrive|get here|be here|show up|be delivered|come(?!\s+(?:back|in)\b))\b",
    rf"\b(?:my|our)\s+{_PARCEL}\s+(?:still\s+)?(?:hasn'?t|has not|never|didn'?t|did not)\s+"
    r"(?:yet\s+)?(?:arrived|arrive|come|shipped|ship|shown up|show up|got here)\b",
    rf"\b(?:update|news|eta)\s+on\s+(?:my|our|the)\s+{_PARCEL}\b",
)
# "when will my boots get here if i order today?" asks about an order not placed yet.
_NOT_PLACED = any_of(
    r"\bif (?:i|we) (?:order|buy|get|place|check ?out)\b",
    # "if the 8 ends up too snug can i swap": what could happen, not their order.
    r"\bif (?:it|they|these|those|the [\w.]+) (?:ends? up|turns? out|doesn'?t fit|don'?t fit)\b",
)
_CHANGE = any_of(
    r"\b(swap|change(?! (?:my|your|of) (?:mind|heart))|switch|(?<!any )(?<!an )(?<!no )update|"
    r"edit)\b.{0,40}"
    r"\b(order|size|small|medium|large|address|it|them|shorts|item)\b",
    r"\bcancel\b",
    r"\badd\b.{0,30}\bto (my|the) order\b",
)
_COMPARE = any_of(
    # "does the longhaul have less drop than the ridgeline?"
    r"\b(more|less|lower|higher|bigger|smaller|lighter|heavier|warmer|cheaper|wider|narrower|"
    r"taller|softer|stiffer|brighter|longer|shorter|grippier|roomier|snugger|tighter|looser|"
    r"comfier|cushier)( \w+)? than "
    r"(the|a|my|that|those|these|this|mine)\b",
    r"\bvs\.?\b",
    r"\bversus\b",
    r"compare",
    r"difference",
    r"better than",
    r"which (one |is )?(is )?(better|warmer|lighter|cheaper|more|less)",
    r"\bor the\b.{0,40}\?",
    # "mudlark or the ridgeline for mud"; "or would it work for work" asks no comparison.
    r"\bor (the )?(?!(for|would|will|could|should|can|is|are|does|do|just|maybe)\b)\w+"
    r"( \w+){0,2} for\b",
    r"\bdiff\b",
    r"\bwhich (one )?(has|is|gets|runs) (the )?(more|less|most|least|\w{3,}er)\b",
    r"\bdifferent\b",
    # "is the ridgeline gtx worth it over the normal ridgeline": one chosen over the other.
    r"\b(worth|pick|choose|take|go with)\b.{0,30}\bover (the|a|an|my)\b",
    r"\bwhich( one| ones|'s| ones'?s| one'?s)?( is| are)? (more|less|\w{3,}er)\b",
)
_FIT = any_of(
    r"\bin an? (wide|narrow)\b",
    # "is the daymile any wider": the width of its fit, after another felt narrow.
    r"\b(any|a bit|a little|much) (wider|narrower|roomier)\b",
    r"\bruns? (small|big|large|true|narrow|wide|short|long)\b",
    r"true to size",
    r"\btts\b",
    r"size (up|down)",
    r"size or (bigger|smaller|larger|up|down|one up|one down)\b",
    r"(?<!my )(normal|usual|regular) size",  # "in my usual size?" asks for stock
    # "do i go my usual size ... if i want it a bit loose": the size to order for a fit.
    r"\b(go|get|order|take|stick with|stay with) (with )?my (normal|usual|regular) size",
    r"\b(a bit|a little|kinda|more) (loose|looser|relaxed|baggier)\b",
    r"(bigger|larger|smaller) size",
    r"size (bigger|larger|smaller)",
    # "need them to fit in my carry on" is about packing, not sizing.
    r"\bfits?\b(?! (in|into|inside|under|through) (my|a|the|your|an|our)\b)"
    r"(?! (everything|it all|all|stuff|things) (in|into)\b)",
    r"fitting",
    r"sizing",
    r"(what|which) size",
    r"between sizes",
    r"\bin between\b",
    r"\bbetween (a |an )?(\d|xs|s|m|l|xl|small|medium|large)",
    # "im like a 9 or 9.5 depending on the brand... which do i get"
    r"\b\d{1,2}(\.5)? or (an? )?\d{1,2}(\.5)?\b.{0,60}\b(which|what)\b",
    r"(?<!my )\bsize\?",
    r"\bwhat (size |sz )?(do|should) i (order|get|buy|go with)\b",
    r"\b(xs/s|s/m|m/l|l/xl|xs|s|m|l|xl)\s+or\s+(xs/s|s/m|m/l|l/xl|xs|s|m|l|xl)\b",
    r"\btorso\b",
    r"\bwhat size\b",
    # "i usually take a 9"; "how many days does shipping usually take" is no size.
    r"\b(normally|usually) (a|an|wear|take (a|an|size|sz|\d|xs|s|m|l|xl|small|medium|large))\b",
    r"\b(wear|layer) (it|them) over\b",
    r"\bnarrow\b",
    r"wide (feet|foot|fit)",
    r"\b(feet|foot) (are|r|is|run|runs) (wide|narrow)\b",
    r"\bwide (af|toes?|forefoot)\b",
    r"\bin wide\b",
    r"\bsnug\b",
    r"\broomy\b",
    # "budget is tight this month" is about money, not the fit.
    r"(?<!budget is )(?<!budget's )(?<!money is )(?<!money's )(?<!cash is )(?<!time is )"
    r"(?<!budget is kinda )(?<!budget is really )(?<!money is kinda )\btight\b",
    r"\bbaggy\b",
    r"\bi'?m (usually )?(a|an) (xs|s|m|l|xl|xxl|small|medium|large|\d)",
)
# "is the brown cheaper", "is the sky blue one any cheaper": one colourway's price against
# another's.
COLOUR_PRICE = re.compile(
    r"\b(?:is|are|r|would) (?:the )?(?:[a-z]+ )?(" + "|".join(COLOUR_WORDS) + r")\b"
    r"(?: (?:one|ones|pair))? (?:any )?"
    r"(?:cheaper|pricier|more expensive|less expensive|more|less|the same price)\b",
    re.IGNORECASE,
)
# "is black on sale too or nah": that colourway's sale, whatever other colours were said.
COLOUR_ON_SALE = re.compile(
    r"\b(?:is|are|r) (?:the )?(" + "|".join(COLOUR_WORDS) + r")(?: one| ones| pair| colou?r)?"
    r" (?:also |too |still |even )?(?:on sale|discounted|marked down|reduced)\b",
    re.IGNORECASE,
)
_COLOURS = any_of(
    r"\b(what|which|other|more|any other|different) colou?r(s|ways?)?\b",
    r"\bcolou?r(s| options| choices|ways)\b",
    r"\bcome in (any |other |more |different )?colou?rs?\b",
)
_CHEAPEST = any_of(r"\bcheap(est|er)\b", r"\blowest price\b", r"\bleast expensive\b")
# "whats the cheapest colour of the mens ridgeline"
_CHEAPEST_COLOUR = any_of(r"\b(cheapest|least expensive|lowest priced) (colou?r|colou?rway)s?\b")
# "come in anything besides black", "any other than grey": the colour said is the one
# they don't want, so the colours are asked for.
_BESIDES = any_of(
    r"\b(anything|any|something|one|ones) (else |other )?(besides|but|except|other than|than)\b"
)
# "black one in the bigger size?": the end of the size run, in a colour.
SIZE_END = re.compile(
    r"\bthe (bigger|larger|biggest|largest|smaller|smallest) (size|one|sz)\b", re.IGNORECASE
)
# "what sizes u got left in the cobalt ridgeline", "which sizes does it come in rn": stock.
SIZES_LEFT = any_of(
    r"\b(what|which) sizes\b.{0,40}\b(left|in stock|available|avail|have|got|come in|carry)\b",
    r"\bsold out in (every|all|any|each) sizes?\b",
    r"\bin (every|all|any) sizes?\b.{0,20}\b(sold out|gone|left|in stock)\b",
)
# "how many of the red packs do u have left": a count, which the catalog does not hold.
HOW_MANY_LEFT = any_of(
    r"\bhow many\b[^?.!]{0,60}\b(left|in stock|remaining|(do|does) (u|you|ya|y'?all|they) "
    r"(have|got|stock)|have (u|you) got|are there)\b"
)
_STOCK = any_of(
    r"in stock",
    r"sold out",
    r"\bsell out\b",
    r"back in stock",
    r"restock",
    r"any left",
    r"still (available|have)",
    r"available",
    r"\bavail\b",
    r"\bin my (size|sz)\b",
    r"\bstill got\b",
    r"\bgot any\b",
    r"out of stock",
    r"have any",
)
_PRICE = any_of(
    r"how much(?! (weight|does it weigh|can it (carry|hold)|will it hold|(\w+ )?(is|are) "
    r"(actually |really )?in\b))",
    r"\bprice\b",
    r"\bcost\b",
    r"on sale",
    r"marked down",
    # "r they under 150?": the price against what they want to spend.
    r"\b(under|below|less than|cheaper than)\s*\$?\s?\d+(\.\d\d)?\s*(\?|bucks|dollars|usd|$)",
    r"\bmarkdown\b",
    r"\breduced\b",
    r"\bsale\b",
    r"full price",
    r"regular price",
    r"\bdiscount(ed)?\b",
    # "wait the mint pacer tee is $22.95?? typo or real": a price said back.
    r"\$\s?\d",
)
_WATERPROOF = any_of(
    # "waterprof", "watrproof", "waterpoof": typed fast.
    r"\bwat?e?r ?p?r?o+f",
    r"water[- ]resistant",
    r"puddles?",
    r"\bdwr\b",
    r"keep (me|my feet|it|them|my \w+) dry",
    r"(wet|rain) ?proof",
    r"get (wet|soaked)",
    r"stay dry",
    r"dry feet",
    r"(creek|stream|river|water) crossings?",
    r"\b(in|for) (the |heavy |a )?(rain|downpour|drizzle)\b",
)
_MATERIAL = any_of(
    r"made (of|from|out of)",
    r"material",
    r"fabric",
    r"\bmerino\b",
    r"\bcotton\b",
    r"\bwool\b",
    r"nylon",
    r"polyester",
    r"leather",
    r"synthetic",
    r"\bvegan\b",
    r"recycled",
    r"what.{0,15}\bfill\b",
    # "is the basecamp parka actual down??"
    r"\b(real|actual|genuine|proper) (down|leather|wool|merino|goose down)\b",
    r"what'?s (it|inside)",
)
_CARE = any_of(
    r"\bwash",
    r"dishwasher",
    r"dryer",
    r"tumble",
    r"\bclean",
    r"\bmachine\b",
    r"care for",
    r"\biron\b",
    r"bleach",
)
_SUITABLE = any_of(
    r"good (for|on|in)\b",
    # "would the longhaul max be a good shoe for it"
    r"\ban? (good|ok|okay|decent|solid|smart|right) (\w+ )?(for|on|in)\b",
    r"ok(ay)? (for|on|in)\b",
    r"work (for|on|in)\b",
    r"suitable",
    r"enough for",
    r"\bhandle",
    r"(can|could|would|should) i (just |still |also |even )?(go )?"
    r"(use|wear|run|hike|take|ski|climb|bike|walk)",
    r"\b(running|hiking|skiing|biking|climbing|walking) in (it|them|the|these|this|those)\b",
    r"\b(would|will|could) (the \w+( \w+){0,2}|it|they|that|this|these|those) be "
    r"(ok|okay|fine|good|alright|enough)\b",
    r"\bbe (ok|okay|fine|alright) (for|on|in|with)\b",
    r"break(ing)? (it |them )?in\b",
    r"\bbreak-in\b",
    r"\bout of the box\b",
    r"\bfor (mud|snow|winter|hiking|ultras?|running|commut\w*|travel|rain|trails?|roads?|"
    r"backpacking|skiing|camping|flat feet|wide feet|plantar|beginners?|marathons?)\b",
    r"\bon (mud|snow|ice|rock|roads?|trails?|pavement)\b",
    r"\bin (the )?(rain|snow|mud)\b",
    r"\b(good|right|ok|okay|best|smart) (pick|choice|option|idea|call)\b",
    r"\b(muddy|snowy|rocky|icy|slippery|technical|wet)\b",
    r"\b(ultra|marathon|half marathon|\d+ ?k|\d+ ?miler?s?)\b",
    r"\b(would|will|could|does|do|can) (it|they|that|this|these|those) work\b",
    r"\b(would|will|could|does|do|can) (the )?\w+( \w+)? work\b",
    r"\bwide (feet|foot|toes?)\b",
    # "do the cleats go over hiking boots": whether it works with what they have.
    r"\b(go|goes|slip|slips|pull|pulls) (over|onto|on over)\b",
    # "ok at 20 below?", "good to minus 40 c", "warm enough at -35 f"
    r"\b(ok|okay|good|fine|enough|handle|survive)\b.{0,25}(-|minus |negative )?\d{1,3}\s?"
    r"(°|degrees?|deg\b|f\b|c\b|below)",
    r"\b(feet|foot) (is |are )?(wide|flat)\b",
    r"\bfor (ski|skiing|ski touring|touring|treks?|trekking|hikes|thru-?hikes?)\b",
)
_ASKING = any_of(
    r"\b(do|does) (u|you|ya) (have|carry|sell|make|stock)\b",
    r"\bgot (any|it|them|the)\b",
    r"\bany left\b",
    r"\bin stock\b",
    r"\bavailable\b",
    r"\bhow (much|many|long|big|heavy)\b",
    r"\bwhich (one|is|are)\b",
    r"\bvs\.?\b",
    r"\bversus\b",
    r"\bdifference\b",
    r"(^|[^\w\s']\s*)(how|what|whats|what's|which|when|where|why|is (it|the|there|this)|"
    r"are (they|the|there)|do (they|the|you|u)|does (it|the|this)|"
    r"can i|can u|should i|will it|would it)\b",
    r"\bor just\b",
    # "canyon low waterproof y/n"
    r"\by/n\b|\by or n\b|\byes or no\b",
    # Mid-sentence, after chat: "lol how do i wash it", "be honest is that jacket on sale".
    r"\bhow (do|does|did|should|can|could|would) (i|you|u|we|it|they|one)\b",
    r"\b(is|are) (that|those|these|they|it|the \w+)( \w+){0,3} (still |currently )?"
    r"(on sale|in stock|available|discounted|marked down)\b",
    r"\bor (the )?(?!for\b)\w+( \w+){0,2} for\b",
    r"\bwhat colou?rs?\b",
    # A request is an ask: "price on the mens ridgeline moss green pls".
    r"^\W*(price|prices|pricing|cost|stock|sizes?|specs?|weight|colou?rs?)\s+(on|of|for)\b",
    r"\b(u|you|ya|yall|y'all)( guys| all)? (have|got|carry|sell|stock)\b",
    r"\bdiff\b",
    r"\bor (bigger|smaller|larger|size up|size down|go up|go down)\b",
    r"\b(can|could|should|may) (i|we|u|you)\b",
    r"\bor (nah|no|not)\W*$",
    r"\bwould (the )?\w+( \w+)? work\b",
    r"(?<!that's )(?<!thats )(?<!was )\b(good|ok|okay|fine|alright) (for|on|in) "
    r"(that|this|those|these|them|it)\W*$",
)
_QUESTION_START = any_of(
    # At the start of any sentence or clause ("i have wide feet, will the daymile work"),
    # after a joining word too: "n how bright is it", "ok so what about the 10".
    r"(?:^|[.!;:,\n\u2600-\u27bf\U0001F300-\U0001FAFF])\s*"
    r"(?:(?:and|n|&|also|plus|oh|ok|okay|so|but|hmm+|um+|alright|ugh|fine|well|lol|lmao|"
    r"haha+)\b,?\s*)*"
    r"(do|does|did|is|are|was|were|can|could|will|would|how|what|which|when|where|who|why|"
    r"whats|what's|wats|hows|how's|whens|wheres|"
    r"any|got|u have|you have|have you|is there|are there|should|r|ru)\b"
)
_COLOUR_IN = re.compile(r"\b(" + "|".join(COLOUR_WORDS) + r")\b", re.IGNORECASE)
_SIZE_WORD = any_of(
    r"\b(size|sz|in an?|an?|in)\s*(\d{1,2}(\.5)?|xxs|xs|s|m|l|xl|xxl|small|medium|large)\b"
)
_COLOUR_AFTER_IN = re.compile(r"\bin (" + "|".join(COLOUR_WORDS) + r")\b", re.IGNORECASE)
# "they got my size?": whether the size they wear is in stock.
_MY_SIZE = any_of(r"\b(got|have|has|carry|stock)\s+(it |them |one |any )?(in )?my (size|sz)\b")
_HOLDS = any_of(r"\b(bladder|reservoir|laptop)s?\b")
_STILL = any_of(r"\bstill\b", r"\bcancel\b", r"\bmy\b")
_SWAP = any_of(r"swap|switch|size|small|medium|large")


# A text that only goes on from the one before: "and in a 9?", "what about the womens?"
_FOLLOW_ON = re.compile(
    r"^\W*((hmm+|ok(ay)?|oh|so|um+|uh+|ugh|fine|alright|kk?)\W+)*"
    # "sz 13?", "13?": a size alone goes on from the text before.
    r"(and|n\b|what ab(ou)?t|how ab(ou)?t|wbu|in an?\b|an?\s+\d|(size|sz)\s*\d|\d{1,2}(\.5)?\W*$)",
    re.I,
)


# "the mint ones i mean", "in olive": a colour alone, said of what the text before asked.
_COLOUR_ONLY = re.compile(
    r"^\W*((oh|sorry|no|nah|i mean|wait)\W+)*(the |in |a |an )?(\w+ )?("
    + "|".join(COLOUR_WORDS)
    + r")( one| ones| pair| colou?r| colou?rway| version)?( i mean| i meant| pls| please)?"
    r"(\W+(mens|men's|womens|women's|ladies))?\W*$",
    re.IGNORECASE,
)


def goes_on(text: str) -> bool:
    """True when the text goes on from the one before ("and the womens version?")."""
    return bool(_FOLLOW_ON.search(text) or _COLOUR_ONLY.search(text))


def asks_something(text: str) -> bool:
    """True when the text reads as a question (a question mark or a question word)."""
    return "?" in text or bool(_QUESTION_START.search(text) or _ASKING.search(text))


def colour_said(text: str) -> str | None:
    """The colour a text names ("the lake blue ones", "in sand"), if any."""
    match = _COLOUR_IN.search(text) or _COLOURWAY_SAID.search(text)
    return next(g for g in match.groups() if g).lower() if match else None


_WAY = "|".join(COLOURWAY_WORDS)
_COLOURWAY_SAID = re.compile(
    rf"\b(?:the|in|a)\s+({_WAY})\s+(?:one|ones|pair|colou?r|colou?rway|version)s?\b"
    rf"|\bin\s+({_WAY})\b(?!\s+(?:the|a|an|my|and|or)\b)"
    rf"|\b(?:what|how)\s+ab(?:ou)?t\s+(?:the\s+)?({_WAY})\b",
    re.IGNORECASE,
)


def read_question(text: str | None, *, has_order: bool = False) -> AskedQuestion | None:
    """What the text asks, or None when it asks nothing a reply must answer.

    `has_order` says whether the shopper has an order on file: a return or swap question
    from someone with an order is about that order (the answer says where it stands).
    A turn reads its text several times (retrieval, the answer): the reading is cached,
    and each caller gets its own copy.
    """
    if not text or not text.strip():
        return None
    found = _read_question(text, has_order)
    return None if found is None else AskedQuestion(**{**found, "topics": list(found["topics"])})


_SZ = re.compile(r"\bsz\b", re.IGNORECASE)


@lru_cache(maxsize=2048)
def _read_question(text: str, has_order: bool) -> AskedQuestion | None:
    text = _SZ.sub("size", text)  # "what sz do i order"
    explicit = asks_something(text)
    size = read_needs(text, {})["size"]
    colour = colour_said(text)

    def asked(
        kind: QuestionKind, topic: str | None = None, about_order: bool = False
    ) -> AskedQuestion:
        return AskedQuestion(
            kind=kind,
            topic=topic,
            topics=topics
            if kind in ("policy", "order_return", "order_change", "order_status")
            else specs_asked(text)
            if kind in ("spec", "comparison")
            else [],
            size=size,
            colour=colour,
            about_order=about_order,
            explicit=explicit,
        )

    topics = policy_topics(text)
    topic = topics[0] if topics else None
    mentions_order = bool(_ORDER.search(text) or _OWNED.search(text))
    changes = bool(_CHANGE.search(text))
    if changes and (mentions_order or (has_order and _STILL.search(text))):
        return asked("order_change", "exchanges" if _SWAP.search(text) else "cancel", True)
    returning = [t for t in topics if t in ("returns", "exchanges", "packaging")]
    if returning and (mentions_order or has_order) and not _NOT_PLACED.search(text):
        # "if i buy something on sale can i still return it" asks the rule, not about
        # the order they have.
        return asked("order_return", returning[0], about_order=True)
    if has_order and _STATUS.search(text) and not _NOT_PLACED.search(text):
        # "hey wheres my order at? the shorts + headlamp": where it is, whatever it holds.
        return asked("order_status", about_order=True)
    if topic is not None:
        # A defect said as a statement ("the sole is peeling after a month") is answered
        # with the warranty too: it is what the shopper can do next.
        return asked("policy", topic)
    if not (explicit or size or _SIZE_WORD.search(text) or _COLOUR_AFTER_IN.search(text)):
        # A statement ("the sole is peeling off after a month") asks nothing to answer.
        return None
    if on_sale := COLOUR_ON_SALE.search(text):
        colour = on_sale.group(1).lower()
        return asked("price")
    if colour and SIZE_END.search(text):
        return asked("availability")
    if HOW_MANY_LEFT.search(text) or SIZES_LEFT.search(text):
        return asked("availability" if (size or colour) else "stock")
    if _COMPARE.search(text):
        return asked("comparison", spec_asked(text))
    if COLOUR_PRICE.search(text):
        return asked("price")
    if (_COLOURS.search(text) and _CHEAPEST.search(text)) or _CHEAPEST_COLOUR.search(text):
        # "which colour is cheapest": the price, with the cheaper colourway.
        return asked("price")
    if (_COLOURS.search(text) and not colour) or _BESIDES.search(text):
        return asked("colours")
    if _HOLDS.search(text):
        # "what size water bladder fits in the 22 pack": what it holds, not its fit.
        return asked("spec", "capacity")
    if _FIT.search(text):
        return asked("fit")
    if _STOCK.search(text) or (size or _COLOUR_AFTER_IN.search(text)) and not _PRICE.search(text):
        return asked("availability" if (size or colour) else "stock")
    if _CARE.search(text):
        return asked("care")
    if _MATERIAL.search(text):
        return asked("material")
    if _WATERPROOF.search(text):
        return asked("waterproof")
    if _PRICE.search(text) and not re.search(r"\bweigh", text, re.IGNORECASE):
        return asked("price")
    spec = spec_asked(text)
    if spec != "load" and re.search(r"\bweigh", LOAD.sub(" ", text), re.IGNORECASE):
        return asked("spec", "weight")
    if spec is not None and not (spec == "warmth" and _SUITABLE.search(text)):
        return asked("spec", spec)
    if _SUITABLE.search(text):
        return asked("suitability", spec)
    if (has := _HAS_FEATURE.search(text)) and not (read_needs(has.group(1), {})["size"]):
        # "does that yellow racer have a carbon plate": the colour names the product; the
        # question is about a part of it.
        return asked("detail")
    if _STOCK.search(text) or size or colour or _MY_SIZE.search(text):
        return asked("availability" if (size or colour) else "stock")
    if _ITS_OWN_TEXT.search(text):
        # "how many miles will the daymile last", "how short do the poles fold down": only
        # the product's own text can say.
        return asked("detail")
    return None


_ITS_OWN_TEXT = any_of(
    r"\bhow (short|small|compact|flat) (do|does|is|are|will|can)\b",
    r"\b(fold|folds|pack|packs|collapse|collapses) (down|up|small|flat)\b",
    r"\bpacked (size|length|dimensions)\b",
    r"\bhow many (miles|km|kilometers|years|months|seasons|washes)\b",
    r"\bhow long\b.{0,40}\blast\b",
)


# What the product has, not whether the store has it: "does it have a hood", "do those
# have a rock plate"; "do u have a waterproof one" asks the store.
_HAS_FEATURE = re.compile(
    r"\b(?:does|do|did)\s+(?:it|they|that|this|these|those|the)\b[^?.!]{0,40}?\s"
    r"ha(?:ve|s)\s+(?:an?|any)\s+((?!pair\b|size\b|sz\b)[a-z][\w-]*(?:\s+[a-z][\w-]*)?)",
    re.IGNORECASE,
)
