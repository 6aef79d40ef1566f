"""A value read from a whole catalog, kept per catalog object and read again when stale.

The title index that names models (`catalog_words`) and the keys Shopify's line items are
matched by (`shopify_lines`) each read every product once. A turn or a webhook must not
wait for that read each time: the value is kept, read again at once after a write in this
process (`Catalog.version` changed), and in the background once older than `max_age_s`
(a load by another process), while the value in hand still serves.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from textcart.tools.catalog import Catalog

T = TypeVar("T")
log = logging.getLogger("textcart.catalog")


class PerCatalog(Generic[T]):
    """`read(catalog)`'s value, kept per catalog object.

    Weakly: a catalog dropped with its connection takes its value with it. No lock: two
    turns of a new catalog may both read it once.
    """

    def __init__(
        self, what: str, read: Callable[[Catalog], Awaitable[T]], max_age_s: float = 60.0
    ) -> None:
        """Keep what `read` returns; `what` names it in the log when a refresh fails."""
        self.what = what
        self._read_value = read
        self.max_age_s = max_age_s
        self._kept: weakref.WeakKeyDictionary[Catalog, tuple[float, int, T]] = (
            weakref.WeakKeyDictionary()
        )
        self._refreshing: weakref.WeakKeyDictionary[Catalog, asyncio.Task[None]] = (
            weakref.WeakKeyDictionary()
        )

    async def get(self, catalog: Catalog) -> T:
        """The value for `catalog`: kept, or read now when it has none or a write made it old."""
        kept = self._kept.get(catalog)
        if kept and kept[1] == catalog.version:
            if time.monotonic() - kept[0] >= self.max_age_s and not self._under_way(catalog):
                self._refreshing[catalog] = asyncio.create_task(self._refresh(catalog))
            return kept[2]
        return await self._read(catalog)

    def _under_way(self, catalog: Catalog) -> bool:
        # A task of an event loop that has ended never finishes: it does not count.
        task = self._refreshing.get(catalog)
        return task is not None and not task.done() and task.get_loop().is_running()

    async def refreshed(self) -> None:
        """Wait for the background reads under way (a test, or a process about to end)."""
        running = asyncio.get_running_loop()
        under_way = [t for t in self._refreshing.values() if t.get_loop() is running]
        await asyncio.gather(*under_way, return_exceptions=True)

    async def _read(self, catalog: Catalog) -> T:
        version = catalog.version
        value = await self._read_value(catalog)
        self._kept[catalog] = (time.monotonic(), version, value)
        return value

    async def _refresh(self, catalog: Catalog) -> None:
        try:
            await self._read(catalog)
        except Exception as exc:  # noqa: BLE001 - the value in hand serves until the next try
            log.warning("reading the catalog's %s again failed: %s", self.what, exc)
