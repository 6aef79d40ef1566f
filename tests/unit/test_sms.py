"""TwiML, Twilio signatures and the senders (Twilio's API played by a local server)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from textcart.tools import sms

TOKEN = "12345"
URL = "https://shop.example/sms/inbound"
FORM = {"MessageSid": "SM1", "From": "+14155550100", "Body": "hi & <bye>"}


def test_twiml_escapes_the_reply_and_is_empty_without_one() -> None:
    assert sms.twiml_reply("Boots & socks <3").endswith(
        "<Response><Message>Boots &amp; socks &lt;3</Message></Response>"
    )
    assert sms.twiml_reply(None) == sms.EMPTY_TWIML
    assert sms.twiml_reply("") == sms.EMPTY_TWIML


def test_signature_round_trip_and_tampering() -> None:
    signature = sms.sign(TOKEN, URL, FORM)
    assert sms.valid_signature(TOKEN, URL, FORM, signature)
    assert not sms.valid_signature(TOKEN, URL, {**FORM, "Body": "hi"}, signature)
    assert not sms.valid_signature(TOKEN, URL + "?x=1", FORM, signature)
    assert not sms.valid_signature("other-token", URL, FORM, signature)
    assert not sms.valid_signature(TOKEN, URL, FORM, None)
    assert not sms.valid_signature(TOKEN, URL, FORM, "")


async def test_outbox_sender_appends_one_line_per_text(tmp_path: Path) -> None:
    outbox = sms.OutboxSender(tmp_path / "out" / "outbox.jsonl")
    first = await outbox.send("+14155550100", "Hello 👋", idempotency_key="k1")
    await outbox.send("+14155550101", "Again", idempotency_key="k2")
    lines = [json.loads(x) for x in (tmp_path / "out" / "outbox.jsonl").read_text().splitlines()]
    assert [(x["to"], x["text"], x["key"]) for x in lines] == [
        ("+14155550100", "Hello 👋", "k1"),
        ("+14155550101", "Again", "k2"),
    ]
    assert first.channel == "outbox"


class _FakeTwilio(BaseHTTPRequestHandler):
    received: list[dict[str, Any]] = []
    status = 201

    def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(parse_qsl(self.rfile.read(length).decode()))
        self.received.append(
            {"path": self.path, "form": form, "auth": self.headers["Authorization"]}
        )
        if self.status != 201:
            body = json.dumps({"code": 20429, "message": "Too Many Requests", "status": 429})
        else:
            body = json.dumps({"sid": "SM" + "a" * 32, "status": "queued", "body": form["Body"]})
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: Any) -> None:
        return


@pytest.fixture
def fake_twilio() -> Iterator[tuple[str, type[_FakeTwilio]]]:
    _FakeTwilio.received, _FakeTwilio.status = [], 201
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeTwilio)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _FakeTwilio
    server.shutdown()
    server.server_close()


async def test_twilio_sender_posts_the_message_with_basic_auth(
    fake_twilio: tuple[str, type[_FakeTwilio]],
) -> None:
    base, handler = fake_twilio
    sender = sms.TwilioSender("AC" + "1" * 32, "secret", "+15005550006", api_base_url=base)
    sent = await sender.send("+14155550100", "Your boots shipped 🥾", idempotency_key="k")
    assert sent.provider_id == "SM" + "a" * 32 and sent.channel == "twilio"
    (request,) = handler.received
    assert request["path"] == f"/2010-04-01/Accounts/AC{'1' * 32}/Messages.json"
    assert request["form"] == {
        "To": "+14155550100",
        "From": "+15005550006",
        "Body": "Your boots shipped 🥾",
    }
    assert request["auth"].startswith("Basic ")


async def test_twilio_errors_are_raised_for_the_caller_to_record(
    fake_twilio: tuple[str, type[_FakeTwilio]],
) -> None:
    base, handler = fake_twilio
    handler.status = 429
    sender = sms.TwilioSender("AC" + "1" * 32, "secret", "+15005550006", api_base_url=base)
    with pytest.raises(Exception, match="429|Too Many"):
        await sender.send("+14155550100", "hi", idempotency_key="k")


def test_sender_from_env_needs_all_three_twilio_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "1" * 32)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "secret")
    assert isinstance(sms.sender_from_env(tmp_path / "o.jsonl"), sms.OutboxSender)
    monkeypatch.setenv("TWILIO_FROM_NUMBER", "+15005550006")
    assert isinstance(sms.sender_from_env(tmp_path / "o.jsonl"), sms.TwilioSender)
