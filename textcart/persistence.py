"""Where threads and shopper stores live: SQLite files by default.

Two database files in one directory: the checkpointer (one thread per shopper) and the
key-value store (profile, consent, events, message log), each with its own writer.
Vectors stay in Weaviate, so the store needs no SQLite extensions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.store.sqlite.aio import AsyncSqliteStore


@asynccontextmanager
async def open_sqlite(
    directory: Path,
) -> AsyncIterator[tuple[AsyncSqliteSaver, AsyncSqliteStore]]:
    """Open (creating if needed) `threads.sqlite` and `shoppers.sqlite` in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    async with (
        AsyncSqliteSaver.from_conn_string(str(directory / "threads.sqlite")) as checkpointer,
        AsyncSqliteStore.from_conn_string(str(directory / "shoppers.sqlite")) as store,
    ):
        await checkpointer.setup()
        await store.setup()
        yield checkpointer, store
