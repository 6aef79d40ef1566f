"""A value read from a whole catalog is kept, and read again after a write or when old."""

from __future__ import annotations

from typing import Any

import pytest

from textcart.tools import catalog_words
from textcart.tools.catalog_cache import PerCatalog


class FakeCatalog:
    """What the cache looks at: the object itself and its write counter."""

    version = 0


async def test_read_once_again_after_a_write_and_behind_the_turn_when_old() -> None:
    reads: list[int] = []
    value = {"T22": "Trailhead 22 Daypack — Black"}

    async def read(catalog: Any) -> dict[str, str]:
        reads.append(catalog.version)
        return dict(value)

    cache = PerCatalog("titles", read, max_age_s=60.0)
    catalog: Any = FakeCatalog()
    first = await cache.get(catalog)
    assert await cache.get(catalog) is first and reads == [0]
    catalog.version = 1  # a load in this process: the next turn sees it
    value["D"] = "Men's Daymile Daily Trainer — Olive"
    assert "D" in await cache.get(catalog) and reads == [0, 1]
    cache.max_age_s = 0.0  # old: served as it is, read again in the background
    value["S"] = "Sunrise Sun Hoodie — Sand"
    assert "S" not in await cache.get(catalog)
    await cache.refreshed()
    cache.max_age_s = 60.0
    assert "S" in await cache.get(catalog) and reads == [0, 1, 1]
    # Another catalog object (a new connection) has values of its own.
    assert await cache.get(FakeCatalog()) is not first and reads == [0, 1, 1, 0]


async def test_a_failed_refresh_keeps_the_value_in_hand(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    async def read(catalog: Any) -> str:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise ConnectionError("Weaviate is gone")
        return "titles"

    cache = PerCatalog("titles", read, max_age_s=0.0)
    catalog: Any = FakeCatalog()
    assert await cache.get(catalog) == "titles"
    assert await cache.get(catalog) == "titles"  # stale: a refresh starts, and fails
    await cache.refreshed()
    assert "reading the catalog's titles again failed: Weaviate is gone" in caplog.text
    assert await cache.get(catalog) == "titles"  # the next turn tries again
    await cache.refreshed()
    assert calls == 3


async def test_model_names_index_the_titles_read(monkeypatch: pytest.MonkeyPatch) -> None:
    async def titles(catalog: Any) -> dict[str, str]:
        return {"D-W": "Women's Daymile Daily Trainer — Rose"}

    monkeypatch.setattr(catalog_words, "_titles", titles)
    names = await catalog_words.model_names(FakeCatalog())
    assert names.named("is the daymile wide?") == [(names.named("daymile")[0][0], "D-W")]
