"""Which recommended product a shopper means by "the first one" or "the cheaper one".

The store remembers the products it last put in front of the shopper, in the order the
reply listed them (`TurnState.recommended`). A text that points into that list by position
("the second one", "#2", "the last one"), by price ("the cheaper one", "the priciest"),
by rating ("the best rated") or by colour ("the blue one") resolves to one of them. The
list is only used while it is fresh: texts long after it refer to something else.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta

from textcart.vocabulary.colours import COLOURS
from textcart.vocabulary.records import ProductCard, Recommended

FRESH_FOR = timedelta(hours=24)
_WORD = re.compile(r"[a-z0-9]+")

_POSITION_WORDS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "last": -1,
}  # fmt: skip
_THING = r"(?:one|ones|1|pair|option|pick|choice|model)"
_POSITION = re.compile(
    rf"\b(?:the\s+)?(first|1st|second|2nd|third|3rd|last)\s+{_THING}\b"
    r"|(?:#|\bnumber\s+|\boption\s+)([1-3])\b",
    re.IGNORECASE,
)
# "the cheaper one" or "cheaper one" points at a product shown; "anything cheaper?" asks
# for something new, so a bare comparative is not a reference.
_LOWER = r"(?:cheaper|cheapest|less expensive|least expensive|lower[- ]priced)"
_CHEAPER = re.compile(rf"\bthe\s+{_LOWER}(?:\s+{_THING})?\b|\b{_LOWER}\s+{_THING}\b", re.IGNORECASE)
_HIGHER = r"(?:pricier|priciest|more expensive|most expensive|higher[- ]priced)"
_PRICIER = re.compile(
    rf"\bthe\s+{_HIGHER}(?:\s+{_THING})?\b|\b{_HIGHER}\s+{_THING}\b", re.IGNORECASE
)
_BACK_TO_FIRST = re.compile(
    rf"\b(?:stick with|stay with|go back to|keep|go with)\s+(?:the\s+)?(?:first|original)"
    rf"(?:\s+{_THING})?\b",
    re.IGNORECASE,
)
_RATED = re.compile(
    r"\b(?:the\s+)?(?:best|better|top|highest|higher)[- ]rated\b(?:\s+one)?", re.IGNORECASE
)
# "the charcoal one", "the sky blue one": a colour, maybe with its shade, and a thing.
_COLOUR_ONE = re.compile(rf"\bthe\s+(?:([a-z]+)\s+)?([a-z]+)\s+{_THING}\b", re.IGNORECASE)


def _by(
    key: Callable[[ProductCard], float], highest: bool
) -> Callable[[Sequence[ProductCard]], ProductCard]:
    def pick(products: Sequence[ProductCard]) -> ProductCard:
        return (max if highest else min)(products, key=key)

    return pick


def fresh_recommendations(recommended: Recommended | None, now: datetime) -> list[ProductCard]:
    """The products the store last recommended, while they are still what a text means."""
    if not recommended or not recommended["products"]:
        return []
    try:
        at = datetime.fromisoformat(recommended["at"])
    except ValueError:
        return []
    if at.tzinfo is None or now.tzinfo is None:
        at, now = at.replace(tzinfo=None), now.replace(tzinfo=None)
    return list(recommended["products"]) if now - at <= FRESH_FOR else []


_LINE_SAID = re.compile(r"\b(women'?s?|ladies|men'?s?)\b", re.IGNORECASE)


def line_said_in(text: str) -> str | None:
    """The line a text says, as titles begin: "women's" ("womens", "ladies"), "men's"."""
    said = _LINE_SAID.search(text)
    if said is None:
        return None
    return "women's" if said.group(1).lower()[0] in "wl" else "men's"


def line_of(title: str) -> str | None:
    """The line a title begins with ("women's", "men's"), else None."""
    return next((p for p in ("women's", "men's") if title.lower().startswith(p)), None)


def position_said(text: str) -> int | None:
    """The position a text points at ("the second one" -> 1, "the last one" -> -1)."""
    match = _POSITION.search(text)
    if match is None:
        return None
    word, digit = match.group(1), match.group(2)
    return _POSITION_WORDS[word.lower()] if word else int(digit) - 1


def resolve_reference(
    text: str | None, recommended: Recommended | None, now: datetime
) -> tuple[ProductCard, str] | None:
    """The recommended product the text points at, with the words that pointed; or None."""
    products = fresh_recommendations(recommended, now)
    if not text or not products:
        return None
    first = recommended.get("first_discussed") if recommended else None
    if first and (match := _BACK_TO_FIRST.search(text)):
        return first, match.group(0).strip()
    if match := _POSITION.search(text):
        word, digit = match.group(1), match.group(2)
        index = _POSITION_WORDS[word.lower()] if word else int(digit) - 1
        if -len(products) <= index < len(products):
            return products[index], match.group(0).strip()
        return None
    priced = [p for p in products if p["price"] is not None]
    for pattern, pick in (
        (_CHEAPER, _by(lambda p: p["price"], highest=False)),
        (_PRICIER, _by(lambda p: p["price"], highest=True)),
    ):
        if (match := pattern.search(text)) and len(priced) > 1:
            return pick(priced), match.group(0).strip()
    rated = [p for p in products if p["rating"] is not None]
    if (match := _RATED.search(text)) and len(rated) > 1:
        return _by(lambda p: float(p["rating"] or 0), highest=True)(rated), match.group(0).strip()
    for match in _COLOUR_ONE.finditer(text):
        colour = match.group(2).lower()
        if colour not in COLOURS:
            continue
        # A colourway is named after the dash in the title: "Trail Runner — Lake Blue".
        named = [p for p in products if colour in p["title"].rsplit("—", 1)[-1].lower().split()]
        if len(named) == 1:
            return named[0], match.group(0).strip()
    return None


def model_name(title: str) -> str:
    """The model part of a title, before the colourway: "Trail Runner — Lake Blue"."""
    return title.rsplit("—", 1)[0].strip()


def colourway_reference(
    text: str | None, recommended: Recommended | None, now: datetime
) -> tuple[str, str, str] | None:
    """("the charcoal one", the colour, the model under discussion) for a colour reference.

    The store's first recommendation is the product being discussed; "the charcoal one"
    about it means that model in charcoal, even if charcoal was never shown.
    """
    products = fresh_recommendations(recommended, now)
    if not text or not products:
        return None
    for match in _COLOUR_ONE.finditer(text):
        shade, colour = (match.group(1) or "").lower(), match.group(2).lower()
        if colour in COLOURS:
            said = f"{shade} {colour}" if shade and shade not in _ARTICLE_WORDS else colour
            return match.group(0).strip(), said, model_name(products[0]["title"])
    return None


# Words before a colour that are no shade of it ("the other blue one").
_ARTICLE_WORDS = frozenset({"other", "same", "new", "cheaper", "first", "second", "last"})

# Words that tell a line apart but that shoppers leave out ("the ridgeline runners").
_LINE_WORDS = frozenset({"men", "mens", "women", "womens", "unisex", "kids", "the"})


_NUMBER_UNIT = re.compile(r"\b(\d+)(l|ml|k|mm|g|oz)\b")


def stem(word: str) -> str:
    """One spelling per word: plural 's' removed, "hoody" spelt "hoodie", "light" "lite".

    "the featherlight jacket" is the Featherlite Wind Shell: the sound, not the letters.
    """
    word = word.removesuffix("s") if len(word) > 3 else word
    word = word.replace("ight", "ite")
    if len(word) > 4 and word.endswith("y") and word[-2] not in "aeiou":
        return word[:-1] + "ie"
    return word


def _stems(text: str) -> tuple[str, ...]:
    """Distinctive lower-case words in order, plural 's' removed ('runners' -> 'runner').

    A number with its unit is also the number: "the 22l daypack" says "22".
    """
    text = _NUMBER_UNIT.sub(r"\1 \1\2", text.lower())
    words = (stem(w) for w in _WORD.findall(text))
    return tuple(
        w for w in words if (len(w) > 2 or (w.isdigit() and len(w) == 2)) and w not in _LINE_WORDS
    )


_SHORTHAND = re.compile(r"\b([a-z]{1,3})(\d{2,4})\b")


# A turn matches its text against every candidate title: the text is read once per turn.
# The cache is kept small on purpose, so that it serves the turns in flight and does not
# remember texts from turn to turn (a benchmark repeating its texts would flatter it).
@functools.lru_cache(maxsize=8)
def _text_words(text: str) -> tuple[frozenset[str], tuple[tuple[str, str], ...]]:
    """The text's stems and its shorthands ("th22" -> ("th", "22"))."""
    return frozenset(_stems(text.replace("'s", ""))), tuple(_SHORTHAND.findall(text.lower()))


def _said(text: str, title: str) -> frozenset[str]:
    """The text's words, with a model's shorthand spelled out: "th22" -> "trailhead".

    A model word misspelt by one letter counts as said ("rdgeline").

    Shoppers shorten a name and number to letters of the name and the number ("th22" for
    the Trailhead 22, "bc900" for the Beacon 900): the letters must start the word before
    the number and appear in it in order.
    """
    stems, shorthands = _text_words(text)
    said = set(stems)
    words = _title_words(title)
    for word in words[:3]:
        # "rdgeline" for "ridgeline": a long model word one letter off is still named.
        if len(word) >= 6 and word not in said and any(_one_off(w, word) for w in said):
            said.add(word)
    for letters, number in shorthands:
        for before, word in itertools.pairwise(words):
            if word == number and before[0] == letters[0] and _in_order(letters, before):
                said.update(_stems(before))
    return frozenset(said)


@functools.lru_cache(maxsize=8192)
def _title_words(title: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(title.lower()))


# Titles recur from turn to turn (every candidate of every turn): read each once.
@functools.lru_cache(maxsize=8192)
def model_words(title: str) -> tuple[str, ...]:
    """The words of a title's model as texts are matched against them ("hoodie", "22")."""
    return _stems(re.split(r"\s+[—-]\s+", title)[0].replace("'s", ""))


def said_words(text: str, vocabulary: Iterable[str]) -> set[str]:
    """Model words the text may be saying: its own, one-letter misspellings, shorthand.

    A cheap first pass over every model word (`vocabulary`); `name_match` then decides
    for each title these words point to.
    """
    said = set(_stems(text.replace("'s", "")))
    long_said = [w for w in said if len(w) >= 5]
    for word in vocabulary:
        if len(word) >= 6 and word not in said and any(_one_off(w, word) for w in long_said):
            said.add(word)
    for letters, number in _SHORTHAND.findall(text.lower()):
        said.add(number)
        said.update(w for w in vocabulary if w[:1] == letters[:1] and _in_order(letters, w))
    return said


def _one_off(said: str, word: str) -> bool:
    """True when `said` is `word` with one letter left out, added, changed or swapped."""
    if abs(len(said) - len(word)) > 1 or len(said) < 5 or said == word:
        return False
    if len(said) == len(word):
        diff = [i for i, (a, b) in enumerate(zip(said, word, strict=True)) if a != b]
        return len(diff) == 1 or (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and said[diff[0]] == word[diff[1]]
            and said[diff[1]] == word[diff[0]]
        )
    short, long = sorted((said, word), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _in_order(letters: str, word: str) -> bool:
    rest = iter(word)
    return all(letter in rest for letter in letters)


def names_product(text: str, title: str) -> bool:
    """True when the text names the product's model.

    It must contain the model's first distinctive word (its own name, e.g. "Ridgeline")
    and most of the rest: "summit gtx boot" names the "Summit GTX Hiking Boot", while
    "trail runners" alone names no model.
    """
    return _names(model_words(title), _said(text, title))


def _names(model: Sequence[str], said: frozenset[str]) -> bool:
    if not model or model[0] not in said:
        return False
    matched = set(model) & said
    if matched <= _SHARED_WORDS:
        # "trail running shoes" says what every trail product is, not this model.
        return False
    return len(matched) >= math.ceil(0.6 * len(set(model)))


# Words that many models share: alone they name no model ("trail", "merino").
_SHARED_WORDS = frozenset(
    """
    trail road running runner hiking hiker walking winter rain insulated waterproof merino
    base layer crew sock socks shoe boot jacket shell pant short tight top tee cap hat
    glove pack vest bottle sandal daily max mid low light warm soft camp carbon
    """.split()
)
_SHARED_WORDS = frozenset(stem(w) for w in _SHARED_WORDS)


@functools.lru_cache(maxsize=8192)
def _compounds(title: str) -> tuple[tuple[str, str], ...]:
    """The hyphenated names in a title's model: "Zip-Neck" -> ("zip", "neck")."""
    model = re.split(r"\s+[—-]\s+", title)[0].lower()
    return tuple(tuple(m) for m in re.findall(r"\b([a-z0-9]+)-([a-z0-9]+)\b", model))


def _said_compound(text: str, compound: tuple[str, str]) -> bool:
    first, second = map(re.escape, compound)
    return re.search(rf"\b{first}[\s-]?{second}s?\b", text, re.IGNORECASE) is not None


def name_match(text: str, title: str) -> int:
    """How strongly a text names the product's model; 0 when it does not name it.

    Beyond `names_product`, shoppers name a model by its own word alone ("the daymile in
    wide?") or by a number and a word ("does the 150 crew run small?"): the model's first
    word when no other model shares it, or two of its words one of which is a number.
    """
    model = model_words(title)
    said = _said(text, title)
    matched = set(model) & said
    if not matched:
        return 0
    # Ties go to the model with fewer words the text left out: "ridgeline trail runner"
    # names the Ridgeline Trail Runner before the Ridgeline GTX Trail Runner.
    score = 2 * len(matched) - len(set(model) - matched)
    if _names(model, said):
        return 100 + score
    if model[0] in matched and model[0] not in _SHARED_WORDS and len(model[0]) >= 4:
        return 50 + score
    if model[0] in matched and len(matched) >= 2 and not matched <= _SHARED_WORDS:
        # Two words of the model, one its own: "trail running shoes" names no gaiters.
        return 50 + score
    if len(matched) >= 2 and any(w.isdigit() for w in matched):
        return 50 + score
    if any(_said_compound(text, c) for c in _compounds(title)):
        # "the navy zip neck": a hyphenated name of the model ("Zip-Neck"), said as one.
        return 45 + score
    if (
        len(matched) >= 2
        and len(matched) >= math.ceil(0.6 * len(set(model[1:])))
        and any(w not in _SHARED_WORDS for w in matched)
    ):
        # "the sun hoodie" or "grid fleece 1/4 zip": the model by what it is, its own name
        # left out, in words that are not every other product's.
        return 40 + score
    return 0
