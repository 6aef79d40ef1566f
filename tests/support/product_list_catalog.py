"""A catalog of a list of products, without Weaviate: what `shopify_lines` reads of one."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from textcart.tools.catalog import Product


class ProductListCatalog:
    """Its products, its write count (`version`), and how often it was read whole."""

    def __init__(self, products: Iterable[Product]) -> None:
        self.items = list(products)
        self.version = 0
        self.reads = 0

    async def products(self) -> AsyncIterator[Product]:
        self.reads += 1
        for product in self.items:
            yield product
