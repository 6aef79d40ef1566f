"""Variants and model ids in a real Weaviate: stored, read back, searched, and added later.

The session's embedded Weaviate and MiniLM; the Shopify export whose sizes differ in price
and stock (tests/fixtures/shopify_variants.csv). Last, the whole graph answers a shopper
from that catalog (classic deciders, SQLite), through the output guard.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from weaviate.classes.config import DataType

import textcart.tools.catalog as catalog_module
from textcart.agent import Agent
from textcart.catalog_cli import load_catalog
from textcart.conversations import pinned_clock
from textcart.demo_store.loader import catalog_path
from textcart.graph.context import Context
from textcart.graph.services import default_services
from textcart.tools.catalog import SearchFilters
from textcart.tools.catalog_files import read_products
from textcart.tools.shopify_lines import match_lines

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "shopify_variants.csv"
COLLECTION = "VariantTestProducts"


@pytest.fixture
async def fresh(services_dir: Path) -> None:
    catalog = await (await default_services()).catalog(COLLECTION)
    await catalog.delete_all()


@pytest.mark.usefixtures("fresh")
async def test_variants_round_trip_and_group_colourways(tmp_path: Path) -> None:
    with (tmp_path / "out.txt").open("w") as out:
        summary = await load_catalog([FIXTURE], COLLECTION, Console(file=out), sync=True)
    assert (summary.loaded, summary.skipped) == (3, 0)
    services = await default_services()
    catalog = await services.catalog(COLLECTION)
    expected = {p.id: p for p in read_products(FIXTURE)}
    stored = await catalog.get_many(expected)
    assert stored == expected  # every variant's price, stock, SKU and colour, and model ids
    # Read whole, as Shopify's line items are named: a size's SKU is its colourway's.
    assert {p.id: p async for p in catalog.products()} == expected
    lines = {"line_items": [{"sku": "GP-CHA-11"}, {"sku": "GP-BRN-10"}, {"sku": "GONE-1"}]}
    named = await match_lines(catalog, lines)
    assert named.ids == ["granite-pass-boot-charcoal", "granite-pass-boot-brown"]
    assert named.unmatched == ["sku 'GONE-1'"]
    # Colourways by the model id, whatever the title says.
    found = await catalog.colourways("Granite Pass Hiking Boot — Brown", "granite-pass-boot")
    assert {p.id for p in found} == {"granite-pass-boot-brown", "granite-pass-boot-charcoal"}
    # The size filter reads the variants' stock: brown's 11 is sold out, charcoal's is not.
    query = "leather hiking boot"
    hits = await catalog.search(
        query, services.embedder.embed_query(query), SearchFilters(size="11"), limit=5
    )
    assert [h.product.id for h in hits] == ["granite-pass-boot-charcoal"]


async def test_a_collection_made_before_variants_takes_them(
    services_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = await default_services()
    catalog = await services.catalog("VariantOlderProducts")
    await catalog.client.collections.delete(catalog.name)
    # The collection as textcart created it before model ids and variants existed.
    monkeypatch.setattr(catalog_module, "_ADDED_PROPERTIES", [])
    await catalog.ensure_collection()
    before = await catalog.client.collections.get(catalog.name).config.get()
    assert "variants" not in {p.name for p in before.properties}
    monkeypatch.undo()
    demo = list(read_products(catalog_path()))[:3]
    boots = list(read_products(FIXTURE))
    assert await catalog.ingest([*demo, *boots], services.embedder) == 6
    after = await catalog.client.collections.get(catalog.name).config.get()
    types = {p.name: p.data_type for p in after.properties}
    assert types["variants"] == DataType.OBJECT_ARRAY and types["model_id"] == DataType.TEXT
    stored = await catalog.get_many([p.id for p in [*demo, *boots]])
    assert list(stored.values()) == [*demo, *boots]
    # A title-grouped product (no model id) still finds its colourways by title.
    first = demo[0]
    assert first.id in {p.id for p in await catalog.colourways(first.title)}
    await catalog.client.collections.delete(catalog.name)


@pytest.mark.usefixtures("fresh")
@pytest.mark.parametrize(
    "text,says",
    [
        # Either colourway answers so: its 12 costs $150, its other sizes in stock $145.
        ("how much is the granite pass boot in a 12?", "is $150 in a 12"),
        ("do you have the granite pass boot in brown in an 11?", "Charcoal has it in 11"),
    ],
)
async def test_the_graph_answers_a_size_from_its_variant(
    tmp_path: Path, text: str, says: str
) -> None:
    with (tmp_path / "out.txt").open("w") as out:
        await load_catalog([FIXTURE], COLLECTION, Console(file=out), sync=True)
    context = Context(model=None, catalog_collection=COLLECTION)
    async with Agent.open(tmp_path, context) as agent:
        state = await agent.receive("+14155550199", text, at=pinned_clock(None))
    outbound = state["outbound"]
    assert outbound is not None and not outbound["blocked"], outbound
    assert says in (outbound["text"] or ""), outbound
    if "$150" in says:
        assert "$145 in other sizes" in outbound["text"]
