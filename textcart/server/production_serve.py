"""`textcart serve --production`: the graph on Aegra, with PostgreSQL and Redis.

Aegra (`aegra-api`, Apache-2.0) serves the LangGraph API from PostgreSQL (threads, runs,
checkpoints, store) and hands run ids to workers through Redis, with leases, heartbeats
and a reaper that re-queues the runs of a worker that died. It needs Python 3.12, so it
lives in a virtualenv of its own (`scripts/install_aegra.sh`, default `.venv-aegra`).

One command starts, on this machine:
- PostgreSQL (`scripts/postgres.sh`) and Redis (`scripts/redis.sh`) in the data directory,
  unless `TEXTCART_DATABASE_URL` / `REDIS_URL` name servers that already run (the way to
  share them between machines);
- Aegra's migrations, once;
- `--instances` server processes on one port (uvicorn workers sharing the socket), each
  with its own run workers, lease reaper, webhook, proactive scheduler and inbox recovery.
  The uvicorn supervisor starts a new process when one dies.

The checkpointer and store are the project's own PostgreSQL ones: Aegra writes
checkpoints with `langgraph-checkpoint-postgres` on the same database the project's
`AsyncPostgresSaver`/`AsyncPostgresStore` use, and the store API answers from the
project's store (`textcart.server.production`).
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import IO

from textcart import settings
from textcart.server.serve import SERVER_ENV, supervise

REPO = Path(__file__).resolve().parents[2]
DEFAULT_INSTANCES = 2
# Aegra's lease settings, shortened from its defaults (30 s lease, 10 s heartbeat, 15 s
# reaper): a run whose worker died is taken over within about 15 s rather than 45 s.
ENGINE_DEFAULTS = {
    "LEASE_DURATION_SECONDS": "10",
    "HEARTBEAT_INTERVAL_SECONDS": "3",
    "REAPER_INTERVAL_SECONDS": "5",
    "WORKER_COUNT": "2",
    "N_JOBS_PER_WORKER": "8",
    # Connections per instance: Aegra's metadata pool, its checkpoint pool.
    "SQLALCHEMY_POOL_SIZE": "5",
    "SQLALCHEMY_MAX_OVERFLOW": "10",
    "LANGGRAPH_MIN_POOL_SIZE": "1",
    "LANGGRAPH_MAX_POOL_SIZE": "10",
    # A run created but never handed to Redis (its instance died in between) is pushed
    # again after this long, not Aegra's 120 s.
    "STUCK_PENDING_THRESHOLD_SECONDS": "30",
    "CRON_ENABLED": "false",
    "LOG_LEVEL": "WARNING",
    "LOG_VERBOSITY": "standard",
}
POSTGRES_MAX_CONNECTIONS = 400


def aegra_python() -> Path:
    """The Python of the Aegra virtualenv (`TEXTCART_AEGRA_VENV`, default `.venv-aegra`)."""
    venv = settings.current().aegra_venv or REPO / ".venv-aegra"
    python = venv / "bin" / "python"
    if not python.exists():
        raise FileNotFoundError(
            f"no Aegra virtualenv at {venv}: run `make aegra` (scripts/install_aegra.sh)"
        )
    return python


def service_dir(directory: Path) -> Path:
    """Where PostgreSQL and Redis keep their data for `directory`.

    PostgreSQL runs as the `postgres` user, which must reach its data directory: a pytest
    or private temporary directory is not traversable, so the data goes under /tmp, named
    after `directory` so one data directory always finds its own servers again.
    """
    name = str(directory.resolve()).strip("/").replace("/", "_")[-80:]
    return Path(tempfile.gettempdir()) / f"textcart-services-{name}"


def _script(name: str, action: str, datadir: Path, port: int) -> str:
    env = dict(os.environ)
    if name == "postgres.sh":
        env["POSTGRES_OPTIONS"] = f"-c max_connections={POSTGRES_MAX_CONNECTIONS}"
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / name), action, str(datadir), str(port)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    return done.stdout.strip()


def local_database_url(pg_port: int) -> str:
    """The URL of the PostgreSQL `start_services` starts on `pg_port` (`scripts/postgres.sh`).

    Commands that read the production store from another process (`textcart attribution`,
    `shopper export`, a benchmark's accounting) take it as `TEXTCART_DATABASE_URL`.
    """
    return f"postgresql://postgres@127.0.0.1:{pg_port}/postgres"


def start_services(directory: Path, pg_port: int, redis_port: int) -> tuple[str, str]:
    """Start (or find) PostgreSQL and Redis for `directory`; returns their URLs.

    A server named by `TEXTCART_DATABASE_URL` or `REDIS_URL` is used as it is; the ones
    started here are recorded in the service directory for `stop_services`.
    """
    base = service_dir(directory)
    base.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    started: dict[str, int] = {}
    configured = settings.current()
    database = configured.database_url
    if not database:
        database = _script("postgres.sh", "start", base / "postgres", pg_port)
        started["postgres"] = pg_port
    redis = configured.redis_url
    if not redis:
        redis = _script("redis.sh", "start", base / "redis", redis_port)
        started["redis"] = redis_port
    (base / "started.json").write_text(json.dumps(started))
    return database, redis


def stop_services(directory: Path) -> bool:
    """Stop the PostgreSQL and Redis that `start_services` started for `directory`."""
    record = service_dir(directory) / "started.json"
    if not record.exists():
        return False
    started = json.loads(record.read_text())
    if "redis" in started:
        _script("redis.sh", "stop", record.parent / "redis", started["redis"])
    if "postgres" in started:
        _script("postgres.sh", "stop", record.parent / "postgres", started["postgres"])
    record.unlink()
    return bool(started)


def engine_env(
    directory: Path, host: str, port: int, database_url: str, redis_url: str
) -> dict[str, str]:
    """The environment of every Aegra instance (the caller's own settings win)."""
    env = {**ENGINE_DEFAULTS, **os.environ, **settings.child_environment(), **SERVER_ENV}
    env.update(
        AEGRA_CONFIG=str(REPO / "aegra.json"),
        DATABASE_URL=database_url,
        TEXTCART_DATABASE_URL=database_url,
        REDIS_BROKER_ENABLED="true",
        REDIS_URL=redis_url,
        # Rate limits count each number once across every instance.
        TEXTCART_RATE_LIMIT_STORAGE=f"async+{redis_url}",
        RUN_MIGRATIONS_ON_STARTUP="false",
        TEXTCART_DATA_DIR=str(directory),
        # Webhook and scheduler turns go through the engine's runs API on this port.
        TEXTCART_RUNS_URL=f"http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port}",
        PYTHONPATH=str(REPO),
    )
    return env


# Migrations, then the default assistant of each graph, once: instances started together
# on a fresh database race to insert it, and uvicorn stops every instance when one fails
# to start (seen: `UniqueViolationError: assistant_pkey`, "Child process failed to start").
_PREPARE = """
import asyncio
from aegra_api.core.database import db_manager
from aegra_api.core.migrations import run_migrations_async
from aegra_api.services.langgraph_service import get_langgraph_service

async def prepare():
    await run_migrations_async()
    await db_manager.initialize()
    try:
        await get_langgraph_service().initialize()
    finally:
        await db_manager.close()

asyncio.run(prepare())
"""


def migrate(env: dict[str, str], output: IO[bytes] | None = None) -> None:
    """Create or upgrade Aegra's tables and its default assistant, before any instance."""
    subprocess.run(
        [str(aegra_python()), "-c", _PREPARE],
        check=True,
        cwd=REPO,
        env=env,
        stdout=output,
        stderr=output,
    )


def engine_command(host: str, port: int, instances: int) -> list[str]:
    """The uvicorn command line: `instances` Aegra processes on one port."""
    return [
        str(aegra_python()),
        "-m",
        "uvicorn",
        "aegra_api.main:app",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(instances),
        "--no-access-log",
        "--timeout-graceful-shutdown",
        "40",
    ]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def instance_pids(serve_pid: int) -> list[int]:
    """Pids of the server instances under `textcart serve --production` (Linux /proc).

    `serve` runs uvicorn, whose instances are `multiprocessing` spawned children: what a
    crash test or the load benchmark kills to lose one instance.
    """
    found = []
    for engine in _children(serve_pid):
        for child in _children(engine):
            try:
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            if b"multiprocessing.spawn" in cmdline:
                found.append(child)
    return found


def run_production(
    directory: Path,
    host: str,
    port: int,
    instances: int,
    env: dict[str, str],
    log_file: Path | None = None,
) -> int:
    """Run the engine until it exits or is signalled; returns its exit code.

    SIGTERM drains: each instance finishes (or hands back to the queue) the runs it holds.
    """
    output = log_file.open("ab") if log_file else None
    migrate(env, output)
    process = subprocess.Popen(
        engine_command(host, port, instances),
        cwd=REPO,
        env=env,
        stdout=output,
        stderr=output,
    )

    url = f"http://{host}:{port}"
    return supervise(process, url, "textcart production server", 240, 60, output)
