"""Make sure the demo catalog is in Weaviate before a simulation runs."""

from __future__ import annotations

from textcart.demo_store.loader import catalog_path
from textcart.graph.services import default_services
from textcart.tools.catalog_files import read_products


async def ensure_demo_catalog(collection: str) -> int:
    """Load the demo catalog unless every demo product is already there; returns the count.

    Ids are stable, so loading again would only rewrite the same objects; skipping it
    saves the embedding time on every run after the first.
    """
    services = await default_services()
    catalog = await services.catalog(collection)
    await catalog.ensure_collection()
    products = list(read_products(catalog_path()))
    present = await catalog.get_many([p.id for p in products])
    if len(present) == len(products):
        return len(products)
    return await catalog.ingest(products, services.embedder)
