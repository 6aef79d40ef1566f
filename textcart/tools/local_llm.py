"""The local LLM: llama-cpp-python's OpenAI-compatible server on this machine.

It serves Qwen2.5-Coder-0.5B-Instruct (Q4_K_M), installed by
`scripts/install_local_model.sh`. It is a small, weak model: it proves the LLM path works
end to end offline, it says nothing about answer quality. `LocalModelServer` is a server
owned by one block of code (tests); `ensure_local_server` shares one long-lived server
between processes through a small state file.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

import httpx

from textcart import settings
from textcart.paths import textcart_home
from textcart.tools import processes

MODEL_FILE = "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
LOCAL_MODEL_NAME = "qwen2.5-coder-0.5b-instruct"
INSTALL_HINT = "run `bash scripts/install_local_model.sh` (or `make local-model`)"
STARTUP_TIMEOUT_S = 120.0
STOP_TIMEOUT_S = 10.0
_STATE_FILE = "local_llm.json"
_LOG_FILE = "local_llm.log"
_LOCK_FILE = "local_llm.lock"
# Detached servers started by this process; kept so they are reaped, not left as zombies.
_started: dict[int, subprocess.Popen[bytes]] = {}


class LocalModelError(RuntimeError):
    """The local model is not installed, or its server would not start."""


def locate_model() -> Path:
    """The GGUF file to serve: `TEXTCART_LOCAL_MODEL` if set, else the installed one."""
    path = settings.current().local_model or textcart_home() / "models" / MODEL_FILE
    if not path.is_file():
        raise LocalModelError(f"local model not found at {path}; {INSTALL_HINT}")
    return path


def _require_llama_cpp() -> None:
    if importlib.util.find_spec("llama_cpp") is None:
        raise LocalModelError(
            f"llama-cpp-python is not installed in {sys.executable}; {INSTALL_HINT}"
        )


def _server_command(model_path: Path, port: int, n_ctx: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--model_alias",
        LOCAL_MODEL_NAME,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
    ]


def _answers(base_url: str, timeout_s: float = 2.0) -> bool:
    """Whether an OpenAI-compatible server at `base_url` lists its models."""
    try:
        return httpx.get(f"{base_url}/models", timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until_ready(
    process: subprocess.Popen[bytes], base_url: str, log_path: Path, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalModelError(
                f"the local model server exited with code {process.returncode} while "
                f"starting; last lines of {log_path}:\n{processes.log_tail(log_path, 20)}"
            )
        if _answers(base_url, timeout_s=1.0):
            return
        time.sleep(0.25)
    raise LocalModelError(
        f"the local model server did not answer {base_url}/models within {timeout_s:g} s; "
        f"last lines of {log_path}:\n{processes.log_tail(log_path, 20)}"
    )


def _spawn(
    model_path: Path, port: int, n_ctx: int, threads: int, log_path: Path
) -> subprocess.Popen[bytes]:
    _require_llama_cpp()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        # Its own session: Ctrl-C in a shell or a test runner does not reach the server, and
        # stopping it can signal the whole process group.
        return subprocess.Popen(
            _server_command(model_path, port, n_ctx, threads),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _terminate(pid: int) -> None:
    """Stop a server's process group: politely, then by force."""
    process = _started.pop(pid, None)
    # Our own child must be waited for (polling reaps it), or it lingers as a zombie.
    exited = None if process is None else (lambda: process.poll() is not None)
    processes.terminate(pid, STOP_TIMEOUT_S, group=True, exited=exited)


class LocalModelServer(processes.OwnedServer):
    """A llama.cpp server owned by the caller: start it, use `base_url`, stop it."""

    def __init__(
        self,
        model_path: Path | None = None,
        port: int | None = None,
        n_ctx: int = 4096,
        threads: int = 2,
        *,
        log_path: Path | None = None,
        startup_timeout_s: float = STARTUP_TIMEOUT_S,
    ) -> None:
        """Describe the server; nothing starts until `start()` or `with`."""
        self.model_path = model_path or locate_model()
        self.port = port or processes.free_port()
        self.n_ctx = n_ctx
        self.threads = threads
        self.log_path = log_path or Path(tempfile.gettempdir()) / f"textcart-llm-{self.port}.log"
        self.startup_timeout_s = startup_timeout_s
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-compatible API root, e.g. http://127.0.0.1:PORT/v1."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model_name(self) -> str:
        """The model name the server answers to."""
        return LOCAL_MODEL_NAME

    def start(self) -> Self:
        """Start the server and wait until it lists its model."""
        if self._process is not None:
            return self
        self._process = _spawn(self.model_path, self.port, self.n_ctx, self.threads, self.log_path)
        try:
            _wait_until_ready(self._process, self.base_url, self.log_path, self.startup_timeout_s)
        except LocalModelError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server if it runs."""
        process, self._process = self._process, None
        if process is not None:
            _started[process.pid] = process
            _terminate(process.pid)


def _is_our_server(pid: int) -> bool:
    """Whether `pid` is still a llama.cpp server, not a process that reused its id."""
    return processes.runs(pid, b"llama_cpp.server")


def _running_server(state_dir: Path, model_path: Path) -> str | None:
    """The base URL of the recorded server if it is alive, serves `model_path` and answers."""
    state = processes.read_state(state_dir / _STATE_FILE)
    if state is None:
        return None
    pid, base_url, port = state.get("pid"), state.get("base_url"), state.get("port")
    if not isinstance(pid, int) or not isinstance(base_url, str) or not _is_our_server(pid):
        return None
    # The server answers one request at a time, /models included: while it generates (up
    # to a minute on two cores with another server running) it lists nothing. Busy is not
    # hung, so a server that is alive and listening is kept; restarting it would cut off
    # the request it is working on and leave every client of the old port failing.
    if state.get("model_path") == str(model_path) and (
        _answers(base_url) or (isinstance(port, int) and processes.listening(port))
    ):
        return base_url
    # Serving another model, or not listening: make way for a fresh server.
    _terminate(pid)
    return None


def ensure_local_server(
    state_dir: Path, *, n_ctx: int = 4096, threads: int = 2, timeout_s: float = STARTUP_TIMEOUT_S
) -> str:
    """The base URL of a running local server: the one recorded in `state_dir`, else a new one.

    A new server is detached: it outlives this process and is shared by every process using
    the same `state_dir` until `stop_local_server` is called. Blocks while it starts
    (a few seconds); call it from a thread when inside an event loop.
    """
    model_path = locate_model()
    with processes.locked(state_dir, _LOCK_FILE):
        running = _running_server(state_dir, model_path)
        if running is not None:
            return running
        port = processes.free_port()
        log_path = state_dir / _LOG_FILE
        process = _spawn(model_path, port, n_ctx, threads, log_path)
        _started[process.pid] = process
        base_url = f"http://127.0.0.1:{port}/v1"
        try:
            _wait_until_ready(process, base_url, log_path, timeout_s)
        except LocalModelError:
            _terminate(process.pid)
            raise
        state = {
            "pid": process.pid,
            "port": port,
            "base_url": base_url,
            "model_path": str(model_path),
        }
        processes.write_state(state_dir / _STATE_FILE, state)
        return base_url


def stop_local_server(state_dir: Path) -> bool:
    """Stop the server recorded in `state_dir`; returns whether one was running."""
    with processes.locked(state_dir, _LOCK_FILE):
        state = processes.read_state(state_dir / _STATE_FILE)
        (state_dir / _STATE_FILE).unlink(missing_ok=True)
        pid = state.get("pid") if state else None
        if not isinstance(pid, int) or not _is_our_server(pid):
            return False
        _terminate(pid)
        return True
