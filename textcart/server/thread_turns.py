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
The holder asks, on the connection that holds the lock, which runs of the thread Aegra has
not finished (`unfinished_runs`): a holder that crashed leaves its run to Aegra's reaper,
and the next holder waits for that run rather than start a second one beside it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

# Connections held by turns waiting on (or holding) a thread's lock, per instance.
MAX_WAITING_TURNS = 40
# The connection holding the current task's thread lock: asked on it, a question never
# waits for a pool that lock waiters may have filled.
_HELD: ContextVar[AsyncConnection[Any] | None] = ContextVar("textcart_held_turn", default=None)
# Aegra's run table (aegra-api 0.11, pinned): the runs a worker has not finished.
_UNFINISHED = (
    "SELECT run_id FROM runs WHERE thread_id = %s AND status IN ('pending', 'running') "
    "ORDER BY created_at"
)


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
            held = _HELD.set(conn)
            try:
                yield
            finally:
                _HELD.reset(held)
                await conn.execute(
                    "SELECT pg_advisory_unlock(hashtextextended(%s, 17))", (thread_id,)
                )

    async def unfinished_runs(self, thread_id: str) -> list[str]:
        """Ids of the thread's runs the engine has not finished, oldest first.

        Only inside `turn` for that thread: no turn of ours is running then, so these are
        runs whose holder died (the engine retries them after their lease runs out).
        """
        conn = _HELD.get()
        if conn is None:
            raise RuntimeError("unfinished_runs is asked while holding the thread's turn")
        cursor = await conn.execute(_UNFINISHED, (thread_id,))
        return [str(row[0]) for row in await cursor.fetchall()]

    async def close(self) -> None:
        """Close the pool's connections."""
        if self._opened:
            await self._pool.close()
