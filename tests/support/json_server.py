"""A JSON-over-HTTP test server on 127.0.0.1 (a free port), for fakes of model providers.

Each POST is handed to a function with its path, headers and JSON body; what it returns
(status, payload) is sent back as JSON. The fakes built on it check a request's shape as
the real service documents it, so a test proves what textcart sends, not just that a
reply came back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handle = Callable[[str, Mapping[str, str], dict[str, Any]], tuple[int, dict[str, Any]]]


class JsonServer:
    """Serve `handle` until closed; `url` is the server's root (no trailing slash)."""

    def __init__(self, handle: Handle) -> None:
        """Start serving in a daemon thread."""

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload = handle(self.path, headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()
