"""The remote-Weaviate path: `WEAVIATE_URL` + `WEAVIATE_API_KEY`, as for a cluster or WCD.

A real weaviate-server runs as its own process (started with the project's server code in a
temporary directory, API-key authentication on, anonymous access off), and fresh
subprocesses that know it only by URL and key load and search the catalog through it. They
have a data directory of their own in which no embedded server may appear.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pytest

from textcart.demo_store.loader import catalog_path
from textcart.tools.weaviate_server import STATE_NAME, EmbeddedWeaviate

API_KEY = "cluster-test-key"
TEXTCART = Path(sys.executable).parent / "textcart"
SEARCH = """
import asyncio, json
from textcart.tools.catalog import Catalog, SearchFilters
from textcart.tools.embeddings import get_embedder
from textcart.tools.weaviate_client import connect_async

async def main():
    client = await connect_async()
    try:
        catalog = Catalog(client, "ClusterProduct")
        query = "waterproof hiking boots"
        vector = get_embedder().embed_query(query)
        hits = await catalog.search(query, vector, SearchFilters(max_price=250), limit=5)
        meta = await client.get_meta()
        print(json.dumps({
            "count": await catalog.count(),
            "hits": [[h.product.id, h.product.price, h.product.in_stock] for h in hits],
            "hostname": meta.get("hostname"),
        }))
    finally:
        await client.close()

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedWeaviate]:
    """A Weaviate server in its own process that wants an API key, like a managed cluster."""
    server = EmbeddedWeaviate(
        tmp_path_factory.mktemp("remote-weaviate"),
        env={
            "AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED": "false",
            "AUTHENTICATION_APIKEY_ENABLED": "true",
            "AUTHENTICATION_APIKEY_ALLOWED_KEYS": API_KEY,
            "AUTHENTICATION_APIKEY_USERS": "textcart",
        },
    ).start()
    yield server
    server.stop()


def run(remote: EmbeddedWeaviate, data_dir: Path, args: list[str], key: str = API_KEY) -> Any:
    env = {
        **os.environ,
        "TEXTCART_DATA_DIR": str(data_dir),
        "WEAVIATE_URL": f"http://127.0.0.1:{remote.http_port}",
        "WEAVIATE_GRPC_URL": f"127.0.0.1:{remote.grpc_port}",
        "WEAVIATE_API_KEY": key,
    }
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)


def test_the_catalog_loads_and_searches_through_the_remote_url(
    remote: EmbeddedWeaviate, tmp_path: Path
) -> None:
    products = tmp_path / "products.jsonl"
    with catalog_path().open(encoding="utf-8") as f:
        products.write_text("".join(islice(f, 60)), encoding="utf-8")
    client_dir = tmp_path / "client"
    loaded = run(
        remote,
        client_dir,
        [str(TEXTCART), "catalog", "load", str(products), "--collection", "ClusterProduct"],
    )
    assert loaded.returncode == 0, loaded.stderr[-2000:]
    assert "'ClusterProduct': loaded 60, updated 0, removed 0, skipped 0" in loaded.stdout

    searched = run(remote, client_dir, [sys.executable, "-c", SEARCH])
    assert searched.returncode == 0, searched.stderr[-2000:]
    found = json.loads(searched.stdout.strip().splitlines()[-1])
    assert found["count"] == 60
    assert found["hits"] and all(stock and price <= 250 for _, price, stock in found["hits"])
    assert any("BOOT" in pid or "GTX" in pid for pid, _, _ in found["hits"]), found
    # Both processes used the remote server: no embedded one was started for them.
    assert not (client_dir / "weaviate" / STATE_NAME).exists()
    assert not list(client_dir.glob("weaviate/*.log"))


def test_a_wrong_api_key_is_refused(remote: EmbeddedWeaviate, tmp_path: Path) -> None:
    searched = run(remote, tmp_path / "client", [sys.executable, "-c", SEARCH], key="wrong")
    assert searched.returncode != 0
    assert "401" in searched.stderr or "nauthori" in searched.stderr, searched.stderr[-2000:]
    assert not (tmp_path / "client" / "weaviate" / STATE_NAME).exists()
