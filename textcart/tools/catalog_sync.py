"""Re-loading a catalog: what was loaded, updated, removed and skipped, and why.

A load writes every product of the files (same SKU: replaced in place). A sync load then
removes the products the collection still holds that no file has any more, so a
discontinued product is never recommended again. `LoadSummary` is what `textcart catalog
load` prints at the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from weaviate.classes.query import Filter

from textcart.tools.catalog import Catalog, product_uuid


@dataclass
class LoadSummary:
    """The outcome of one catalog load."""

    loaded: int = 0  # products new to the collection
    updated: int = 0  # products it already held, replaced
    removed: int = 0  # products no file has any more
    skipped: int = 0  # rows that could not become a product
    reasons: list[str] = field(default_factory=list)  # why, per skipped row (first 100)

    def line(self) -> str:
        """One line for a person."""
        return (
            f"loaded {self.loaded}, updated {self.updated}, removed {self.removed}, "
            f"skipped {self.skipped}"
        )


async def stored_ids(catalog: Catalog) -> set[str]:
    """Every product id (SKU) the collection holds."""
    if not await catalog.client.collections.exists(catalog.name):
        return set()
    collection = catalog.client.collections.get(catalog.name)
    ids: set[str] = set()
    async for item in collection.iterator(return_properties=["product_id"], cache_size=1000):
        ids.add(str(item.properties["product_id"]))
    return ids


async def remove_products(catalog: Catalog, ids: Iterable[str], batch: int = 500) -> int:
    """Delete these products from the collection; returns how many went."""
    wanted = sorted(set(ids))
    collection = catalog.client.collections.get(catalog.name)
    removed = 0
    for start in range(0, len(wanted), batch):
        uuids = [product_uuid(i) for i in wanted[start : start + batch]]
        result = await collection.data.delete_many(where=Filter.by_id().contains_any(uuids))
        removed += int(result.successful)
        catalog.version += 1
    return removed
