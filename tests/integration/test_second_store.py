"""A second store, set up as a new operator would, runs demo-style conversations.

`textcart init` writes the folder; its catalog is the shared Flipkart export plus the
Shopify export written for the tests; its shoppers and conversations are written here.
Then `textcart --store DIR demo` runs in its own process, on its own embedded Weaviate,
with classic deciders. Its replies must carry its own name, voice and currency (rupees),
and no text of the demo store may appear in its replies or in the prompts it would send.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from shared_data import SHARED_DATA, require_shared

ROOT = Path(__file__).resolve().parents[2]
SHOPIFY_FIXTURE = ROOT / "tests" / "fixtures" / "shopify_products.csv"
TEXTCART = [sys.executable, "-m", "textcart.cli"]

SHOPPERS = """\
asha:
  phone: "+12125550171"
  first_name: Asha
  timezone: Asia/Kolkata
  consent: subscribed
  preferences: {apparel_size: M, favourite_colors: [indigo]}
  events:
    - {type: viewed, product_id: block-print-kurta-indigo, minutes_ago: 90}
    - {type: viewed, product_id: handloom-dohar, minutes_ago: 60}
ravi:
  phone: "+12125550172"
  first_name: Ravi
  timezone: Asia/Kolkata
  consent: subscribed
"""

CONVERSATIONS = {
    "kurta-size": """\
name: kurta-size
shopper: asha
description: A size question about a kurta from the Shopify export, then its price.
turns:
  - text: "is the block print kurta in indigo available in M?"
    expect:
      next_message: answer_question
      says: ["Block Print Cotton Kurta", "\\\\bM\\\\b"]
      not_says: ["\\\\$", "(?i)trailhead"]
  - text: "how much is the handloom dohar?"
    expect:
      says: ["Rs 1,899"]
      not_says: ["\\\\$"]
""",
    "help-and-person": """\
name: help-and-person
shopper: ravi
description: HELP names the store; asking for a person reaches the store's channel.
turns:
  - text: "HELP"
    expect: {says: ["^Bazaar Lane:"]}
  - text: "can I talk to a real person please"
    expect:
      intent: human_agent
      next_message: handoff_to_human
      says: ["Bazaar Lane team"]
  - text: "hello?"
    expect: {no_message: true}
""",
    "kurta-browse": """\
name: kurta-browse
shopper: ravi
description: A recommendation over the Flipkart catalog, priced in rupees.
turns:
  - text: "any printed kurta under 1000?"
    expect:
      not_says: ["\\\\$", "(?i)trailhead"]
""",
}

VOICE = """\
voice:
  guidelines: >-
    Warm and unhurried, like the family that runs the shop. Answer first, then one line.
  avoid_words: ["cheap"]
  emoji: none
  sign_off: ""
"""


class Receiver:
    """The store's hand-off channel: keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                posts.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
                self.send_response(200)
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.httpd.shutdown()
    running.httpd.server_close()


def _run(args: list[str], env: dict[str, str], timeout: float = 900) -> str:
    done = subprocess.run(
        [*TEXTCART, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    return output


def _make_store(folder: Path, flipkart: Path, webhook: str, env: dict[str, str]) -> None:
    _run(
        ["init", str(folder), "--name", "Bazaar Lane", "--currency", "INR",
         "--timezone", "Asia/Kolkata"],
        env,
    )  # fmt: skip
    settings = (folder / "store.yaml").read_text()
    settings = re.sub(r"(?ms)^voice:\n.*?(?=^\S)", VOICE + "\n", settings)
    settings = settings.replace("catalog: []", f"catalog: [{flipkart}, {SHOPIFY_FIXTURE}]")
    settings = settings.replace('webhook_url: ""', f'webhook_url: "{webhook}"')
    (folder / "store.yaml").write_text(settings)
    (folder / "shoppers.yaml").write_text(SHOPPERS)
    (folder / "conversations").mkdir()
    for name, text in CONVERSATIONS.items():
        (folder / "conversations" / f"{name}.yaml").write_text(text)


def test_a_second_store_speaks_for_itself(tmp_path: Path, receiver: Receiver) -> None:
    flipkart = require_shared(SHARED_DATA / "catalog" / "flipkart_products.csv")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    for name in [n for n in env if n.startswith("TEXTCART_") or n == "WEAVIATE_URL"]:
        env.pop(name)
    env["TEXTCART_HOME"] = os.environ.get("TEXTCART_HOME", str(Path.home() / ".cache/textcart"))
    folder, data = tmp_path / "bazaar", tmp_path / "data"
    _make_store(folder, flipkart, receiver.url, env)
    try:
        output = _run(["--store", str(folder), "demo", "--data-dir", str(data)], env)
    finally:
        subprocess.run([*TEXTCART, "stop", "--data-dir", str(data)], env=env, cwd=ROOT)
    print(output)  # shown with -s, and by pytest on failure
    assert "Bazaar Lane" in output
    assert "expectation not met" not in output, output[-4000:]
    assert "expectations not met: 0" in output
    replies = [line for line in output.splitlines() if line.startswith("store>")]
    assert replies and not any(re.search("trailhead", r, re.I) for r in replies)
    assert not any("$" in r for r in replies)
    assert any(re.search(r"Rs \d", r) for r in replies)
    assert re.search("trailhead", output, re.I) is None
    # The hand-off reached the store's channel, with the shopper's texts.
    assert receiver.posts and "real person" in receiver.posts[0]["text"]
    assert "Bazaar Lane" in receiver.posts[0]["text"]
