"""Where threads and shopper stores live: SQLite files by default, PostgreSQL in production.

SQLite: two database files in one directory, the checkpointer (one thread per shopper) and
the key-value store (profile, consent, events, message log), each with its own writer.

PostgreSQL: chosen by a connection string (`postgresql://...`, from an argument or
`TEXTCART_DATABASE_URL`). The checkpointer and the store share one connection pool that
checks each connection before handing it out, so a database restart costs the next query
a reconnect instead of an error. Vectors stay in Weaviate either way, so neither store
needs a vector extension.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.store.base import BaseStore, Op, Result
from langgraph.store.postgres.aio import AsyncPostgresStore
from langgraph.store.sqlite.aio import AsyncSqliteStore
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from textcart import settings

# aiosqlite logs every statement with its parameters at DEBUG: phone numbers and texts in
# clear. Capping it at INFO keeps `-v`/DEBUG logging of our own code safe to share.
logging.getLogger("aiosqlite").setLevel(logging.INFO)
# How long a SQLite writer waits for another connection's write to finish.
SQLITE_BUSY_TIMEOUT_S = 30.0
SQLITE_LOCK_RETRIES = 12
# One turn holds a connection only per query, and the checkpointer and store share the
# pool, so a handful serves many concurrent turns without crowding a small server.
POOL_MAX_SIZE = 10
# How long a query waits for a connection (e.g. while the server restarts) before failing.
POOL_TIMEOUT_S = 30.0


def database_url(explicit: str | None = None) -> str | None:
    """The PostgreSQL connection string to use: the argument, else the environment, else None."""
    url = (explicit or settings.current().database_url).strip()
    return url or None


@asynccontextmanager
async def open_sqlite(
    directory: Path,
) -> AsyncIterator[tuple[AsyncSqliteSaver, AsyncSqliteStore]]:
    """Open (creating if needed) `threads.sqlite` and `shoppers.sqlite` in `directory`."""
    async with (
        sqlite_checkpointer(directory) as checkpointer,
        sqlite_store(directory) as store,
    ):
        yield checkpointer, store


class LockTolerantSqliteStore(AsyncSqliteStore):
    """The SQLite store, retrying a batch that meets another connection's write lock.

    The store reads and writes in one deferred transaction; when two connections (the
    server opens one per worker thread) both read and then write, SQLite refuses one at
    once ("database is locked") instead of waiting. Store batches are upserts, deletes
    and reads, so running the whole batch again is safe.
    """

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        """Run the batch, retrying with jittered backoff while the database is locked."""
        pending = list(ops)
        for attempt in range(SQLITE_LOCK_RETRIES):
            try:
                return await super().abatch(pending)
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == SQLITE_LOCK_RETRIES - 1:
                    raise
            with contextlib.suppress(sqlite3.Error):
                await self.conn.execute("ROLLBACK")
            await asyncio.sleep(0.02 * 2 ** min(attempt, 6) * random.uniform(0.5, 1.5))
        raise AssertionError("unreachable")


async def _sqlite_connect(path: Path, **kwargs: Any) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(str(path), timeout=SQLITE_BUSY_TIMEOUT_S, **kwargs)
    # WAL lets readers work beside a writer; a busy timeout makes writers queue.
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
    await conn.execute("PRAGMA synchronous=NORMAL")
    return conn


@asynccontextmanager
async def sqlite_checkpointer(directory: Path) -> AsyncIterator[AsyncSqliteSaver]:
    """The thread checkpointer on `directory/threads.sqlite`, ready to share the file."""
    directory.mkdir(parents=True, exist_ok=True)
    conn = await _sqlite_connect(directory / "threads.sqlite")
    try:
        saver = AsyncSqliteSaver(conn)
        await saver.setup()
        yield saver
    finally:
        await conn.close()


@asynccontextmanager
async def sqlite_store(directory: Path) -> AsyncIterator[AsyncSqliteStore]:
    """The shopper store on `directory/shoppers.sqlite`, ready to share the file."""
    directory.mkdir(parents=True, exist_ok=True)
    # The store issues its own BEGIN/COMMIT, so the driver must stay in autocommit.
    conn = await _sqlite_connect(directory / "shoppers.sqlite", isolation_level=None)
    try:
        store = LockTolerantSqliteStore(conn)
        await store.setup()
        yield store
    finally:
        await conn.close()


@asynccontextmanager
async def postgres_pool(
    url: str, *, max_size: int = POOL_MAX_SIZE
) -> AsyncIterator[AsyncConnectionPool[AsyncConnection[dict[str, Any]]]]:
    """A connection pool set up the way LangGraph's PostgreSQL savers need it.

    Autocommit and dict rows are what the savers expect; prepared statements are off
    because a pooler (PgBouncer) in front of the server would break them. `check` pings
    each connection as it leaves the pool, so connections broken by a server restart are
    replaced rather than handed to a query.
    """
    pool: AsyncConnectionPool[AsyncConnection[dict[str, Any]]] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=max_size,
        timeout=POOL_TIMEOUT_S,
        kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
        check=AsyncConnectionPool.check_connection,
        open=False,
    )
    async with pool:
        await pool.wait(timeout=POOL_TIMEOUT_S)
        yield pool


@asynccontextmanager
async def open_postgres(
    url: str, *, max_size: int = POOL_MAX_SIZE
) -> AsyncIterator[tuple[AsyncPostgresSaver, AsyncPostgresStore]]:
    """Open the PostgreSQL checkpointer and store on one pool, creating their tables."""
    async with postgres_pool(url, max_size=max_size) as pool:
        checkpointer = AsyncPostgresSaver(conn=pool)  # type: ignore[arg-type]
        store = AsyncPostgresStore(conn=pool)  # type: ignore[arg-type]
        await checkpointer.setup()
        await store.setup()
        yield checkpointer, store


@asynccontextmanager
async def open_persistence(
    directory: Path, url: str | None = None
) -> AsyncIterator[tuple[BaseCheckpointSaver[Any], BaseStore]]:
    """PostgreSQL when a connection string is given (or in the environment), else SQLite."""
    resolved = database_url(url)
    if resolved is not None:
        async with open_postgres(resolved) as (pg_checkpointer, pg_store):
            yield pg_checkpointer, pg_store
    else:
        async with open_sqlite(directory) as (checkpointer, store):
            yield checkpointer, store
