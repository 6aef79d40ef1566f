"""What the catalog's words say: does the store sell a kind of thing, which model a text names.

Two keyword checks beside the catalog's search. `matches_all_words` says whether some
product holds every word of a phrase ("hydration vest": sold; "tents": not). `model_names`
keeps every product's title in memory (read once, then again after `MAX_AGE_S`), so the
model a text names is found among all titles, not only among the search's first hits: "stack
height on the daymile? dont want smth too tall" names the Daymile even when the search
ranks tall-stack shoes first.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import KeysView
from dataclasses import dataclass, field

from textcart.rules.references import model_words, name_match, said_words
from textcart.tools.catalog import SEARCH_PROPERTIES, Catalog
from textcart.tools.catalog_cache import PerCatalog

MAX_AGE_S = 60.0
_WORDS = re.compile(r"[a-z0-9]+")


def _singular(word: str) -> str:
    return word.removesuffix("s") if len(word) > 3 else word


async def matches_all_words(catalog: Catalog, query: str, names_only: bool = False) -> bool:
    """Whether some product holds every word of `query`, across its fields.

    Weaviate's BM25 AND wants every word in one field, so "hydration vest" (the category
    says hydration, the title vest) would match nothing: the keyword hits are checked here
    instead, a word matching with or without a plural "s". `names_only` looks in titles,
    categories and tags only: what a product is, not every word its description uses
    ("fits in your tent" sells no tent).
    """
    fields = ["title", "category", "tags"] if names_only else list(SEARCH_PROPERTIES)
    words = [_singular(w) for w in _WORDS.findall(query.lower())]
    if not words:
        return False
    collection = catalog.client.collections.get(catalog.name)
    result = await collection.query.bm25(
        query=query, query_properties=fields, return_properties=fields, limit=20
    )
    for obj in result.objects:
        values = obj.properties.values()
        said = " ".join(" ".join(v) if isinstance(v, list) else str(v or "") for v in values)
        have = {_singular(w) for w in _WORDS.findall(said.lower())}
        if all(w in have for w in words):
            return True
    return False


async def holds_any_word(catalog: Catalog, words: list[str]) -> bool:
    """Whether some product's title, category or tags hold one of `words` (plural or not)."""
    fields = ["title", "category", "tags"]
    wanted = {_singular(w) for w in words}
    collection = catalog.client.collections.get(catalog.name)
    result = await collection.query.bm25(
        query=" ".join(words), query_properties=fields, return_properties=fields, limit=20
    )
    for obj in result.objects:
        values = obj.properties.values()
        said = " ".join(" ".join(v) if isinstance(v, list) else str(v or "") for v in values)
        if wanted & {_singular(w) for w in _WORDS.findall(said.lower())}:
            return True
    return False


@dataclass
class ModelNames:
    """Every product's title, indexed by the words of its model."""

    titles: dict[str, str]
    _by_word: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def __post_init__(self) -> None:
        """Index the titles by model word."""
        for product_id, title in self.titles.items():
            for word in model_words(title):
                self._by_word[word].add(product_id)

    def vocabulary(self) -> KeysView[str]:
        """Every model word of the catalog (a view: a turn reads it, never copies it)."""
        return self._by_word.keys()

    def named(self, text: str) -> list[tuple[int, str]]:
        """(strength, product id) of every product whose model the text names, best first."""
        said = said_words(text, self._by_word.keys())
        candidates = {i for w in said for i in self._by_word.get(w, ())}
        scored = [(name_match(text, self.titles[i]), i) for i in candidates]
        return sorted(((s, i) for s, i in scored if s > 0), reverse=True)


async def _read_names(catalog: Catalog) -> ModelNames:
    return ModelNames(await _titles(catalog))


_NAMES = PerCatalog("titles", _read_names, MAX_AGE_S)


async def model_names(catalog: Catalog) -> ModelNames:
    """The catalog's titles, read once and kept (see `catalog_cache`).

    No turn but the first waits for a large catalog's titles.
    """
    return await _NAMES.get(catalog)


async def _titles(catalog: Catalog) -> dict[str, str]:
    titles: dict[str, str] = {}
    collection = catalog.client.collections.get(catalog.name)
    async for obj in collection.iterator(return_properties=["product_id", "title"]):
        props = obj.properties
        titles[str(props.get("product_id"))] = str(props.get("title") or "")
    return titles
