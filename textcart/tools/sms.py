"""The SMS carrier: Twilio's webhook format and signature, TwiML replies, and senders.

Replies to a shopper's own text go back in the webhook's TwiML response; everything else
(proactive texts, replies a person reviewed first) goes through a `Sender`. The default
sender writes to an outbox file, so the whole system runs without an SMS account;
`TwilioSender` sends through Twilio's REST API when credentials are configured.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from xml.sax.saxutils import escape

from twilio.request_validator import RequestValidator

from textcart.tools.shopper_store import mask_phone

log = logging.getLogger("textcart.sms")

TWILIO_TIMEOUT_S = 10.0
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def twiml_reply(text: str | None) -> str:
    """The TwiML document that answers a webhook with `text` (or with nothing)."""
    if not text:
        return EMPTY_TWIML
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Message>{escape(text)}</Message></Response>"
    )


def valid_signature(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> bool:
    """True when `signature` is Twilio's HMAC of this URL and form for the account's token."""
    if not signature:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The `X-Twilio-Signature` Twilio would send (for tests and the load script)."""
    return str(RequestValidator(auth_token).compute_signature(url, dict(params)))


@dataclass(frozen=True)
class SentMessage:
    """What a sender did with one text."""

    to: str
    text: str
    provider_id: str
    channel: str


class Sender(Protocol):
    """Delivers a text to a phone number outside a webhook response."""

    async def send(self, to: str, text: str, *, idempotency_key: str) -> SentMessage:
        """Send `text` to `to`; `idempotency_key` names the message for logs and retries."""
        ...


class OutboxSender:
    """Appends each text to a JSON-lines outbox: the default when no SMS account is set."""

    def __init__(self, path: Path) -> None:
        """Write to `path` (created on first send)."""
        self.path = path

    async def send(self, to: str, text: str, *, idempotency_key: str) -> SentMessage:
        """Append the text to the outbox file."""
        entry = {
            "to": to,
            "text": text,
            "key": idempotency_key,
            "at": datetime.now(UTC).isoformat(),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One short append per message; not worth a thread hop.
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
        log.info("outbox: %s to %s", idempotency_key, mask_phone(to))
        return SentMessage(to=to, text=text, provider_id=idempotency_key, channel="outbox")


class TwilioSender:
    """Sends through Twilio's Messages API with the twilio SDK's async HTTP client."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        from_number: str,
        *,
        api_base_url: str | None = None,
    ) -> None:
        """Credentials and the sending number; `api_base_url` points tests at a local server."""
        # Imported here: the REST client pulls in aiohttp, which only this sender needs.
        from twilio.http.async_http_client import AsyncTwilioHttpClient
        from twilio.rest import Client

        self.from_number = from_number
        # A session per request: the server calls this from several event loops, and an
        # aiohttp session belongs to the loop that made it.
        http = AsyncTwilioHttpClient(pool_connections=False, timeout=TWILIO_TIMEOUT_S)
        self._client = Client(account_sid, auth_token, http_client=http)
        if api_base_url:
            self._client.api.base_url = api_base_url.rstrip("/")

    async def send(self, to: str, text: str, *, idempotency_key: str) -> SentMessage:
        """Create the message at Twilio; raises on any HTTP error so the caller can retry."""
        message = await self._client.messages.create_async(to=to, from_=self.from_number, body=text)
        log.info("twilio: %s to %s as %s", idempotency_key, mask_phone(to), message.sid)
        return SentMessage(to=to, text=text, provider_id=str(message.sid), channel="twilio")


def sender_from_env(outbox: Path) -> Sender:
    """Twilio when `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN` and `TWILIO_FROM_NUMBER` are set.

    `TWILIO_API_BASE_URL` overrides the API host (a test server or a regional edge).
    Otherwise texts go to the outbox file.
    """
    sid = os.environ.get("TWILIO_ACCOUNT_SID", "").strip()
    token = os.environ.get("TWILIO_AUTH_TOKEN", "").strip()
    number = os.environ.get("TWILIO_FROM_NUMBER", "").strip()
    if sid and token and number:
        return TwilioSender(
            sid, token, number, api_base_url=os.environ.get("TWILIO_API_BASE_URL") or None
        )
    return OutboxSender(outbox)
