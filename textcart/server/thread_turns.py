"""One turn at a time per shopper thread, across every production server instance.

`langgraph dev` honours `multitask_strategy="enqueue"`: a second text that arrives while
the first is being answered waits on the shopper's thread and runs after it. Aegra 0.11
accepts the field but does not act on it (its issue #253), so two texts from one shopper
would run at once on one thread, on any instance, and a carrier's retry of one text could
reach two instances at once. This holds a PostgreSQL advisory lock named after the thread
while the inbox checks a text and runs its turn (and while the scheduler runs a proactive
turn), so the second text waits for the first and the retry finds it answered. PostgreSQL grants
a lock to its waiters in the order they asked, and releases it when the holding
connection closes, so a crashed instance never leaves a shopper locked out.

It is a lock, not a queue: the runs themselves are queued, leased and recovered by Aegra.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

# Connections held by turns waiting on (or holding) a thread's lock, per instance.
MAX_WAITING_TURNS = 40


class ThreadTurns:
    """Advisory locks per thread id on the shared PostgreSQL database."""

    def __init__(self, url: str, max_size: int = MAX_WAITING_TURNS) -> None:
        """Take connections from a pool on `url`, opened on first use."""
        self._pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            url, min_size=0, max_size=max_size, open=False, kwargs={"autocommit": True}
        )
        self._opened = False

    @asynccontextmanager
    async def turn(self, thread_id: str) -> AsyncIterator[None]:
        """Hold the thread's lock while the body runs; wait for it behind earlier turns."""
        if not self._opened:
            await self._pool.open()
            self._opened = True
        async with self._pool.connection(timeout=600) as conn:
            await conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, 17))", (thread_id,))
            try:
                yield
            finally:
                await conn.execute(
                    "SELECT pg_advisory_unlock(hashtextextended(%s, 17))", (thread_id,)
                )

    async def close(self) -> None:
        """Close the pool's connections."""
        if self._opened:
            await self._pool.close()
