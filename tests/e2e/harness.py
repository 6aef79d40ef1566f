"""Harness for the e2e tests: the `textcart serve` subprocess and a fake Twilio API.

`TEXTCART_E2E_MODE` picks the server: `dev` (default, `langgraph dev`) or `production`
(`textcart serve --production --instances 2`: Aegra on its own PostgreSQL and Redis).
Every test runs unchanged against either.

The server runs as a subprocess on a free port with its own data directory, the
embedded Weaviate holding the demo catalog, every door locked (Twilio signatures, signed
events, API keys), hand-off review on, and browse abandonment due at once. Proactive texts
go to `TwilioRecorder`, a local HTTP server that answers like Twilio's Messages API and
keeps what it was sent. The helpers below sign and key their requests as a real
deployment's clients would.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.errors import NotFoundError

from textcart.server.production_serve import local_database_url
from textcart.server.security import sign_events
from textcart.tools import sms
from textcart.tools.shopper_store import shopper_id_for_phone, thread_id_for
from textcart.tools.weaviate_server import stop_embedded

AUTH_TOKEN = "e2e-test-auth-token"
ACCOUNT_SID = "AC" + "0" * 32
FROM_NUMBER = "+15005550006"
EVENTS_SECRET = "e2e-events-secret"
SHOPIFY_SECRET = "shpss_e2e_secret"
API_KEY = "e2e-operator-key"
# Which server the e2e tests drive: `dev` (`langgraph dev`) or `production` (Aegra with
# PostgreSQL and Redis, two instances). `make e2e` runs the suite once in each.
MODE = os.environ.get("TEXTCART_E2E_MODE", "dev")
# Data directories of production servers started in this session, whose PostgreSQL and
# Redis are stopped when the session ends (conftest.py).
PRODUCTION_DIRECTORIES: list[Path] = []


def locked_env(**extra: str) -> dict[str, str]:
    """The environment of a server with every door locked, plus `extra`."""
    env = {
        **os.environ,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TEXTCART_EVENTS_SECRET": EVENTS_SECRET,
        "TEXTCART_API_KEYS": f"some-other-key,{API_KEY}",
        # The tests read replies from TwiML: on a loaded machine a first turn can take
        # longer than the 10 s after which the webhook leaves the reply to the sender.
        "TEXTCART_WEBHOOK_REPLY_S": "120",
        **extra,
    }
    for name in ("WEAVIATE_URL", "TEXTCART_MODEL", "TEXTCART_INSECURE_DEV"):
        env.pop(name, None)
    return env


def twilio_sender(recorder: TwilioRecorder) -> dict[str, str]:
    """The variables that make `recorder` the server's sender of texts."""
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE_URL": f"http://127.0.0.1:{recorder.port}",
    }


def outbox_sender(env: dict[str, str]) -> dict[str, str]:
    """`env` without a Twilio sender: texts go to the outbox file (Twilio checks signatures)."""
    return {k: v for k, v in env.items() if k not in ("TWILIO_ACCOUNT_SID", "TWILIO_FROM_NUMBER")}


@contextmanager
def running_server(
    directory: Path, env: dict[str, str], port: int | None = None
) -> Iterator[Server]:
    """A started server on `directory`; stopped, with its Weaviate, when the block ends."""
    server = Server(directory, port or free_port(), env, directory / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        stop_embedded(directory / "weaviate")


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
    # PostgreSQL and Redis ports in production mode, kept across restarts.
    services_ports: tuple[int, int] = field(default_factory=lambda: (free_port(), free_port()))

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def command_env(self) -> dict[str, str]:
        """The environment of a `textcart` command that reads this server's store.

        In production mode the store is the PostgreSQL the server started, which the
        command is told about as an operator would be (`TEXTCART_DATABASE_URL`).
        """
        if MODE != "production":
            return self.env
        return {**self.env, "TEXTCART_DATABASE_URL": local_database_url(self.services_ports[0])}

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
        if MODE == "production":
            command += ["--production", "--instances", "2"]
            command += ["--services-ports", f"{self.services_ports[0]},{self.services_ports[1]}"]
            if self.directory not in PRODUCTION_DIRECTORIES:
                PRODUCTION_DIRECTORIES.append(self.directory)
        # Its own process group, so `kill` takes `langgraph dev` down with it, as a crash would.
        self.process = subprocess.Popen(
            command,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        # Production starts PostgreSQL, Redis, migrations and two instances besides the
        # catalog: on a loaded 2-core machine that took over 240 s.
        ready_s = 600 if MODE == "production" else 240
        deadline = time.monotonic() + ready_s
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
        raise TimeoutError(f"server not ready in {ready_s} s\n{self.log_tail()}")

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

    def client(self) -> LangGraphClient:
        """A `langgraph_sdk` client with an operator key, as Studio or an operator uses."""
        return get_client(url=self.url, api_key=API_KEY)

    def kill(self) -> None:
        """Kill the server and its engine processes at once (SIGKILL), as a crash would.

        In production mode PostgreSQL and Redis run apart (their own sessions) and live on,
        as they would on their own machines.
        """
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's log, for failure messages."""
        if not self.log_file.exists():
            return ""
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


def new_phone() -> str:
    """A fresh number per test so shoppers never share state."""
    # A valid NANP number (area code 415, exchange 200-999) unique to the test.
    return f"+1415{2_000_000 + uuid.uuid4().int % 8_000_000:07d}"


def webhook_form(phone: str, body: str, sid: str | None = None) -> dict[str, str]:
    """The form fields Twilio posts for an inbound SMS."""
    return {
        "MessageSid": sid or f"SM{uuid.uuid4().hex}",
        "SmsSid": sid or "",
        "AccountSid": "AC" + "0" * 32,
        "From": phone,
        "To": FROM_NUMBER,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
    }


async def post_sms(
    server: Server, form: dict[str, str], signature: str | None = "valid"
) -> httpx.Response:
    """POST the webhook, signed like Twilio would unless told otherwise."""
    url = f"{server.url}/sms/inbound"
    headers = {}
    if signature == "valid":
        headers["X-Twilio-Signature"] = sms.sign(AUTH_TOKEN, url, form)
    elif signature is not None:
        headers["X-Twilio-Signature"] = signature
    async with httpx.AsyncClient(timeout=120) as client:
        return await client.post(url, data=form, headers=headers)


def message_text(twiml: str) -> str | None:
    """The reply inside a TwiML document, or None for an empty response."""
    if "<Message>" not in twiml:
        return None
    return twiml.split("<Message>", 1)[1].split("</Message>", 1)[0]


async def runs_of(server: Server, phone: str) -> list[dict[str, Any]]:
    """Every run on the shopper's thread."""
    client = server.client()
    thread_id = thread_id_for(shopper_id_for_phone(phone))
    try:
        return list(await client.runs.list(thread_id, limit=100))
    except NotFoundError:
        return []  # no thread: nothing ever ran for this shopper


async def log_of(server: Server, phone: str) -> list[dict[str, Any]]:
    """The shopper's message log, read through the server's store API."""
    client = server.client()
    namespace = ["shoppers", shopper_id_for_phone(phone), "messages"]
    found = await client.store.search_items(namespace, limit=100)
    return [item["value"] for item in found["items"]]


async def queued_for(server: Server, phone: str) -> list[dict[str, Any]]:
    """The shopper's entries in the proactive queue: all the scheduler will ever send them."""
    found = await server.client().store.search_items(["proactive_queue"], limit=1000)
    mine = shopper_id_for_phone(phone)
    return [item["value"] for item in found["items"] if item["key"].startswith(mine)]


async def wait_for(check: Any, timeout_s: float = 60.0) -> Any:
    """Poll an async check until it returns something truthy."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if result := await check():
            return result
        await asyncio.sleep(0.3)
    raise AssertionError(f"condition not met within {timeout_s:.0f} s")


async def post_events(
    server: Server, payload: Any, *, secret: str | None = EVENTS_SECRET, at: int | None = None
) -> httpx.Response:
    """POST behaviour events signed with the events secret (or unsigned with `secret=None`)."""
    raw = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Textcart-Signature"] = sign_events(secret, raw, at)
    async with httpx.AsyncClient(timeout=60) as client:
        return await client.post(f"{server.url}/events", content=raw, headers=headers)


async def opt_in(server: Server, phone: str, **fields: Any) -> httpx.Response:
    """Record the shopper's opt-in as the store's site would: a signed `opted_in` event."""
    event = {
        "type": "opted_in",
        "phone": phone,
        "source": "checkout",
        "disclosure": "Yes, text me cart reminders and offers. Msg & data rates may apply.",
        **fields,
    }
    response = await post_events(server, event)
    assert response.status_code == 202, response.text
    return response
