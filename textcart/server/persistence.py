"""The checkpointer and store that `langgraph.json` hands to the LangGraph server.

The same databases the command line uses: PostgreSQL when `TEXTCART_DATABASE_URL` is
set, else the SQLite files in `$TEXTCART_DATA_DIR`. A conversation started in the shell
continues through the API, and both survive a server restart. The server opens each once
per worker thread, so each gets its own connection (or pool).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.store.base import BaseStore
from langgraph.store.postgres.aio import AsyncPostgresStore

from textcart.paths import data_dir
from textcart.persistence import database_url, postgres_pool, sqlite_checkpointer, sqlite_store


@asynccontextmanager
async def checkpointer() -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The thread checkpointer (one thread per shopper)."""
    url = database_url()
    if url is not None:
        async with postgres_pool(url) as pool:
            saver = AsyncPostgresSaver(conn=pool)  # type: ignore[arg-type]
            await saver.setup()
            yield saver
        return
    async with sqlite_checkpointer(data_dir()) as sqlite:
        yield sqlite


@asynccontextmanager
async def store() -> AsyncIterator[BaseStore]:
    """The shopper store (profile, consent, events, message log, inbox, proactive queue)."""
    url = database_url()
    if url is not None:
        async with postgres_pool(url) as pool:
            kv = AsyncPostgresStore(conn=pool)  # type: ignore[arg-type]
            await kv.setup()
            yield kv
        return
    async with sqlite_store(data_dir()) as sqlite:
        yield sqlite
