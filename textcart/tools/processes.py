"""Local server processes: ports, pid files, locks.

The embedded Weaviate and the local model server are both subprocesses on 127.0.0.1 that
several textcart processes share through a state file; these are the pieces they have in
common.
"""

from __future__ import annotations

import abc
import contextlib
import fcntl
import json
import logging
import os
import signal
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

log = logging.getLogger("textcart.processes")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def listening(port: int, timeout_s: float = 1.0) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:`port` (busy or not)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout_s):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def locked(directory: Path, lock_name: str) -> Iterator[None]:
    """Hold an exclusive lock on `directory/lock_name`: one process at a time starts or stops."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / lock_name).open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def read_state(path: Path) -> dict[str, Any] | None:
    """The JSON object recorded at path, or None when it is missing or unreadable."""
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Record state at path as JSON; readers see the old record or the new one, never half."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(state, f, indent=2)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def pid_alive(pid: int) -> bool:
    """Whether pid is a live process; a zombie (ended, not yet reaped) counts as dead."""
    proc = Path(f"/proc/{pid}")
    if proc.exists():
        try:
            # The state letter follows the command name, which may itself hold ')'.
            return (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def runs(pid: int, program: bytes) -> bool:
    """Whether pid is alive and its command line names program, not a reused process id.

    Without /proc to read the command line from, being alive is all there is to go on.
    """
    if not pid_alive(pid):
        return False
    if not Path("/proc/self").exists():
        return True
    try:
        return program in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def terminate(
    pid: int,
    timeout_s: float,
    *,
    group: bool = False,
    exited: Callable[[], bool] | None = None,
) -> None:
    """SIGTERM pid (its whole process group when group), wait, then SIGKILL it and wait again.

    `exited` tells when it has ended; the default asks `pid_alive`. A child of this process
    needs its own (its Popen's poll), or it stays a zombie that is never reaped.
    """
    send = os.killpg if group else os.kill
    ended = exited or (lambda: not pid_alive(pid))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            send(pid, sig)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if ended():
                return
            time.sleep(0.1)
        if sig == signal.SIGTERM:
            log.warning("pid %d ignored SIGTERM for %.0f s; killing it", pid, timeout_s)


def log_tail(path: Path, lines: int, start: int = 0) -> str:
    """The last lines a log file got after byte offset start, for error messages."""
    try:
        with path.open("rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


class OwnedServer(abc.ABC):
    """A server subprocess owned by one block of code: `with` starts it and stops it."""

    @abc.abstractmethod
    def start(self) -> Self:
        """Start the server and wait until it is ready."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop the server if it runs."""

    def __enter__(self) -> Self:
        """Start the server for a `with` block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server at the end of the `with` block."""
        self.stop()
