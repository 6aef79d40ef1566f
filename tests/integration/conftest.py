"""Real services for integration tests: an embedded Weaviate holding the demo catalog."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from textcart.demo_store.loader import catalog_path
from textcart.graph.services import default_services
from textcart.tools.catalog_files import read_products
from textcart.tools.local_llm import stop_local_server
from textcart.tools.weaviate_server import stop_embedded


@pytest.fixture(scope="session")
def services_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir for this test session; the servers started for it are stopped at the end."""
    directory = tmp_path_factory.mktemp("textcart-data")
    previous = os.environ.get("TEXTCART_DATA_DIR")
    os.environ["TEXTCART_DATA_DIR"] = str(directory)
    os.environ.pop("WEAVIATE_URL", None)
    yield directory
    stop_embedded(directory / "weaviate")
    stop_local_server(directory / "llm")
    if previous is None:
        os.environ.pop("TEXTCART_DATA_DIR", None)
    else:
        os.environ["TEXTCART_DATA_DIR"] = previous


@pytest.fixture(scope="session")
async def demo_catalog(services_dir: Path) -> AsyncIterator[int]:
    """The demo catalog loaded into the session's Weaviate; yields the product count."""
    services = await default_services()
    catalog = await services.catalog("Product")
    await catalog.ensure_collection()
    products = list(read_products(catalog_path()))
    yield await catalog.ingest(products, services.embedder)
    await services.drop_catalog_connection()
