"""Re-loading a store's catalog syncs it: a product gone from the export is gone from search.

Real Weaviate (the session's embedded server) and MiniLM; the Shopify export written for
the tests, then the same export without one product.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from textcart.catalog_cli import load_catalog
from textcart.graph.services import default_services
from textcart.tools.catalog_sync import stored_ids

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "shopify_products.csv"
COLLECTION = "SyncTestProducts"


@pytest.fixture
async def fresh(services_dir: Path) -> None:
    catalog = await (await default_services()).catalog(COLLECTION)
    await catalog.delete_all()


@pytest.mark.usefixtures("fresh")
async def test_reload_updates_removes_and_explains_skips(tmp_path: Path) -> None:
    console = Console(file=open(tmp_path / "out.txt", "w"))  # noqa: SIM115 - closed with the test
    first = await load_catalog([FIXTURE], COLLECTION, console, sync=True)
    assert (first.loaded, first.updated, first.removed, first.skipped) == (3, 0, 0, 2)
    assert any("draft" in r for r in first.reasons)

    # The next export no longer has the dohar; the kurta's rust colourway sold out.
    lines = FIXTURE.read_text().splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("handloom-dohar")]
    kept = [line.replace(",NS-KUR-RST-M,300,shopify,5,", ",NS-KUR-RST-M,300,shopify,0,")
            for line in kept]  # fmt: skip
    second_file = tmp_path / "products_export.csv"
    second_file.write_text("".join(kept))
    second = await load_catalog([second_file], COLLECTION, console, sync=True)
    assert (second.loaded, second.updated, second.removed) == (0, 2, 1)
    catalog = await (await default_services()).catalog(COLLECTION)
    assert await stored_ids(catalog) == {"block-print-kurta-indigo", "block-print-kurta-rust"}
    rust = (await catalog.get_many(["block-print-kurta-rust"]))["block-print-kurta-rust"]
    assert rust.in_stock is False and rust.sizes_in_stock == []
    console.file.close()
