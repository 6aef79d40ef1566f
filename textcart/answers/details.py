"""Answers from the product's own sentences: specs, materials, water, use and care."""

from __future__ import annotations

import re
from collections.abc import Sequence

from textcart.answers.common import (
    FOLLOW_UP,
    Builder,
    Evidence,
    claim,
    knowledge_for,
    model_of,
    pick,
    ranked,
    sentences_of,
    unknown,
)
from textcart.answers.specs_asked import MODE_WORDS
from textcart.vocabulary.answers import AskedQuestion

SPEC_WORDS: dict[str, re.Pattern[str]] = {
    "load": re.compile(r"\bcarr(y|ies)\b[^.]{0,20}\d+\s?(lbs?|kg|pounds)|\bload\b", re.I),
    "weight": re.compile(r"weigh|\d\s?(g|oz)\b", re.I),
    "drop": re.compile(r"\bdrop\b|stack|cushion", re.I),
    "capacity": re.compile(r"\d\s?(l|liters?|litres?|ml)\b|capacity|holds|sleeve|fits a", re.I),
    "brightness": re.compile(r"lumen|beam|\d+\s?m\b", re.I),
    "battery": re.compile(r"\d+\s?h\b|hours?\b|batter|recharg|usb|runtime|charge", re.I),
    # A base layer's warmth is its fabric weight: "lightweight 150 g/m²".
    "warmth": re.compile(
        r"warm|fill|insulat|°|degrees|fleece|thermal|rated|cold|\d+ ?g/m|\bgsm\b",
        re.I,
    ),
    "traction": re.compile(r"\blugs?\b|outsole|grip|vibram|traction|spikes", re.I),
    # "flick-lock adjustment from 105 to 135 cm": how long the poles get.
    "length": re.compile(
        r"inseam|\d\s?(in|inch|inches|\"|cm\b)|length|long cut|adjust\w* from", re.I
    ),
    "pockets": re.compile(r"pocket", re.I),
    "dimensions": re.compile(r"\d\s?(cm|in|mm)\b|dimension", re.I),
    "warranty": re.compile(r"guarantee|warrant", re.I),
}
MATERIAL_WORDS = re.compile(
    r"merino|nylon|polyester|cotton|wool|leather|recycled|fabric|mesh|down|synthetic|%|"
    r"gore|spandex|elastane|suede|rubber|eva|foam|carbon|aluminum|steel|silicone|knit|vegan|"
    r"animal|materials?",
    re.IGNORECASE,
)
WATER_WORDS = re.compile(
    r"waterproof|water[- ]resistant|water repellent|gore-?tex|\bdwr\b|membrane|taped seams|"
    r"rain|drain|\bwet\b|splash|\d{1,3},\d{3} ?mm|\bipx\d",
    re.IGNORECASE,
)
# "stays dry against your skin" says nothing about care: drying is.
_CARE_WORDS = re.compile(
    r"wash|tumble|dryer|air[- ]?dr|\bdry (it|them|flat|clean|low|off)\b|\bclean|\bcare\b|"
    r"odou?r|smell",
    re.IGNORECASE,
)


def spec(ev: Evidence, q: AskedQuestion, b: Builder, pattern: re.Pattern[str], what: str) -> None:
    """A spec from the product's sentences; "I don't have" when a number asked for is not there."""
    product = b.use(ev.product)  # type: ignore[arg-type]
    found = pick(sentences_of(product), pattern, most=6)
    asked = set(re.findall(r"[a-z]{3,}", ev.text.lower())) - _STOP - _VAGUE
    asked |= {alike for w in asked for alike in _ALIKE.get(w, ())}
    if what == "materials":
        # The sentence with the shopper's own word first: "im vegan" -> "vegan: no animal...".
        found.sort(key=lambda s: not _shares_word(asked, s))
    if what == "drop":
        found, what = drop_or_stack(ev.text, found)
    number = _NUMBER_IN.get(what, re.compile(r"\d"))
    asks_a_number = _asks_a_number(ev.text, what)
    if asks_a_number:
        # "rated to what temp?": the sentence with the number first, wherever it stands.
        found.sort(key=lambda s: not number.search(s))
    found = found[:2]
    if what == "battery" and (mode := _mode_missing(ev.text, found)):
        # "how many hrs on max?" is not answered by "up to 50 h on low".
        b.facts.extend(found)
        b.say(
            f"I don't have the run time on {mode} for the {model_of(product.title)} in our "
            f"product info, so I won't guess. It says: {found[0].rstrip('.')}.",
            "unknown",
        )
        return
    if found and asks_a_number and not any(number.search(f) for f in found):
        # "how many hours does it last?" is not answered by "rechargeable over USB-C".
        unknown(b, f"the {_NUMBER_OF.get(what, what)} of the {model_of(product.title)}")
        return
    if not found:
        unknown(b, f"the {_NUMBER_OF.get(what, what)} of the {model_of(product.title)}")
        return
    b.facts.extend(found)
    if what == "materials" and _ASKS_VEGAN.search(ev.text):
        # "vegan? trying to avoid leather": yes or no when the materials say so.
        free = [f for f in found if _ANIMAL_FREE.search(f)]
        animal = [f for f in found if _ANIMAL.search(f) and not _ANIMAL_FREE.search(f)]
        # Said as a fact, not a yes: "made w leather?" and "vegan?" have opposite answers.
        if free:
            b.say(f"It's vegan. {claim(product, free)}", "yes")
            return
        if animal:
            b.say(f"It's not vegan. {claim(product, animal)}", "no")
            return
    fibres = sorted({f.lower() for f in _FIBRES.findall(ev.text)})
    if what == "materials" and fibres and not any(_FIBRES_OR_ALL.search(f) for f in found):
        # "pure merino or is there nylon/spandex in it?": what it is made of, and that the
        # info says nothing of the fibres asked about.
        said = " or ".join(fibres)
        b.say(
            f"{claim(product, found[:1])} It doesn't say whether there's any {said} in it, so I "
            f"won't guess. {FOLLOW_UP}",
            "unknown",
        )
        return
    b.say(claim(product, found), "info")


# Fibres a shopper may want to avoid or want mixed in, and a product text that settles it.
_FIBRES = re.compile(r"\b(nylon|spandex|elastane|lycra|polyester|cotton|acrylic|rayon)\b", re.I)
_FIBRES_OR_ALL = re.compile(rf"{_FIBRES.pattern}|100 ?%|\bpure\b|\bblend", re.I)
_MODES = {
    "high": ("max", "maximum", "full", "high", "highest", "brightest", "turbo"),
    "low": ("low", "lowest", "eco"),
    "medium": ("medium", "mid"),
}
_MODE_ASKED = re.compile(rf"\b(?:on|at|in) ({MODE_WORDS})\b", re.IGNORECASE)


def _mode_missing(text: str, found: Sequence[str]) -> str | None:
    """The light mode a run time was asked for when the sentences give only another's."""
    asked = _MODE_ASKED.search(text)
    if asked is None:
        return None
    said = asked.group(1).lower()
    group = next(words for words in _MODES.values() if said in words)
    spoken = " ".join(found).lower()
    if any(re.search(rf"\b{w}\b", spoken) for w in group):
        return None
    others = [w for g in _MODES.values() if g is not group for w in g]
    return said if any(re.search(rf"\b{w}\b", spoken) for w in others) else None


_ASKS_VEGAN = re.compile(
    r"\bvegan\b|animal[- ]free|avoid(ing)? (leather|wool|animal)|made (w|with|of|from) leather",
    re.I,
)
# An animal material, not one said to be absent or imitated ("no wool", "faux suede").
_ANIMAL = re.compile(
    r"(?<!without )(?<!no )(?<!synthetic )(?<!faux )"
    r"\b(leather|suede|nubuck|wool|merino|down|silk|goose|duck)\b",
    re.I,
)
# Said outright: a faux suede overlay alone says nothing of the rest.
_ANIMAL_FREE = re.compile(r"\b(vegan|no animal|animal[- ]free)\b", re.I)
_ASKS_A_NUMBER = re.compile(
    r"how (many|much|long|heavy|bright|far|cold)|\b(hrs|hours|minutes|lumens|grams|"
    r"oz|ounces|liters?|litres?|degrees|mm)\b|\brating\b|\btemps?\b",
    re.IGNORECASE,
)
# What asks for a number of each kind: "how bright ... & does it charge usb c" asks for
# lumens, not for the battery's hours.
_ASKS_FOR = {
    "battery": re.compile(r"how long|\b(hours?|hrs|minutes|run ?time|last)\b", re.I),
    "brightness": re.compile(r"how (bright|far)|\blumens\b", re.I),
    "weight": re.compile(r"how (heavy|much)|\b(grams?|oz|ounces|lbs?)\b", re.I),
    "warmth": re.compile(r"how cold|\b(degrees|rating|temps?)\b", re.I),
    "load": re.compile(r"how (much|heavy)|\b(lbs?|pounds|kg)\b", re.I),
    # "r those merino? how much" asks the price after the material, not a percentage.
    "materials": re.compile(r"how much (of (it|them) )?(is )?[a-z]+ (is|in)\b|percent|%", re.I),
}


def drop_or_stack(text: str, found: list[str]) -> tuple[list[str], str]:
    """The sentences about the one of drop and stack height the text names, and its name.

    They are different numbers: a sentence about one is not the other.
    """
    asked = {w for w in ("stack", "drop") if re.search(rf"\b{w}\b", text, re.I)}
    if len(asked) != 1:
        return found, "drop"
    word = next(iter(asked))
    return (
        [f for f in found if re.search(rf"\b{word}\b", f, re.I)],
        "stack height" if word == "stack" else "drop",
    )


def _asks_a_number(text: str, what: str) -> bool:
    asks = _ASKS_FOR.get(what, _ASKS_A_NUMBER)
    return bool(asks.search(text))


_NUMBER_IN = {
    "battery": re.compile(r"\d\s?(h|hrs?|hours?)\b", re.IGNORECASE),
    "warmth": re.compile(r"-?\d+\s?°|\d+\s?degrees", re.IGNORECASE),
    "weight": re.compile(r"\d\s?(g|kg|oz|lbs?)\b", re.IGNORECASE),
    "brightness": re.compile(r"\d+\s?lumens?", re.IGNORECASE),
    "load": re.compile(r"\d+\s?(lbs?|kg|pounds)\b", re.IGNORECASE),
}
_NUMBER_OF = {
    "battery": "battery life",
    "warmth": "temperature rating",
    "weight": "weight",
    "load": "comfortable load",
}


_PART = re.compile(
    r"\b(?:comes? (?:w|w/|with)|includ(?:e|es|ed|ing)|(?:have|has|got) (?:an?|any)|got)\s+(.+)$",
    re.IGNORECASE,
)


# Where the part named ends: "bottles or do i gotta buy those separate".
_PART_END = re.compile(
    r"[?,.!;]|\b(?:or|and|do|does|should|gotta|because|cuz|so|if|too|also)\b", re.IGNORECASE
)
_PART_BEFORE = re.compile(r"\b(?:is|are) (?:the |a |an )?(.+?) includ", re.IGNORECASE)


def includes(ev: Evidence, b: Builder) -> None:
    """Whether it comes with a part or accessory: only a sentence naming it says yes."""
    product = b.use(ev.product)  # type: ignore[arg-type]
    said = _PART.search(ev.text) or _PART_BEFORE.search(ev.text)
    phrase = _PART_END.split(said.group(1).lower())[0] if said else ""
    part = [w for w in re.findall(r"[a-z]{3,}", phrase) if w not in _STOP][:3]
    named = [
        s
        for s in sentences_of(product)
        if part and all(_shares_word({w, *_ALIKE.get(w, ())}, s) for w in part)
    ]
    if not named:
        words = " ".join(part)
        what = (words if words.endswith("s") else f"a {words}") if part else "that"
        b.say(
            f"Our product info for the {model_of(product.title)} doesn't mention {what}, so I "
            f"won't guess. {FOLLOW_UP}",
            "unknown",
        )
        return
    b.facts.extend(named[:2])
    if _denies(named[0], part):
        # "no carbon plate, just foam" names the part to say it is not there.
        b.say(claim(product, named[:2]), "no")
        return
    b.say(f"Yes. {claim(product, named[:2])}", "yes")


def _denies(sentence: str, part: Sequence[str]) -> bool:
    """The sentence says the part is not there: "no carbon plate", "without a hood"."""
    return any(
        re.search(rf"\b(no|not|non|without|n't)[- ](\w+ ){{0,2}}{re.escape(w[:4])}", sentence, re.I)
        for w in part
    )


def waterproof(ev: Evidence, b: Builder) -> None:
    """Waterproof, water-resistant or neither, in the product's own words."""
    product = b.use(ev.product)  # type: ignore[arg-type]
    found = pick(sentences_of(product), WATER_WORDS)
    b.facts.extend(found)
    said = " ".join(found).lower()
    model = model_of(product.title)
    if (
        re.search(r"(?<!not )(?<!not fully )waterproof|gore-?tex", said)
        and "not waterproof" not in said
    ):
        b.say(f"Yes, it's waterproof. {claim(product, found)}", "yes")
    elif re.search(r"water[- ]resistant|water repellent|dwr|splash", said):
        b.say(f"No, it's water-resistant, not waterproof: {claim(product, found)}", "partly")
    elif found:
        b.say(f"The {model} isn't listed as waterproof. {claim(product, found)}", "no")
    else:
        b.say(f"The {model} isn't listed as waterproof or water-resistant.", "no")


def suitability(ev: Evidence, q: AskedQuestion, b: Builder) -> None:
    """Whether it suits what was asked, in the sentences that speak to it, else "I won't guess"."""
    topic = q["topic"] or ""
    said = temperature(ev.text)
    if topic in ("warmth", "") and said is not None:
        # "warm enough for -20F?", "ok at 20 below?": the rating against what they said.
        rated(ev, b, said)
        return
    if topic in SPEC_WORDS and _ASKS_A_NUMBER.search(ev.text):
        # "how cold can it handle?" asks for the rating: a number, or "I don't have it".
        spec(ev, q, b, SPEC_WORDS[topic], topic)
        return
    product = b.use(ev.product)  # type: ignore[arg-type]
    keyed, scored = relevant(ev, sentences_of(product), [product.title], most=2)
    best = [s for s, score in scored if score >= 0.25 or keyed][:2]
    # What the product says it is for ("save it for workouts and races") speaks to
    # whether it suits anything: it is said too, or instead when nothing else matched.
    meant = [s for s in sentences_of(product) if _MEANT_FOR.search(s) and s not in best]
    best = [*best[:1], *meant[:1], *best[1:]][:2] if keyed else (meant[:2] or best)
    if not best:
        unknown(b, "that detail")
        return
    b.facts.extend(best)
    negative = any(re.search(r"\bnot\b|n't|avoid|isn't|\btoo \w+ for\b", s, re.I) for s in best)
    b.say(claim(product, best), "no" if negative else "info")


# "-20F", "minus 10 c", "25 degrees", "-25 °F"; a bare number is not a temperature.
_TEMPERATURE = re.compile(
    r"(?<![\w.])(-|−|minus\s?|negative\s?)?(\d{1,3}(?:\.\d)?)\s?"
    r"(?:(°|degrees?|deg)\s?(f|c|fahrenheit|celsius)?|(f|c|fahrenheit|celsius))\b",
    re.IGNORECASE,
)
_BELOW = re.compile(r"\b(\d{1,3}) below(?: zero)?\b", re.IGNORECASE)
# "warm enough for like -30 when im shoveling": a number below zero needs no unit.
_MINUS = re.compile(r"(?:(?<=\s)|^)(?:-|−|minus\s)(\d{1,3})(?![\w.%])", re.IGNORECASE)


def temperature(text: str) -> float | None:
    """The first temperature in `text`, in °F (Celsius converted), else None."""
    below = _BELOW.search(text)
    found = _TEMPERATURE.search(text)
    if found is None:
        if below is None and (minus := _MINUS.search(text)):
            return -float(minus.group(1))
        return -float(below.group(1)) if below else None
    value = float(found.group(2)) * (-1 if found.group(1) else 1)
    unit = (found.group(4) or found.group(5) or "f").lower()
    return value * 9 / 5 + 32 if unit.startswith("c") else value


def rated(ev: Evidence, b: Builder, asked: float) -> None:
    """A temperature asked about, against the product's rating: yes, no, or "I don't have"."""
    product = b.use(ev.product)  # type: ignore[arg-type]
    ratings = [(s, t) for s in sentences_of(product) if (t := temperature(s)) is not None]
    if not ratings:
        unknown(b, f"a temperature rating for the {model_of(product.title)}")
        return
    sentence, limit = ratings[0]
    b.facts.append(sentence)
    if asked >= limit:
        b.say(f"Yes. {claim(product, [sentence])}", "yes")
    else:
        b.say(f"That's colder than it's rated for. {claim(product, [sentence])}", "no")


def detail(ev: Evidence, b: Builder) -> None:
    """Anything else asked about one product: the sentences that speak to it, else "doesn't say".

    A question no rule has a kind for ("is it dishwasher safe?", "where is it made?") is
    answered only by a sentence of the product's own text sharing a telling word with it;
    without one the reply says the product info doesn't say, rather than a highlight.
    """
    product = ev.product
    assert product is not None
    named = set(re.findall(r"[a-z]{3,}", product.title.lower()))
    # "does it pack down small": the down of packing, not of a down jacket.
    said = _PACKED_DOWN.sub(r"\1", ev.text.lower())
    asked = set(re.findall(r"[a-z]{3,}", said)) - _STOP - _VAGUE - named
    if not asked:
        return
    b.use(product)
    asked |= {alike for w in asked for alike in _ALIKE.get(w, ())}
    keyed = [s for s in sentences_of(product) if _shares_word(asked, s)]
    if (counted := _COUNTED.search(ev.text)) is not None:
        # "how many miles do they last": only a sentence that speaks of miles answers.
        unit = counted.group(1).lower()[:4]
        keyed = [s for s in keyed if unit in s.lower()]
    elif _LASTS.search(ev.text):
        # "how long does the foam last": a sentence about how long it lasts, nothing else.
        keyed = [s for s in keyed if _LASTS_SAID.search(s)]
    if keyed:
        best = [s for s, _ in ranked(ev, keyed, most=2)]
        b.facts.extend(best)
        part = _HAS_PART.search(ev.text)
        said = (part.group(1) or part.group(2)).lower() if part else ""
        words = set(re.findall(r"[a-z]{3,}", said)) - _STOP
        if (
            words
            and all(_shares_word({w}, best[0]) for w in words)
            and not _denies(best[0], sorted(words))
        ):
            # "does that yellow racer have a carbon plate": the part is in its text.
            b.say(f"Yes. {claim(product, best)}", "yes")
            return
        b.say(claim(product, best), "info")
        return
    b.say(
        f"Our product info for the {model_of(product.title)} doesn't say, so I won't guess. "
        f"{FOLLOW_UP}",
        "unknown",
    )


_PACKED_DOWN = re.compile(r"\b(packs?|folds?|collapses?|stuffs?) (down|up)\b")
_COUNTED = re.compile(r"\bhow many ([a-z]{3,})", re.IGNORECASE)
_LASTS = re.compile(r"\bhow long\b.{0,40}\blast\b|\blast (before|till|until)\b|lifespan", re.I)
_LASTS_SAID = re.compile(r"\blasts?\b|lifespan|durab|\d+\s*(miles|km|years|months)", re.I)
# "does it have a hood", "do those have a rock plate": the part asked about.
_HAS_PART = re.compile(
    r"\b(?:does|do|did)\b[^?.!]{0,40}?\bha(?:ve|s) (?:an?|any) ([a-z][\w-]*(?: [a-z][\w-]*)?)"
    # "can the talus boots get resoled?": what can be done to it.
    r"|\b(?:can|could)\b[^?.!]{0,40}?\b(?:be|get) ([a-z][\w-]*)",
    re.IGNORECASE,
)
# Words of a question that say nothing about what is asked ("where is it made? like what
# country" asks about the country).
_VAGUE = frozenset(
    "where when who why whats what's wheres where's hows how's made make makes like lol "
    "tho though actually kinda sorta pretty tell know wondering wonder curious quick question "
    "please pls thanks thank hey hello item product thing stuff guys gonna wanna".split()
)


_MEANT_FOR = re.compile(
    r"\b(save (it|them) for|built for|made for|designed for|meant for|best for|not for|"
    r"too \w+ for|(shoe|jacket|boot|pack|layer) for)\b",
    re.IGNORECASE,
)


def _shares_word(asked: set[str], sentence: str) -> bool:
    """A word of the question in the sentence, allowing endings ("muddy" and "mud").

    Only an ending makes two words one: "everyday" is not "every".
    """
    said = set(re.findall(r"[a-z]{3,}", sentence.lower()))
    return any(_same_word(a, w) for a in asked for w in said)


_ENDINGS = frozenset(
    "s es ed d ing er ers est y ie ies ier iest ly dy ny ning ping ted ting proof".split()
)


def _same_word(a: str, b: str) -> bool:
    short, long = sorted((a, b), key=len)
    if not long.startswith(short):
        return short.endswith("y") and long.startswith(short[:-1]) and len(short) > 3
    return long == short or long[len(short) :] in _ENDINGS


def relevant(
    ev: Evidence, sentences: Sequence[str], names: Sequence[str], most: int
) -> tuple[list[str], list[tuple[str, float]]]:
    """Sentences sharing a telling word with the question, ranked by meaning (else all)."""
    named = {w for title in names for w in re.findall(r"[a-z]{3,}", title.lower())}
    asked = {w for w in re.findall(r"[a-z]{3,}", ev.text.lower())} - _STOP
    # "trails" is the name's "trail": it says which product, not what is asked.
    asked = {w for w in asked if not any(w.startswith(n) for n in named)}
    asked |= {alike for w in asked for alike in _ALIKE.get(w, ())}
    keyed = [s for s in sentences if asked and _shares_word(asked, s)]
    return keyed, ranked(ev, keyed or sentences, most=most)


# Words a product's own sentences use for what shoppers say: running in a parka is
# "active use", a downpour is about water.
_ALIKE: dict[str, tuple[str, ...]] = {
    "running": ("active", "run"),
    "jogging": ("active", "running"),
    "workout": ("active",),
    "exercise": ("active",),
    "hiking": ("hike", "trail", "active"),
    "rain": ("water", "wet", "waterproof"),
    "rainy": ("water", "wet", "waterproof"),
    "downpour": ("water", "wet", "waterproof", "rain"),
    "wet": ("water", "waterproof", "rain"),
    "freezing": ("cold", "warm", "winter"),
    "cold": ("warm", "winter"),
    "snow": ("winter", "cold"),
    "night": ("lumens", "beam", "bright"),
    "dark": ("lumens", "beam", "bright"),
    "muddy": ("mud", "lugs", "grip"),
    "mud": ("lugs", "grip"),
    "uphill": ("active",),
    "skinning": ("active",),
    "touring": ("active",),
    "bottles": ("flasks",),
    # "will they go over my trail runners": what the product says it fits.
    "runners": ("running", "shoes"),
    "sneakers": ("running", "shoes"),
    "trainers": ("running", "shoes"),
    "bottle": ("flask",),
    "batteries": ("battery", "rechargeable"),
    "charge": ("rechargeable", "usb"),
    # "my feet are pretty wide. would the tempo racer work": how snug or roomy it fits.
    "wide": ("wide-fit", "snug", "narrow", "roomy"),
    "wider": ("wide", "wide-fit", "snug", "narrow", "roomy"),
    "roomier": ("wide", "wide-fit", "snug", "narrow", "roomy"),
    "roomy": ("wide", "wide-fit", "snug", "narrow"),
    "squish": ("packs", "pocket"),
    "stash": ("packs", "pocket"),
    "packable": ("packs", "pocket"),
    "pack": ("packs", "pocket", "stuffs"),
    "animal": ("vegan", "animal-derived"),
    "vegan": ("animal-derived",),
    "heavy": ("load", "support", "backpacking"),
}
_STOP = frozenset(
    "the and for are than then you your does this that with will would can could have has what how "
    "good okay work enough them they these those its it's about just really very any some "
    "shoe shoes boot boots jacket pair one ones get got need want like difference "
    "thinking pick choice mens womens men women worth paying more super whats which "
    "should order size".split()
)


def care(ev: Evidence, b: Builder) -> None:
    """Care from the product's own sentences and the care guide."""
    product = ev.product
    own = pick(sentences_of(product), _CARE_WORDS) if product else []
    if product is not None and own:
        b.use(product)
        b.facts.extend(own)
        b.say(claim(product, own))
    hint = f"{product.title} {product.category}" if product else ""
    # A guide for another kind of product ("Merino", for a bottle) does not answer.
    about = f"{model_of(product.title)} {product.category}".lower() if product else ""
    kind = set(re.findall(r"[a-z]{3,}", about)) - {"men", "women", "the", "and", "with"}
    guide = knowledge_for(
        ev,
        "care",
        f"{ev.text} {hint}",
        keep=(lambda c: _shares_word(kind, f"{c.heading} {c.text}")) if kind else None,
    )
    asked = set(re.findall(r"[a-z]{3,}", f"{ev.text} {hint}".lower())) - _STOP - _VAGUE
    if guide is not None and not _shares_word(asked, " ".join(guide[1])):
        # The care guide for merino says nothing about a bottle in the dishwasher.
        guide = None
    if guide is not None:
        b.chunk(*guide)
    elif not own:
        unknown(b, "care instructions for that")
