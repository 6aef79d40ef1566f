"""The rate limits on a real Redis, as the production server shares them across instances.

Under a kill run the survivor received every shopper's text at once, more counts than the
pool had connections, and redis-py's pool raised "Too many connections" instead of making
them wait: the limiter let those texts through uncounted (and, before that, the webhook
answered them 500). The shared storage's pool now makes a count wait for a connection.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from postgres_server import free_port

from textcart import settings
from textcart.server import security
from textcart.server.security import RateLimits

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "redis.sh"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    """A Redis server on a free loopback port (scripts/redis.sh), stopped at the end."""
    datadir, port = Path(tempfile.mkdtemp(prefix="textcart-redis-")), free_port()
    started = subprocess.run(
        ["bash", str(SCRIPT), "start", str(datadir), str(port)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert started.returncode == 0, f"scripts/redis.sh start failed:\n{started.stderr}"
    try:
        yield started.stdout.strip().splitlines()[-1]
    finally:
        subprocess.run(["bash", str(SCRIPT), "stop", str(datadir), str(port)], timeout=60)
        shutil.rmtree(datadir, ignore_errors=True)


async def test_a_burst_larger_than_the_pool_waits_and_is_counted(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(security, "SHARED_CONNECTIONS", 4)
    settings.configure(rate_limit_storage=f"async+{redis_url}")
    limits = RateLimits(inbound="20/minute", events="20/minute")
    # 200 counts at once through 4 connections: 20 texts from each of 10 numbers.
    numbers = [f"s_burst_{i % 10}" for i in range(200)]
    results = await asyncio.gather(*(limits.inbound_text(n, "any boots?") for n in numbers))
    assert results == [None] * 200
    assert "rate limit not counted" not in caplog.text
    # Every one of them was counted in Redis: the 21st text from a number is over its rate.
    limited = await limits.inbound_text("s_burst_0", "any boots?")
    assert limited is not None and "20 per 1 minute" in limited.limit
