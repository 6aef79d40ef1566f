"""Harness for the e2e tests: the `textcart serve` subprocess and a fake Twilio API.

The server runs as a subprocess on a free port with its own data directory, the
embedded Weaviate holding the demo catalog, signature checking on, hand-off review on,
and browse abandonment due at once. Proactive texts go to `TwilioRecorder`, a local
HTTP server that answers like Twilio's Messages API and keeps what it was sent.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx

AUTH_TOKEN = "e2e-test-auth-token"
ACCOUNT_SID = "AC" + "0" * 32
FROM_NUMBER = "+15005550006"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class TwilioRecorder:
    """A local stand-in for api.twilio.com that records message creations."""

    port: int
    messages: list[dict[str, str]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        """Listen in a background thread."""
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(parse_qsl(self.rfile.read(length).decode()))
                form["_path"] = self.path
                form["_auth"] = self.headers.get("Authorization", "")
                recorder.messages.append(form)
                sid = f"SM{len(recorder.messages):032d}"
                body = json.dumps(
                    {
                        "sid": sid,
                        "account_sid": ACCOUNT_SID,
                        "to": form.get("To"),
                        "from": form.get("From"),
                        "body": form.get("Body"),
                        "status": "queued",
                        "num_segments": "1",
                        "direction": "outbound-api",
                        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
                    }
                ).encode()
                self.send_response(201)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def sent_to(self, phone: str) -> list[dict[str, str]]:
        """Messages created for one number, oldest first."""
        return [m for m in self.messages if m.get("To") == phone]


@dataclass
class Server:
    """The `textcart serve` subprocess and how to reach it."""

    directory: Path
    port: int
    env: dict[str, str]
    log_file: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start and wait until `/ok` answers."""
        command = [
            sys.executable,
            "-m",
            "textcart.cli",
            "serve",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.directory),
            "--log-file",
            str(self.log_file),
            "--jobs",
            "4",
        ]
        self.process = subprocess.Popen(
            command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                output = self.process.stdout.read().decode() if self.process.stdout else ""
                raise RuntimeError(f"textcart serve exited early:\n{output}\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/ok", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"server not ready in 240 s\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the server the way an operator would (SIGTERM) and wait for it."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for failure messages."""
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
