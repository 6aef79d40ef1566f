"""`textcart serve`: the LangGraph server on a pinned port, with its services ready.

`langgraph dev` quietly moves to another port when the one asked for is taken, which
would leave a webhook or a test talking to some other process. This checks the port
first and fails loudly, prepares the embedded Weaviate with the catalog (and the demo
shoppers), then runs `langgraph dev` with the offline settings and waits until the
server answers on that port.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import IO

import httpx

from textcart import settings

# Offline and private by default: no analytics, no version check, no tracing.
SERVER_ENV = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "LANGSMITH_TRACING": "false",
}
DEFAULT_PORT = 2024


class PortTaken(RuntimeError):
    """The pinned port already has a listener."""


def config_path() -> Path:
    """The project's `langgraph.json` (next to the `textcart` package in a checkout)."""
    path = Path(__file__).resolve().parents[2] / "langgraph.json"
    if not path.is_file():
        raise FileNotFoundError(f"no langgraph.json at {path}; run from a textcart checkout")
    return path


def ensure_port_free(host: str, port: int) -> None:
    """Raise PortTaken when something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortTaken(
                f"port {port} on {host} is taken ({exc.strerror}); stop what uses it or pass --port"
            ) from None


def server_command(host: str, port: int, jobs: int) -> list[str]:
    """The `langgraph dev` command line for this project."""
    langgraph = Path(sys.executable).with_name("langgraph")
    return [
        str(langgraph),
        "dev",
        "--config",
        str(config_path()),
        "--host",
        host,
        "--port",
        str(port),
        "--no-browser",
        "--no-reload",
        "--n-jobs-per-worker",
        str(jobs),
    ]


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    """Wait until the server answers `/ok`; raise if it dies or takes too long."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode} at start")
        try:
            if httpx.get(f"{url}/ok", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"the server did not answer on {url} within {timeout_s:.0f} s")


def run_server(
    directory: Path, host: str, port: int, jobs: int, log_file: Path | None = None
) -> int:
    """Run `langgraph dev` in `directory` until it exits or is signalled; returns its code.

    The server keeps its own run metadata under `directory/.langgraph_api`; threads and
    shopper stores go to the project's SQLite files in `directory` (see
    `textcart.server.persistence`).
    """
    env = {
        **os.environ,
        **settings.child_environment(),
        **SERVER_ENV,
        "TEXTCART_DATA_DIR": str(directory),
    }
    output = log_file.open("ab") if log_file else None
    process = subprocess.Popen(
        server_command(host, port, jobs), cwd=directory, env=env, stdout=output, stderr=output
    )
    return supervise(process, f"http://{host}:{port}", "textcart server", 180, 15, output)


def supervise(
    process: subprocess.Popen[bytes],
    url: str,
    name: str,
    ready_s: float,
    stop_s: float,
    output: IO[bytes] | None,
) -> int:
    """Forward SIGINT/SIGTERM to a started server, wait until it answers, then until it exits.

    If it does not come up (or we are interrupted), it is stopped: terminated, then killed
    after `stop_s`. Returns its exit code; `output` (its log file) is closed at the end.
    """

    def forward(signum: int, _frame: FrameType | None) -> None:
        process.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    try:
        wait_ready(url, process, timeout_s=ready_s)
        print(f"{name} ready on {url}", flush=True)
        return process.wait()
    except BaseException:
        process.terminate()
        try:
            process.wait(timeout=stop_s)
        except subprocess.TimeoutExpired:
            process.kill()
        raise
    finally:
        if output is not None:
            output.close()
