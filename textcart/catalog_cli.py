"""Loading a store's catalog into Weaviate, and `textcart catalog load`.

A load reads each product file (textcart's JSONL/CSV, a Shopify products export, a
Flipkart CSV) in the store folder's currency, shows progress, writes every product, and
ends with a summary: loaded (new), updated (already there, replaced), removed (gone from
the files, with `--sync`) and skipped rows with the reason for each.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from rich.console import Console

from textcart.demo_store.loader import catalog_files
from textcart.graph.services import default_services
from textcart.paths import store_dir
from textcart.progress import progress_bar
from textcart.storefolder.settings import active_store
from textcart.tools.catalog_files import read_products
from textcart.tools.catalog_sync import LoadSummary, remove_products, stored_ids


async def load_catalog(
    paths: list[Path],
    collection: str,
    console: Console,
    *,
    sync: bool = False,
    quiet: bool = False,
) -> LoadSummary:
    """Write the products of `paths`; with `sync`, remove those no file has any more."""
    services = await default_services()
    catalog = await services.catalog(collection)
    await catalog.ensure_collection()
    before = await stored_ids(catalog) if sync or not quiet else set()
    summary, seen = LoadSummary(), set[str]()
    for path in paths:
        report = read_products(path, currency=active_store().currency)
        products = list(report)
        with progress_bar(console, disable=quiet, transient=quiet) as bar:
            task = bar.add_task(f"loading {path.name}", total=len(products))
            await catalog.ingest(
                products, services.embedder, on_progress=partial(bar.advance, task)
            )
        ids = {p.id for p in products} - seen
        summary.loaded += len(ids - before)
        summary.updated += len(ids & before)
        seen |= ids
        summary.skipped += report.skipped
        summary.reasons += report.problems
    if sync:
        summary.removed = await remove_products(catalog, before - seen)
    return summary


async def load_store_catalog(
    collection: str, console: Console, *, sync: bool = False, quiet: bool = False
) -> LoadSummary:
    """Load every product file the selected store folder names."""
    files = catalog_files(store_dir())
    return await load_catalog(files, collection, console, sync=sync, quiet=quiet)


def print_summary(summary: LoadSummary, collection: str, console: Console) -> None:
    """The end of a load, for a person: counts, then why each skipped row was skipped."""
    console.print(f"{collection!r}: {summary.line()}")
    for reason in summary.reasons[:20]:
        console.print(f"  skipped {reason}")
    if len(summary.reasons) > 20:
        console.print(f"  ... and {summary.skipped - 20} more")
