"""The catalog against a real Weaviate server (the pinned build) and the real MiniLM embedder."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import weaviate
from shared_data import require_shared

from textcart.tools.catalog import Catalog, Product, SearchFilters
from textcart.tools.catalog_files import read_products
from textcart.tools.embeddings import Embedder, get_embedder
from textcart.tools.weaviate_client import _Remote, connect, connect_async
from textcart.tools.weaviate_server import (
    INSTALL_HINT,
    EmbeddedWeaviate,
    WeaviateUnavailable,
    ensure_embedded,
    locate_binary,
    stop_embedded,
)

REPO = Path(__file__).resolve().parents[2]
FLIPKART = REPO.parent / "shared" / "data" / "catalog" / "flipkart_products.csv"


def _product(pid: str, title: str, category: str, price: float, **extra: object) -> Product:
    return Product.model_validate(
        {"id": pid, "title": title, "category": category, "price": price, **extra}
    )


# A small outdoor shop, written for these tests.
PRODUCTS = [
    _product(
        "RUN-ROAD-1",
        "Tempo Road Running Shoe",
        "footwear/running shoes",
        120.0,
        brand="Stride",
        description="A cushioned daily trainer for pavement miles and tempo days.",
        sizes=["8", "9", "10", "10.5", "11"],
        sizes_in_stock=["9", "10", "10.5"],
        selling_points=["springy foam midsole", "breathable knit upper"],
        colors=["red"],
        rating=4.4,
        review_count=210,
    ),
    _product(
        "RUN-TRAIL-1",
        "Ridgeback Trail Runner",
        "footwear/trail running shoes",
        135.0,
        brand="Stride",
        description="Aggressive lugs bite into mud and loose rock on steep "
        "mountain trails; a rock plate protects the forefoot.",
        sizes=["9", "10", "11"],
        sizes_in_stock=["11"],
        selling_points=["5 mm lugs for mud", "rock plate"],
        colors=["green"],
    ),
    _product(
        "BOOT-1",
        "Granite Leather Hiking Boot",
        "footwear/hiking boots",
        189.0,
        brand="Ridge & Co",
        description="Full-grain leather boot with ankle support for multi-day backpacking.",
        sizes=["9", "10", "10.5"],
        sizes_in_stock=["10.5"],
        selling_points=["waterproof membrane", "ankle support"],
    ),
    _product(
        "SANDAL-1",
        "Riverbed Sport Sandal",
        "footwear/sandals",
        55.0,
        description="Quick-drying straps for river crossings and summer walks.",
        sizes=["S", "M", "L"],
        sizes_in_stock=["M"],
    ),
    _product(
        "JKT-RAIN-1",
        "Downpour 3L Rain Jacket",
        "outerwear/rain jackets",
        229.0,
        brand="Northfold",
        description="A fully seam-taped three-layer shell that keeps you "
        "dry in heavy, sideways rain.",
        sizes=["S", "M", "L"],
        sizes_in_stock=["S", "M", "L"],
        selling_points=["20k waterproof rating", "pit zips for venting"],
    ),
    _product(
        "JKT-DOWN-1",
        "Loft 800 Down Jacket",
        "outerwear/insulated jackets",
        279.0,
        brand="Northfold",
        description="800-fill goose down puffer, very warm for its weight, for cold, dry days.",
        sizes=["M", "L"],
        sizes_in_stock=["L"],
    ),
    _product(
        "BAG-SLEEP-1",
        "Polar -15C Sleeping Bag",
        "camping/sleeping bags",
        349.0,
        description="A mummy bag rated to minus fifteen for winter camping and snow trips.",
        selling_points=["hydrophobic down", "draft collar"],
    ),
    _product(
        "TENT-1",
        "Trailhead 2-Person Tent",
        "camping/tents",
        299.0,
        description="A light freestanding backpacking tent for two, sets up in minutes.",
        in_stock=False,
    ),
    _product(
        "STOVE-1",
        "Jetflame Camp Stove",
        "camping/cooking",
        89.0,
        description="Boils a litre of water in three minutes on a small gas canister.",
    ),
    _product(
        "BOTTLE-1",
        "Insulated Steel Water Bottle 750 ml",
        "accessories/bottles",
        35.0,
        description="Double-wall vacuum bottle that keeps drinks cold for 24 hours.",
        compare_at_price=45.0,
    ),
]


@pytest.fixture(scope="session")
def weaviate_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedWeaviate]:
    try:
        binary = locate_binary()
    except WeaviateUnavailable as exc:
        pytest.fail(f"the Weaviate server binary is missing: run `{INSTALL_HINT}` ({exc})")
    server = EmbeddedWeaviate(tmp_path_factory.mktemp("weaviate"), binary)
    began = time.monotonic()
    server.start()
    print(f"\nWeaviate started in {time.monotonic() - began:.1f} s")
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def client(weaviate_server: EmbeddedWeaviate) -> AsyncIterator[weaviate.WeaviateAsyncClient]:
    connection = weaviate.use_async_with_local(
        host="127.0.0.1", port=weaviate_server.http_port, grpc_port=weaviate_server.grpc_port
    )
    await connection.connect()
    yield connection
    await connection.close()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder()


@pytest.fixture(scope="session")
async def shop(client: weaviate.WeaviateAsyncClient, embedder: Embedder) -> Catalog:
    catalog = Catalog(client, "ShopTest")
    await catalog.delete_all()
    progress: list[int] = []
    loaded = await catalog.ingest(PRODUCTS, embedder, batch_size=4, on_progress=progress.append)
    assert loaded == len(PRODUCTS)
    assert progress == [4, 4, 2]
    return catalog


async def _search(
    catalog: Catalog,
    embedder: Embedder,
    query: str,
    filters: SearchFilters | None = None,
    limit: int = 10,
) -> list[str]:
    hits = await catalog.search(
        query,
        embedder.embed_query(query),
        filters or SearchFilters(in_stock_only=False),
        limit=limit,
    )
    return [h.product.id for h in hits]


async def test_ingest_counts(shop: Catalog) -> None:
    assert await shop.count() == len(PRODUCTS)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("something to keep me dry when it pours", "JKT-RAIN-1"),
        ("shoes for running on muddy mountain paths", "RUN-TRAIL-1"),
        ("warm bag for sleeping outside in the snow", "BAG-SLEEP-1"),
        ("a flask that keeps my water cold all day", "BOTTLE-1"),
        ("boil water at the campsite", "STOVE-1"),
    ],
)
async def test_hybrid_search_understands_paraphrases(
    shop: Catalog, embedder: Embedder, query: str, expected: str
) -> None:
    ids = await _search(shop, embedder, query, limit=3)
    assert ids[0] == expected, ids


async def test_scores_are_ordered_and_products_round_trip(
    shop: Catalog, embedder: Embedder
) -> None:
    hits = await shop.search(
        "rain jacket",
        embedder.embed_query("rain jacket"),
        SearchFilters(in_stock_only=False),
        limit=5,
    )
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and scores[0] > 0
    assert hits[0].product == next(p for p in PRODUCTS if p.id == "JKT-RAIN-1")


async def test_keyword_only_and_vector_only_search(shop: Catalog, embedder: Embedder) -> None:
    keyword = await shop.search("Granite", None, SearchFilters(), limit=3)
    assert [h.product.id for h in keyword][:1] == ["BOOT-1"]
    vector = await shop.search(
        "", embedder.embed_query("puffy coat for freezing weather"), SearchFilters(), limit=2
    )
    assert vector[0].product.id == "JKT-DOWN-1"
    assert await shop.search("", None, SearchFilters()) == []


async def test_in_stock_filter(shop: Catalog, embedder: Embedder) -> None:
    query = "two person backpacking tent"
    assert (await _search(shop, embedder, query, limit=1)) == ["TENT-1"]
    in_stock = await _search(shop, embedder, query, SearchFilters(in_stock_only=True))
    assert "TENT-1" not in in_stock
    assert len(in_stock) == len(PRODUCTS) - 1


async def test_price_range_filter(shop: Catalog, embedder: Embedder) -> None:
    hits = await shop.search(
        "gear", embedder.embed_query("gear"), SearchFilters(min_price=50, max_price=135), limit=20
    )
    ids = {h.product.id for h in hits}
    assert ids == {"RUN-ROAD-1", "RUN-TRAIL-1", "SANDAL-1", "STOVE-1"}
    assert all(50 <= h.product.price <= 135 for h in hits)


async def test_category_prefix_filter(shop: Catalog, embedder: Embedder) -> None:
    footwear = await _search(
        shop, embedder, "something for my feet", SearchFilters(category="footwear")
    )
    assert set(footwear) == {"RUN-ROAD-1", "RUN-TRAIL-1", "BOOT-1", "SANDAL-1"}
    # Whole path segments only: "Footwear/Running Shoes" is not "footwear/trail running shoes".
    running = await _search(
        shop, embedder, "shoes", SearchFilters(category="Footwear/Running Shoes")
    )
    assert running == ["RUN-ROAD-1"]
    assert await _search(shop, embedder, "shoes", SearchFilters(category="foot")) == []


async def test_size_filter_uses_sizes_in_stock(shop: Catalog, embedder: Embedder) -> None:
    ten_and_half = await _search(shop, embedder, "shoes", SearchFilters(size="10.5"))
    assert set(ten_and_half) == {"RUN-ROAD-1", "BOOT-1"}  # the trail runner has only 11 left
    medium = await _search(shop, embedder, "jacket", SearchFilters(size="m"))
    assert set(medium) == {"SANDAL-1", "JKT-RAIN-1"}


async def test_exclude_ids(shop: Catalog, embedder: Embedder) -> None:
    query = "rain jacket"
    ids = await _search(
        shop,
        embedder,
        query,
        SearchFilters(in_stock_only=False, exclude_ids=["JKT-RAIN-1", "TENT-1"]),
    )
    assert "JKT-RAIN-1" not in ids and "TENT-1" not in ids
    assert len(ids) == len(PRODUCTS) - 2


async def test_filters_combine(shop: Catalog, embedder: Embedder) -> None:
    filters = SearchFilters(
        category="footwear", max_price=150, size="11", exclude_ids=["RUN-ROAD-1"]
    )
    assert await _search(shop, embedder, "running shoes", filters) == ["RUN-TRAIL-1"]


async def test_get_many(shop: Catalog) -> None:
    found = await shop.get_many(["BOOT-1", "NOPE", "TENT-1", "BOOT-1"])
    assert list(found) == ["BOOT-1", "TENT-1"]
    assert found["TENT-1"].in_stock is False
    assert found["BOOT-1"] == next(p for p in PRODUCTS if p.id == "BOOT-1")
    assert await shop.get_many([]) == {}


async def test_reload_replaces_instead_of_duplicating(
    client: weaviate.WeaviateAsyncClient, embedder: Embedder
) -> None:
    catalog = Catalog(client, "ReloadTest")
    await catalog.delete_all()
    assert await catalog.ingest(PRODUCTS, embedder) == len(PRODUCTS)
    edited = [
        p.model_copy(update={"price": 99.0, "title": "Tempo Road Running Shoe v2"})
        if p.id == "RUN-ROAD-1"
        else p
        for p in PRODUCTS
    ]
    assert await catalog.ingest(edited, embedder) == len(PRODUCTS)
    assert await catalog.count() == len(PRODUCTS)
    shoe = (await catalog.get_many(["RUN-ROAD-1"]))["RUN-ROAD-1"]
    assert (shoe.price, shoe.title) == (99.0, "Tempo Road Running Shoe v2")
    # The same SKU twice in one load is one product, within a batch or across batches.
    progress: list[int] = []
    twice = [PRODUCTS[0], PRODUCTS[1], PRODUCTS[0], PRODUCTS[0]]
    assert await catalog.ingest(twice, embedder, batch_size=3, on_progress=progress.append) == 2
    assert progress == [3, 1]
    assert await catalog.count() == len(PRODUCTS)
    await catalog.delete_all()
    assert await catalog.count() == 0


async def test_ensure_collection_is_idempotent(client: weaviate.WeaviateAsyncClient) -> None:
    catalog = Catalog(client, "EnsureTest")
    await catalog.ensure_collection()
    await catalog.ensure_collection()
    assert await catalog.count() == 0
    with pytest.raises(ValueError, match="collection name"):
        Catalog(client, "lowercase")


async def test_flipkart_catalog_loads_and_answers(
    client: weaviate.WeaviateAsyncClient, embedder: Embedder
) -> None:
    require_shared(FLIPKART)
    catalog = Catalog(client, "FlipkartTest")
    await catalog.delete_all()
    report = read_products(FLIPKART)
    began = time.monotonic()
    loaded = await catalog.ingest(report, embedder)
    seconds = time.monotonic() - began
    print(
        f"\nFlipkart: {loaded} products in {seconds:.1f} s ({loaded / seconds:.0f}/s), "
        f"{report.skipped} rows skipped"
    )
    assert loaded == report.read == 1002 - report.skipped
    assert await catalog.count() == loaded

    async def categories(query: str) -> list[str]:
        hits = await catalog.search(query, embedder.embed_query(query), SearchFilters(), limit=5)
        return [h.product.category for h in hits]

    watches = await categories("analog wrist watch for men")
    assert sum(c.startswith("watches") for c in watches) >= 4, watches
    sandals = await categories("comfortable casual sandals for women")
    assert sum(c.startswith("footwear") for c in sandals) >= 4, sandals
    cheap = await catalog.search(
        "watch",
        embedder.embed_query("watch"),
        SearchFilters(category="watches", max_price=500),
        limit=10,
    )
    assert cheap and all(h.product.price <= 500 and h.product.currency == "INR" for h in cheap)


# --- the server itself ------------------------------------------------------------------


def test_locate_binary_explains_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TEXTCART_WEAVIATE_BIN", str(tmp_path / "missing"))
    with pytest.raises(WeaviateUnavailable, match="scripts/install_weaviate.sh"):
        locate_binary()


def test_start_failure_reports_the_log(tmp_path: Path) -> None:
    # A bad setting makes the real server exit at once; the error must show why.
    server = EmbeddedWeaviate(tmp_path, env={"QUERY_DEFAULTS_LIMIT": "not-a-number"})
    with pytest.raises(WeaviateUnavailable, match="exited during start") as info:
        server.start()
    assert "QUERY_DEFAULTS_LIMIT" in str(info.value)


def test_shared_server_is_reused_then_stopped(tmp_path: Path) -> None:
    data_dir = tmp_path / "shared"
    began = time.monotonic()
    ports = ensure_embedded(data_dir)
    started = time.monotonic() - began
    try:
        began = time.monotonic()
        assert ensure_embedded(data_dir) == ports
        reused = time.monotonic() - began
        print(f"\nshared server: started in {started:.1f} s, found again in {reused:.3f} s")
        assert reused < 0.5
        assert (data_dir / "server.json").is_file()
    finally:
        assert stop_embedded(data_dir) is True
    assert not (data_dir / "server.json").exists()
    assert stop_embedded(data_dir) is False


async def test_connect_async_embedded_and_by_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, weaviate_server: EmbeddedWeaviate
) -> None:
    monkeypatch.delenv("WEAVIATE_URL", raising=False)
    monkeypatch.setenv("TEXTCART_DATA_DIR", str(tmp_path))
    local = await connect_async()
    try:
        assert await local.is_ready()
    finally:
        await local.close()
        stop_embedded(tmp_path / "weaviate")

    monkeypatch.setenv("WEAVIATE_URL", f"http://127.0.0.1:{weaviate_server.http_port}")
    monkeypatch.setenv("WEAVIATE_GRPC_URL", f"127.0.0.1:{weaviate_server.grpc_port}")
    remote = await connect_async()
    try:
        assert await remote.is_ready()
        assert (await remote.get_meta())["version"] == "1.35.2"
    finally:
        await remote.close()
    assert not (tmp_path / "weaviate" / "server.json").exists()


def test_connect_sync_by_url(
    monkeypatch: pytest.MonkeyPatch, weaviate_server: EmbeddedWeaviate
) -> None:
    monkeypatch.setenv("WEAVIATE_URL", f"http://127.0.0.1:{weaviate_server.http_port}")
    monkeypatch.setenv("WEAVIATE_GRPC_URL", f"127.0.0.1:{weaviate_server.grpc_port}")
    client = connect()
    try:
        assert client.is_ready()
    finally:
        client.close()


@pytest.mark.parametrize(
    ("url", "grpc_url", "expected"),
    [
        (
            "http://weaviate.internal:8080",
            "",
            ("weaviate.internal", 8080, False, "weaviate.internal", 50051, False, False),
        ),
        (
            "https://abc123.c0.europe-west3.gcp.weaviate.cloud",
            "",
            (
                "abc123.c0.europe-west3.gcp.weaviate.cloud",
                443,
                True,
                "abc123.c0.europe-west3.gcp.weaviate.cloud",
                443,
                True,
                True,
            ),
        ),
        (
            "https://search.shop.example",
            "grpc.shop.example:443",
            ("search.shop.example", 443, True, "grpc.shop.example", 443, True, False),
        ),
        (
            "db.shop.example:8080",
            "http://db.shop.example:50052",
            ("db.shop.example", 8080, True, "db.shop.example", 50052, False, False),
        ),
    ],
)
def test_weaviate_url_settings(
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    grpc_url: str,
    expected: tuple[str, int, bool, str, int, bool, bool],
) -> None:
    monkeypatch.setenv("WEAVIATE_URL", url)
    monkeypatch.setenv("WEAVIATE_GRPC_URL", grpc_url)
    monkeypatch.setenv("WEAVIATE_API_KEY", "k")
    remote = _Remote.from_env()
    assert remote is not None and remote.api_key == "k"
    assert (
        remote.http_host,
        remote.http_port,
        remote.http_secure,
        remote.grpc_host,
        remote.grpc_port,
        remote.grpc_secure,
        remote.cloud,
    ) == expected
