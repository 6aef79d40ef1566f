"""The product a text names, and the card the state keeps of a product.

"stack height on the daymile?" names the Daymile: every title of the catalog is a candidate
(`tools.catalog_words.model_names`), so the model is found however the search ranks it,
and the colourway meant is the one said, else the shopper's own (carted, viewed), else one
in their line and in stock.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Sequence

from textcart.answers.question import asks_something
from textcart.rules.references import line_said_in, model_words, said_words, stem
from textcart.tools.catalog import Catalog, Product, ProductHit
from textcart.tools.catalog_words import model_names
from textcart.vocabulary.products import model_of_title
from textcart.vocabulary.records import ProductCard, ShopperContext


def card(product: Product, score: float) -> ProductCard:
    """The state's card of a product, with the score that ranked it."""
    return ProductCard(
        id=product.id,
        title=product.title,
        category=product.category,
        price=product.price,
        compare_at_price=product.compare_at_price,
        in_stock=product.in_stock,
        sizes_in_stock=list(product.sizes_in_stock),
        rating=product.rating,
        selling_points=list(product.selling_points),
        url=product.url,
        score=round(score, 4),
        currency=product.currency,
        model_id=product.model_id,
    )


def _asked_preference(product: Product, shopper: ShopperContext) -> tuple[int, int]:
    """Rank a named colourway: carted, then viewed, then the shopper's line, then in stock."""
    if product.id in shopper["cart_ids"]:
        return (0, 0)
    if product.id in shopper["viewed_ids"]:
        return (1, 0)
    line = shopper["preferences"].get("shoe_line") or shopper["preferences"].get("line")
    other_line = {"women": "men's", "men": "women's"}.get(str(line or ""), "")
    off_line = int(bool(other_line) and product.title.lower().startswith(other_line))
    return (2 + off_line, 0 if product.in_stock else 1)


_GOES_OVER = re.compile(
    r"\b(?:go|goes|slip|slips|pull|pulls|fit|fits|work|works)\s+(?:over|onto|on over|with)\b",
    re.IGNORECASE,
)


def asked_part(text: str) -> str:
    """The part of the text about the product asked after, not what it goes over or with.

    "will the cleats slip over my trail runners": the runners are what they go over.
    """
    return _GOES_OVER.split(text, maxsplit=1)[0]


def asking_clauses(text: str) -> str:
    """The sentences of the text that ask something, or the whole text when all or none do.

    "the tempo racer i sent back was sooo narrow... is the daymile any better": the
    question is about the Daymile; the racer is what they had.
    """
    clauses = [c for c in _CLAUSE.split(text) if c.strip()]
    asking = [c for c in clauses if asks_something(c)]
    return " ".join(asking) if asking and len(asking) < len(clauses) else text


_CLAUSE = re.compile(r"(?<=[.!?;])\s+|\.{2,}|…|\n")


async def named_product(
    catalog: Catalog,
    text: str,
    shopper: ShopperContext,
    history: Awaitable[dict[str, ProductHit]],
    version: str = "",
    earlier: Sequence[str] = (),
) -> ProductCard | None:
    """The product the text names, if any: the best-named model, in the shopper's colourway.

    Every title in the catalog is a candidate (`catalog_words.model_names`, kept in memory),
    so a model is found however the search ranks it. A model named without its colour means
    the colourway they carted or viewed, else one in their line and in stock: the shopper's
    own, not the index's first. `history` is the shopper's products as the turn already
    reads them for personalisation. `version` holds the words of the version the text
    described ("a waterproof ridgeline" -> "GTX"), read with the model's name. A line not
    said in the text is the one said in the shopper's `earlier` texts (newest first): "vs
    the talus?" after "hows the mens summit gtx" is the men's Talus.
    """
    names = await model_names(catalog)
    part = asked_part(text)
    named = names.named(f"{part} {version}")
    asking = asking_clauses(part)
    if asking != part:
        named = names.named(f"{asking} {version}") or named
    if not named:
        return None
    best = named[0][0]
    ids = [i for strength, i in named if strength == best]
    prefix = line_said_in(text) or next(
        (p for line in earlier[:2] if (p := line_said_in(line))), None
    )
    if prefix:
        # "mens softloop in a 10": the line they said beats the one they usually browse.
        ids = [i for i in ids if names.titles[i].lower().startswith(prefix)] or ids
    known = await history
    products = {i: known[i].product for i in ids if i in known}
    products.update(await catalog.get_many([i for i in ids[:_NAMED_MOST] if i not in known]))
    if not products:
        return None
    said = set(re.findall(r"[a-z]+", text.lower()))
    # "lake blue, got an 11?": the colourway said, before the shopper's own.
    in_colour = [p for p in products.values() if _colourway_words(p) & said]
    # "the coral one" is Coral before Teal/Coral: a colourway said in full first.
    whole = [p for p in in_colour if _colourway_words(p) <= said]
    pool = whole or in_colour or list(products.values())
    product = min(pool, key=lambda p: _asked_preference(p, shopper))
    described = None if version else await _version_described(catalog, text, product)
    if described is not None:
        return await named_product(
            catalog, text, shopper, history, version=described, earlier=earlier
        )
    return card(product, 0.0)


async def _version_described(catalog: Catalog, text: str, product: Product) -> str | None:
    """The version of the named model that the text describes: "a waterproof ridgeline".

    A version is a model whose name holds the whole named one ("Ridgeline GTX Trail
    Runner"); it is meant when a word of the text is in its own title or text and nowhere
    in the named model's, and in no other version's.
    """
    base = set(model_words(product.title)) - {"men", "women"}
    words = [stem(w) for w in re.findall(r"[a-z]+", text.lower())]
    first = next((n for n, w in enumerate(words) if w in base), len(words))
    # Said before the name, it says which one ("a waterproof ridgeline"); after it, it asks
    # about the one named ("r the ridgeline trail runners waterproof").
    telling = {w for w in words[:first] if len(w) >= 5} - _words(product)[2]
    if not telling:
        return None
    names = await model_names(catalog)
    line = _LINE_PREFIX.match(product.title.lower())
    model = model_of_title(product.title)
    versions: dict[str, str] = {}
    for _, i in names.named(text):
        title = names.titles[i]
        if (
            model_of_title(title) != model
            and title.lower().startswith(line.group(0) if line else "")
            and base <= set(model_words(title))
        ):
            versions.setdefault(model_of_title(title), i)
    if not versions:
        return None
    found = await catalog.get_many(list(versions.values())[:_VERSIONS_READ])
    fitting = [p for p in found.values() if telling & _words(p)[2]]
    return model_of_title(fitting[0].title) if len(fitting) == 1 else None


_VERSIONS_READ = 5


async def line_said(
    catalog: Catalog,
    text: str,
    shopper: ShopperContext,
    history: Awaitable[dict[str, ProductHit]],
    asked: ProductCard,
) -> ProductCard | None:
    """The same model in the other line, when the text says it.

    "mens cobalt in a 12?" after the women's Softloop is the men's Softloop.
    """
    prefix = line_said_in(text)
    if prefix is None or asked["title"].lower().startswith(prefix):
        return None
    model = _LINE_PREFIX.sub("", model_of_title(asked["title"]).lower())
    found = await named_product(catalog, f"{text} {model}", shopper, history)
    return found if found is not None and found["title"].lower().startswith(prefix) else None


async def version_named(
    catalog: Catalog,
    text: str,
    shopper: ShopperContext,
    history: Awaitable[dict[str, ProductHit]],
    discussed: ProductCard,
) -> ProductCard | None:
    """The version of the discussed model the text names: "the gtx one" after the Ridgeline.

    A word many models share ("gtx", "mid", "max") names nothing alone; said about the
    product being discussed, it names that model's version with the word, when there is
    one: the text is read as if it said the discussed model too.
    """
    names = await model_names(catalog)
    base = set(model_words(discussed["title"]))
    extra = said_words(text, names.vocabulary()) - base
    if not extra:
        return None
    model = discussed["title"].split("—")[0].strip()
    found = await named_product(catalog, f"{text} {model}", shopper, history)
    if found is None or found["id"] == discussed["id"]:
        return None
    words = set(model_words(found["title"]))
    return found if base - {"men", "women"} <= words and words & extra else None


# "my parka", "my new mudlarks": the words after "my".
_MY = re.compile(r"\bmy (?:new |old )?((?:[a-z]+ ?){1,3})", re.IGNORECASE)
# "the parka i got from u", "the boots we ordered": theirs too.
_GOT = re.compile(
    r"\bthe (?:same |exact )?((?:[a-z]+ ){1,3})(?:i|we) (?:just |already |recently )?"
    r"(?:got|bought|ordered|purchased)\b",
    re.IGNORECASE,
)
# "my brother wants the same headlamp": people and parts of them are not products.
_NOT_OWNED_THINGS = frozenset(
    """
    size sz usual normal regular order feet foot kid wife husband brother sister friend
    partner son daughter mom dad mum boyfriend girlfriend
    """.split()
)
# "how do i wash the parka": "the" and a word of a model they bought, that nothing they
# are looking at now is called.
_THE_WORD = re.compile(r"\bthe ([a-z]{4,})\b", re.IGNORECASE)
_LINE_WORDS = frozenset("men mens women womens kid kids unisex".split())


async def owned_named(
    text: str, shopper: ShopperContext, history: Awaitable[dict[str, ProductHit]]
) -> ProductCard | None:
    """The product a text calls theirs: "how do i wash my parka" after buying a parka.

    Among what they bought, then carted: the one whose title holds the most words said
    right after "my", or before "i got" ("the parka i got from u"), at least the first.
    """
    said = [
        [w.removesuffix("s") for w in words.lower().split()]
        for words in [*_MY.findall(text), *_GOT.findall(text)]
        if words.split()[0].lower() not in _NOT_OWNED_THINGS
    ]
    the = [stem(w.lower()) for w in _THE_WORD.findall(text) if w.lower() not in _LINE_WORDS]
    if not said and not the:
        return None
    known = await history
    if not said:
        return _bought_named(the, shopper, known)
    best: tuple[int, ProductCard] | None = None
    for product_id in [*shopper["purchased_ids"], *shopper["cart_ids"]]:
        hit = known.get(product_id)
        if hit is None:
            continue
        # "the boots i bought" is the Switchback Mid Hiker: its category says boots.
        named = f"{hit.product.title} {hit.product.category}".lower()
        title = {w.removesuffix("s") for w in re.findall(r"[a-z]+", named)}
        for words in said:
            leading = next((i for i, w in enumerate(words) if w not in title), len(words))
            if leading and (best is None or leading > best[0]):
                best = (leading, card(hit.product, 1.0))
    return best[1] if best else None


def _bought_named(
    words: list[str], shopper: ShopperContext, known: dict[str, ProductHit]
) -> ProductCard | None:
    """The one product they bought whose model a word after "the" names.

    Only when nothing they viewed or carted is called so too.
    """
    looking = [
        known[i].product for i in [*shopper["viewed_ids"], *shopper["cart_ids"]] if i in known
    ]
    bought = [known[i].product for i in shopper["purchased_ids"] if i in known]
    for word in words:
        if any(
            word in model_words(p.title) for p in looking if p.id not in shopper["purchased_ids"]
        ):
            continue
        named = [p for p in bought if word in model_words(p.title)]
        if len(named) == 1:
            return card(named[0], 1.0)
    return None


def _colourway_words(product: Product) -> set[str]:
    """The words of the colourway that are not the model's ("Trail Orange" of a trail shoe)."""
    model, _, colourway = product.title.rpartition("—")
    words = set(re.findall(r"[a-z]+", colourway.lower())) if model else set()
    return words - set(re.findall(r"[a-z]+", model.lower()))


# Colourways of one named model read at most (a store with hundreds of colours of one item).
_NAMED_MOST = 60


# "the carbon plate racers for my easy runs": a definite description, up to the first word
# that starts the rest of the sentence.
_THE = re.compile(r"\b(?:the|those|these|that|ur|your)\s+([a-z0-9][a-z0-9 '-]*)", re.IGNORECASE)
_DESCRIPTION_END = re.compile(
    r"\b(?:for|in|on|with|to|and|or|but|if|is|are|r|be|do|does|from|at|as|when|while|so|than|"
    r"i|im|my|u|you|one|ones|still|too|really|actually|even|also|just|ever|good|ok|work|worth|"
    r"come|comes|run|runs|fit|fits|have|has|got|cost|costs|weigh|weighs|ship|ships|"
    r"go|goes|slip|slips|pull|pulls)\b|[?,.!;:]"
)
# "those ice cleat things": words that describe nothing.
_NOT_DESCRIPTIVE = frozenset(
    "new old same other last first second thing things thingy thingies stuff".split()
)
_LINE_PREFIX = re.compile(r"^(men's|women's|unisex)\s+")


def described_product(
    text: str, products: list[Product], *, theirs: bool = False
) -> Product | None:
    """The one model a definite description in the text fits: "the carbon plate racers".

    At least two telling words, the last of them the kind in the product's title ("racer")
    or category ("the lavender wind jacket" is a wind shell filed under jackets),
    every one of them in its title, category or product text; the description must fit one
    model only (its men's and women's lines are one), else nothing is assumed.
    `products` are the turn's search results, best first. Among `theirs` (what the shopper
    looked at) the kind may be said in other words ("the lavender merino top" for a base
    layer) when the words before it are all in the title.
    """
    words_of: dict[str, tuple[set[str], set[str], set[str]]] = {}  # each product's, read once
    said = [m.group(1) for m in _THE.finditer(text.lower())]
    if theirs:
        said.append(text.lower())  # "lavender merino top - still got an M?": opening the text
    for described in said:
        phrase = _DESCRIPTION_END.split(described)[0]
        words = [
            stem(w) for w in re.findall(r"[a-z0-9]+", phrase)
            if len(w) > 2 and w not in _NOT_DESCRIPTIVE
        ]  # fmt: skip
        if len(words) < 2:
            continue
        fits = [
            p for p in products
            if _fits(words, *(words_of.get(p.id) or words_of.setdefault(p.id, _words(p))), theirs)
        ]  # fmt: skip
        if len({_LINE_PREFIX.sub("", model_of_title(p.title).lower()) for p in fits}) == 1:
            return fits[0]
    return None


def _words(product: Product) -> tuple[set[str], set[str], set[str]]:
    """The stems of a product's title; of its title and category; and of those and its text."""

    def stems(*parts: str) -> set[str]:
        return {stem(w) for w in re.findall(r"[a-z0-9]+", " ".join(parts).lower())}

    told = stems(product.title, product.category, product.description, *product.selling_points)
    return stems(product.title), stems(product.title, product.category), told


def _fits(words: list[str], title: set[str], kinds: set[str], text: set[str], loose: bool) -> bool:
    if loose and len(words) >= 3 and all(w in title for w in words[:-1]):
        # "the lavender merino top": colour and model words in the title, the kind in other
        # words than the title's.
        return True
    # "ice cleats" for the Icegrip Traction Cleats: a word may start a word of the title.
    return words[-1] in kinds and all(
        w in text or any(t.startswith(w) for t in title) for w in words
    )


_LISTED = re.compile(r"\band\b|\bor\b|\bvs\.?\b|\bversus\b|,|/|\bbetween\b", re.IGNORECASE)


async def listed_before(
    catalog: Catalog,
    position: int,
    line: str,
    shopper: ShopperContext,
    history: Awaitable[dict[str, ProductHit]],
) -> ProductCard | None:
    """The model at `position` among those the shopper's text before listed, in their order.

    "does the second one need breaking in?" after "torn between the canyon low and the
    switchback mid" is the Switchback Mid: the shopper's own list, not the store's.
    """
    listed: dict[str, ProductCard] = {}
    for part in _LISTED.split(line):
        if part.strip() and (found := await named_product(catalog, part, shopper, history)):
            listed.setdefault(_LINE_PREFIX.sub("", model_of_title(found["title"]).lower()), found)
    models = list(listed.values())
    if len(models) < 2 or not -len(models) <= position < len(models):
        return None
    return models[position]
