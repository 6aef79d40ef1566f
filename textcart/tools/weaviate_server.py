"""Weaviate: the embedded server textcart starts itself (connections: `weaviate_client`).

By default textcart runs its own Weaviate server (a pinned build of `weaviate-server`, built
from the Go module proxy by `scripts/install_weaviate.sh`) as a subprocess with its data on
local disk. One server per data directory is shared by every process that needs it: the
first one starts it detached and records its pid and ports in the data directory; later
ones find it there. `WEAVIATE_URL` (plus `WEAVIATE_API_KEY`) points textcart at any other
Weaviate instead: a cluster, or Weaviate Cloud.

weaviate-client's own `connect_to_embedded()` downloads a release binary at run time; this
module never downloads anything.

Environment:
- `WEAVIATE_URL`: use that Weaviate (`https://...` for TLS; `*.weaviate.cloud` hosts go
  through the Weaviate Cloud helper), with `WEAVIATE_API_KEY` if set. Its gRPC endpoint is
  `WEAVIATE_GRPC_URL` (`host:port`, `https://host:port` for TLS), else the same host on 50051
  (plain HTTP) or 443 (TLS).
- `TEXTCART_DATA_DIR` (default `./var`): the embedded server keeps its data in `weaviate/`.
- `TEXTCART_WEAVIATE_BIN`: a weaviate-server binary to run instead of the pinned build in
  `$TEXTCART_HOME/bin` (default `~/.cache/textcart/bin`).
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import socket
import subprocess
import time
import urllib.request
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from weaviate.classes.init import Timeout

from textcart import paths, settings
from textcart.tools import processes

WEAVIATE_VERSION = "v1.35.2"
INSTALL_HINT = "bash scripts/install_weaviate.sh"
LOG_NAME = "weaviate.log"
STATE_NAME = "server.json"
LOCK_NAME = "server.lock"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
HUNG_AFTER_S = 15.0
CLIENT_TIMEOUT = Timeout(init=3, query=15, insert=60)
# The environment a server inherits: what the Go runtime needs, nothing that Weaviate reads
# as its own configuration (a stray PORT, HOST or CLUSTER_JOIN would change its behaviour).
_INHERITED_ENV = ("PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL")

log = logging.getLogger("textcart.weaviate")
# weaviate-client is pinned to 4.16.2 on purpose (see README: the grpcio version trap); its
# "a newer client exists" warning on every connect is noise, not advice.
warnings.filterwarnings("ignore", message=r"Dep005", category=DeprecationWarning)
# A proxy from the environment must never see requests meant for 127.0.0.1.
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class WeaviateUnavailable(RuntimeError):
    """The Weaviate binary is missing, or the server would not start or answer."""


def locate_binary() -> Path:
    """Find the weaviate-server to run: `$TEXTCART_WEAVIATE_BIN`, else the pinned build.

    Raises WeaviateUnavailable, naming the install command, when it is not there.
    """
    override = settings.current().weaviate_bin
    binary = override or paths.textcart_home() / "bin" / f"weaviate-server-{WEAVIATE_VERSION}"
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        source = "TEXTCART_WEAVIATE_BIN" if override else "the pinned build"
        raise WeaviateUnavailable(
            f"no Weaviate server binary at {binary} ({source}). Build it once with "
            f"`{INSTALL_HINT}` (Go required, ~4 minutes), or set WEAVIATE_URL to use "
            "another Weaviate."
        )
    return binary


def _bindable(port: int) -> bool:
    """Tell whether port is free on 127.0.0.1 for TCP and UDP (memberlist uses both)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", port))
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.bind(("127.0.0.1", port))
    except OSError:
        return False
    return True


def _free_ports(taken: set[int], count: int) -> int:
    """Find `count` consecutive free ports on 127.0.0.1, none in taken; return the first."""
    while True:
        first = processes.free_port()
        block = range(first, first + count)
        if block[-1] < 65536 and taken.isdisjoint(block) and all(map(_bindable, block)):
            taken.update(block)
            return first


def _is_ready(http_port: int, timeout_s: float = 2.0) -> bool:
    """Tell whether the server on http_port answers its readiness probe."""
    request = urllib.request.Request(f"http://127.0.0.1:{http_port}/v1/.well-known/ready")
    try:
        with _NO_PROXY.open(request, timeout=timeout_s) as response:
            return bool(response.status == 200)
    except (OSError, http.client.HTTPException):
        return False


@dataclass(frozen=True)
class _Ports:
    http: int
    grpc: int
    gossip: int
    data: int
    raft: int
    raft_rpc: int

    @classmethod
    def pick(cls) -> _Ports:
        taken: set[int] = set()
        http_port, grpc_port = _free_ports(taken, 1), _free_ports(taken, 1)
        # Weaviate finds a node's data port at gossip + 1 and its Raft RPC port at Raft + 1
        # whatever they are set to: any other choice leaves the node unable to join itself.
        gossip, raft = _free_ports(taken, 2), _free_ports(taken, 2)
        return cls(http_port, grpc_port, gossip, gossip + 1, raft, raft + 1)


class EmbeddedWeaviate(processes.OwnedServer):
    """A Weaviate server subprocess on 127.0.0.1 with its data in `data_dir`.

    Every port is chosen free at start. HTTP, gossip and Raft listen on 127.0.0.1 only;
    weaviate-server 1.35 binds gRPC and its cluster data port on all interfaces and has no
    setting to change that. A detached server (`detached=True`) runs in its own session so
    it outlives the process that started it.
    """

    def __init__(
        self,
        data_dir: Path,
        binary: Path | None = None,
        *,
        detached: bool = False,
        start_timeout_s: float = START_TIMEOUT_S,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """Describe a server; nothing runs until `start`. `env` adds or overrides settings."""
        self.data_dir = Path(data_dir).resolve()
        self.binary = binary
        self.detached = detached
        self.start_timeout_s = start_timeout_s
        self.extra_env = dict(env or {})
        self.log_path = self.data_dir / LOG_NAME
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._pid: int | None = None
        self._ports: _Ports | None = None

    @property
    def http_port(self) -> int:
        """The REST port (the server must be started)."""
        return self._started().http

    @property
    def grpc_port(self) -> int:
        """The gRPC port (the server must be started)."""
        return self._started().grpc

    @property
    def pid(self) -> int:
        """The server's process id (the server must be started)."""
        self._started()
        assert self._pid is not None
        return self._pid

    def _started(self) -> _Ports:
        if self._ports is None:
            raise WeaviateUnavailable("the embedded Weaviate server has not been started")
        return self._ports

    def _exited(self) -> bool:
        if self._process is not None:
            return self._process.poll() is not None
        return self._pid is None or not _is_weaviate(self._pid)

    def _environment(self, ports: _Ports) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k in _INHERITED_ENV}
        env.update(
            PERSISTENCE_DATA_PATH=str(self.data_dir),
            AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED="true",
            DEFAULT_VECTORIZER_MODULE="none",
            ENABLE_MODULES="",
            CLUSTER_HOSTNAME="node1",
            CLUSTER_IN_LOCALHOST="true",
            CLUSTER_BIND_ADDR="127.0.0.1",
            CLUSTER_ADVERTISE_ADDR="127.0.0.1",
            CLUSTER_GOSSIP_BIND_PORT=str(ports.gossip),
            CLUSTER_DATA_BIND_PORT=str(ports.data),
            RAFT_PORT=str(ports.raft),
            RAFT_INTERNAL_RPC_PORT=str(ports.raft_rpc),
            RAFT_BOOTSTRAP_EXPECT="1",
            # One node never waits on peers: the default multiplier (5, for busy clusters)
            # only turns a 2 s start into a 10 s one.
            RAFT_TIMEOUTS_MULTIPLIER="1",
            GRPC_PORT=str(ports.grpc),
            # Otherwise every server serves pprof on :6060 and the second one logs errors.
            GO_PROFILING_DISABLE="true",
            DISABLE_TELEMETRY="true",
            QUERY_DEFAULTS_LIMIT="25",
            LOG_LEVEL="warning",
            LOG_FORMAT="text",
        )
        env.update(self.extra_env)
        return env

    def _launch(self, binary: Path, ports: _Ports) -> None:
        args = [str(binary), "--host", "127.0.0.1", "--port", str(ports.http), "--scheme", "http"]
        env = self._environment(ports)
        if not self.detached:
            with self.log_path.open("ab") as log_file:
                self._process = subprocess.Popen(
                    args,
                    env=env,
                    cwd=self.data_dir,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                )
            self._pid = self._process.pid
            return
        # A shell in a new session starts the server in the background and exits, so the
        # server is nobody's child here: no zombie, no Popen to keep, and it outlives us.
        launcher = subprocess.run(
            [
                "/bin/sh",
                "-c",
                'log=$1; shift; "$@" >>"$log" 2>&1 </dev/null & echo $!',
                "sh",
                str(self.log_path),
                *args,
            ],
            env=env,
            cwd=self.data_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            start_new_session=True,
            check=True,
            timeout=10,
        )
        self._process, self._pid = None, int(launcher.stdout.split()[-1])

    def start(self) -> Self:
        """Start the server and wait until it is ready; raise with the log tail if it is not."""
        if self._pid is not None and not self._exited():
            return self
        binary = self.binary = self.binary or locate_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Ports are picked, released, then bound by the server: another process can take one
        # in between, so a server that dies at once is retried on fresh ports.
        for attempt in range(3):
            ports = _Ports.pick()
            with self.log_path.open("ab") as log_file:
                offset = log_file.tell()
                log_file.write(f"--- textcart: starting {binary} at {time.ctime()}\n".encode())
            began = time.monotonic()
            self._launch(binary, ports)
            self._ports = ports
            try:
                self._wait_ready(offset)
            except _ExitedEarly:
                self._process = self._pid = self._ports = None
                if attempt == 2:
                    raise WeaviateUnavailable(
                        f"weaviate-server exited during start; last lines of "
                        f"{self.log_path}:\n{processes.log_tail(self.log_path, 30, offset)}"
                    ) from None
                continue
            except BaseException:
                self.stop()
                raise
            self.startup_seconds = time.monotonic() - began
            log.info(
                "Weaviate ready on 127.0.0.1:%d (gRPC %d) in %.1f s",
                ports.http,
                ports.grpc,
                self.startup_seconds,
            )
            return self
        raise AssertionError("unreachable")

    def _wait_ready(self, offset: int) -> None:
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if self._exited():
                raise _ExitedEarly
            if _is_ready(self.http_port, timeout_s=1.0):
                return
            time.sleep(0.1)
        raise WeaviateUnavailable(
            f"weaviate-server was not ready after {self.start_timeout_s:.0f} s (when it logs "
            f"nothing, another Weaviate may be holding {self.data_dir}); "
            f"last lines of {self.log_path}:\n{processes.log_tail(self.log_path, 30, offset)}"
        )

    def stop(self) -> None:
        """Stop the server: SIGTERM, then SIGKILL if it has not exited in time."""
        if self._pid is not None:
            processes.terminate(self._pid, STOP_TIMEOUT_S, exited=self._exited)
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=1)
        self._process = self._pid = self._ports = None


class _ExitedEarly(Exception):
    """The server process ended before it became ready."""


# --- one shared server per data directory -------------------------------------------------


def _is_weaviate(pid: int) -> bool:
    """Tell whether pid is a live, non-zombie process that looks like a Weaviate server."""
    return processes.runs(pid, b"weaviate")


def _recorded(data_dir: Path) -> tuple[int, int, int] | None:
    """Return (pid, http_port, grpc_port) recorded for data_dir, if a record is readable."""
    state = processes.read_state(data_dir / STATE_NAME)
    if state is None:
        return None
    try:
        return int(state["pid"]), int(state["http_port"]), int(state["grpc_port"])
    except (KeyError, TypeError, ValueError):
        return None


def ensure_embedded(data_dir: Path) -> tuple[int, int]:
    """Return (http_port, grpc_port) of data_dir's server, starting it detached if needed."""
    data_dir = Path(data_dir).resolve()
    with processes.locked(data_dir, LOCK_NAME):
        recorded = _recorded(data_dir)
        if recorded is not None and _is_weaviate(recorded[0]):
            pid, http_port, grpc_port = recorded
            # Other processes may be using it: a busy server gets time before it is
            # judged hung and replaced.
            deadline = time.monotonic() + HUNG_AFTER_S
            while time.monotonic() < deadline and _is_weaviate(pid):
                if _is_ready(http_port):
                    return http_port, grpc_port
                time.sleep(0.5)
            if _is_weaviate(pid):
                log.warning(
                    "Weaviate pid %d has not answered for %.0f s; restarting it", pid, HUNG_AFTER_S
                )
                processes.terminate(pid, STOP_TIMEOUT_S, exited=lambda: not _is_weaviate(pid))
        server = EmbeddedWeaviate(data_dir, detached=True).start()
        state = {
            "pid": server.pid,
            "http_port": server.http_port,
            "grpc_port": server.grpc_port,
            "binary": str(server.binary),
            "started_at": time.time(),
        }
        processes.write_state(data_dir / STATE_NAME, state)
        return server.http_port, server.grpc_port


def stop_embedded(data_dir: Path) -> bool:
    """Stop the shared server for data_dir; False when none was running."""
    data_dir = Path(data_dir).resolve()
    with processes.locked(data_dir, LOCK_NAME):
        recorded = _recorded(data_dir)
        (data_dir / STATE_NAME).unlink(missing_ok=True)
        if recorded is None or not _is_weaviate(recorded[0]):
            return False
        pid = recorded[0]
        processes.terminate(pid, STOP_TIMEOUT_S, exited=lambda: not _is_weaviate(pid))
        return True


__all__ = [
    "EmbeddedWeaviate",
    "WeaviateUnavailable",
    "ensure_embedded",
    "locate_binary",
    "stop_embedded",
]
