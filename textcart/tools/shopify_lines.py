"""Shopify's line items, named by the catalog's product ids.

A cart, checkout or order line from Shopify names one size of a product the Shopify way:
its `sku`, Shopify's numeric `variant_id` and `product_id`, the product's `title` and its
option values as `variant_title` ("Rust / M"). The shopper's cart and purchases and the
order book must hold the catalog's product ids (one colourway, "block-print-kurta-rust"
after a Shopify export's import), or a cart reminder names nothing, "it" finds no carted
product and a product already bought is recommended again. Every webhook topic maps its
lines here, each by the first of these that names exactly one product:

1. its SKU, as a product id (textcart's own catalogs use the SKU as the id) or as a
   variant's id or SKU (a Shopify export's import keeps each size's SKU on its variant);
2. its `handle`, when the payload carries one (the import keeps it as the model id);
3. its title, as a product's title or as the model its colourways share (the title before
   " — ").

Several colourways of one model are told apart by the colour among the line's option values.
Shopify's numeric ids are not used: a products export has none, so the catalog never knew
them. A line that maps to no product, or to several equally, is left out (an id the catalog
lacks is a product nobody can show or exclude) and reported, each unknown line logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from textcart.tools.catalog import Catalog
from textcart.tools.catalog_cache import PerCatalog
from textcart.vocabulary.products import Product, model_of_title

MAX_AGE_S = 60.0
log = logging.getLogger("textcart.shopify_lines")
# Unknown lines already logged (by SKU, else title): a cart updated ten times says it once.
_LOGGED: set[str] = set()
_MAX_LOGGED = 10_000


def _fold(text: object) -> str:
    """A key as Shopify and the catalog may both spell it: spaces and case do not count."""
    return " ".join(str(text or "").split()).casefold()


@dataclass(frozen=True)
class LineMatch:
    """The catalog's products a payload's lines name, and the lines that name none."""

    ids: list[str] = field(default_factory=list)
    """Distinct, in line order: two sizes of one colourway are one product."""
    unmatched: list[str] = field(default_factory=list)
    """Each unmatched line as its SKU, else its title and options."""


class CatalogKeys:
    """What a line item may name a product by, for every product of a catalog."""

    def __init__(self, products: Iterable[Product]) -> None:
        """Index the products by id, variant id and SKU, model id and title."""
        self._skus: dict[str, str | None] = {}  # None: more than one product has it
        self._handles: dict[str, list[str]] = {}
        self._titles: dict[str, list[str]] = {}
        self._colours: dict[str, set[str]] = {}
        variant_keys: dict[str, set[str]] = {}
        for product in products:
            self._skus[_fold(product.id)] = product.id
            for variant in product.variants:
                for key in (variant.id, variant.sku):
                    if key:
                        variant_keys.setdefault(_fold(key), set()).add(product.id)
            if product.model_id:
                self._handles.setdefault(_fold(product.model_id), []).append(product.id)
            for title in {_fold(product.title), _fold(model_of_title(product.title))}:
                self._titles.setdefault(title, []).append(product.id)
            colours = [*product.colors, *(v.colour for v in product.variants if v.colour)]
            self._colours[product.id] = {_fold(c) for c in colours}
        for key, owners in variant_keys.items():
            # A product's own id wins: it is what textcart's catalogs put in `sku`.
            if key not in self._skus:
                self._skus[key] = next(iter(owners)) if len(owners) == 1 else None

    def product_for(self, line: Mapping[str, Any]) -> str | None:
        """The catalog's product id for one line item, or None when none or several fit."""
        sku = _fold(line.get("sku"))
        if sku and self._skus.get(sku):
            return self._skus[sku]
        options = {_fold(o) for o in str(line.get("variant_title") or "").split("/")} - {""}
        for index, key in ((self._handles, "handle"), (self._titles, "title")):
            candidates = index.get(_fold(line.get(key)), [])
            if len(candidates) > 1:
                candidates = [c for c in candidates if self._colours[c] & options]
            if len(candidates) == 1:
                return candidates[0]
        return None

    def match(self, payload: Mapping[str, Any]) -> LineMatch:
        """Map every line item of a cart, checkout or order payload."""
        ids: dict[str, None] = {}
        unmatched: list[str] = []
        for line in payload.get("line_items") or []:
            if not isinstance(line, Mapping):
                continue
            found = self.product_for(line)
            if found is not None:
                ids.setdefault(found, None)
                continue
            label = _label(line)
            unmatched.append(label)
            if label not in _LOGGED and len(_LOGGED) < _MAX_LOGGED:
                _LOGGED.add(label)
                log.warning(
                    "Shopify line item %s matches no catalog product; left out of the "
                    "shopper's events and orders",
                    label,
                )
        return LineMatch(list(ids), unmatched)


def _label(line: Mapping[str, Any]) -> str:
    sku = str(line.get("sku") or "").strip()
    if sku:
        return f"sku {sku!r}"
    title = " / ".join(str(line.get(k) or "").strip() for k in ("title", "variant_title"))
    return f"without a sku ({title.strip(' /') or 'untitled'}, variant {line.get('variant_id')})"


async def _read_keys(catalog: Catalog) -> CatalogKeys:
    return CatalogKeys([p async for p in catalog.products()])


# Kept per catalog (see `catalog_cache`): Shopify gives a webhook five seconds, and only
# the first one waits for a large catalog's read.
_KEYS = PerCatalog("product keys", _read_keys, MAX_AGE_S)


async def catalog_keys(catalog: Catalog) -> CatalogKeys:
    """The catalog's keys, read once and kept."""
    return await _KEYS.get(catalog)


async def match_lines(catalog: Catalog, payload: Mapping[str, Any]) -> LineMatch:
    """The catalog's products a payload's lines name; a payload without lines reads nothing.

    Raises whatever the catalog raises when it cannot be read (the caller decides whether
    to answer without it).
    """
    if not payload.get("line_items"):
        return LineMatch()
    return (await catalog_keys(catalog)).match(payload)
