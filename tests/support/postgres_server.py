"""A real PostgreSQL 15 server for the tests that run on it (started by scripts/postgres.sh).

Import `postgres_server` (a session fixture) and `persistence` (SQLite or PostgreSQL,
parametrised) into a test module. Every test gets a database of its own, so tests never
see each other's shoppers.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "postgres.sh"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class PostgresServer:
    """One running server: its data dir, port and admin URL."""

    datadir: Path
    port: int
    url: str

    def start(self) -> None:
        """Start it (again); returns once it accepts connections."""
        subprocess.run(
            ["bash", str(SCRIPT), "start", str(self.datadir), str(self.port)],
            check=True,
            capture_output=True,
            timeout=300,
        )

    def stop(self) -> None:
        """Stop it (fast shutdown: open sessions are ended)."""
        subprocess.run(
            ["bash", str(SCRIPT), "stop", str(self.datadir), str(self.port)],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def fresh_database(self) -> str:
        """Create an empty database and return its URL."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """PostgreSQL 15 on a free loopback port for this session, stopped at the end."""
    # The server runs as the postgres user, which cannot enter pytest's private tmp dirs.
    datadir = Path(tempfile.mkdtemp(prefix="textcart-pg-"))
    port = free_port()
    started = subprocess.run(
        ["bash", str(SCRIPT), "start", str(datadir), str(port)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert started.returncode == 0, f"scripts/postgres.sh start failed:\n{started.stderr}"
    server = PostgresServer(datadir, port, started.stdout.strip().splitlines()[-1])
    try:
        yield server
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(datadir)], check=False)


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None for SQLite (the default), or a fresh PostgreSQL database's URL."""
    if request.param == "sqlite":
        return None
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.fresh_database()
