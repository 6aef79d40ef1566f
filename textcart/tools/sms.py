"""The SMS carrier: Twilio's webhook format and signature, TwiML replies, and senders.

Replies to a shopper's own text go back in the webhook's TwiML response; everything else
(proactive texts, replies a person reviewed first) goes through a `Sender`. The default
sender writes to an outbox file, so the whole system runs without an SMS account;
`TwilioSender` sends through Twilio's REST API when credentials are configured.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from xml.sax.saxutils import escape

from tenacity import (
    AsyncRetrying,
    RetryError,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator

from textcart import settings
from textcart.rules.privacy import mask_phone

log = logging.getLogger("textcart.sms")

TWILIO_TIMEOUT_S = 10.0
# A send is tried this many times, waiting about 0.5 s, 1 s, 2 s... (with jitter) between
# tries, before it is recorded as failed. `TEXTCART_SEND_ATTEMPTS` and
# `TEXTCART_SEND_BACKOFF_S` change both (tests shorten the wait).
SEND_ATTEMPTS = 4
SEND_BACKOFF_S = 0.5
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
        # The server sends from several event loops and threads; one line at a time.
        self._lock = threading.Lock()

    def _append(self, line: str) -> None:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())

    async def send(self, to: str, text: str, *, idempotency_key: str) -> SentMessage:
        """Append the text to the outbox file (in a worker thread: file I/O blocks)."""
        entry = {
            "to": to,
            "text": text,
            "key": idempotency_key,
            "at": datetime.now(UTC).isoformat(),
        }
        # The LangGraph server refuses blocking calls on its event loop (blockbuster).
        await asyncio.to_thread(self._append, json.dumps(entry, ensure_ascii=False) + "\n")
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


class SendFailed(Exception):
    """A text that could not be sent after every retry."""

    def __init__(self, attempts: int, cause: BaseException) -> None:
        """Remember how many tries were made and the last error."""
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.attempts, self.cause = attempts, cause


def _worth_retrying(exc: BaseException) -> bool:
    """Network errors, timeouts, 429 and 5xx are worth another try; a refused request is not."""
    if isinstance(exc, TwilioRestException):
        return exc.status == 429 or exc.status >= 500
    return True


def _send_settings() -> tuple[int, float]:
    configured = settings.current()
    attempts = SEND_ATTEMPTS if configured.send_attempts is None else configured.send_attempts
    backoff = SEND_BACKOFF_S if configured.send_backoff_s is None else configured.send_backoff_s
    return max(attempts, 1), max(backoff, 0.0)


async def send_with_retry(
    sender: Sender,
    to: str,
    text: str,
    *,
    idempotency_key: str,
    attempts: int | None = None,
    backoff_s: float | None = None,
) -> tuple[SentMessage, int]:
    """Send with exponential backoff; returns what was sent and how many tries it took.

    Raises `SendFailed` when every try failed, or at once for an error a retry cannot fix
    (Twilio refusing the number, say).
    """
    default_attempts, default_backoff = _send_settings()
    attempts = attempts or default_attempts
    backoff_s = default_backoff if backoff_s is None else backoff_s
    tried = 0
    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential_jitter(multiplier=backoff_s, max=30.0, jitter=backoff_s / 2),
        retry=retry_if_exception(_worth_retrying),
        reraise=False,
    )
    try:
        async for attempt in retrying:
            with attempt:
                tried = attempt.retry_state.attempt_number
                if tried > 1:
                    log.info("sending %s again (try %d of %d)", idempotency_key, tried, attempts)
                sent = await sender.send(to, text, idempotency_key=idempotency_key)
    except RetryError as exc:
        cause = exc.last_attempt.exception() or exc
        raise SendFailed(tried, cause) from cause
    except Exception as exc:  # noqa: BLE001 - not worth retrying: fail with what was tried
        raise SendFailed(tried, exc) from exc
    return sent, tried


def sender_from_env(outbox: Path) -> Sender:
    """Twilio when `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN` and `TWILIO_FROM_NUMBER` are set.

    `TWILIO_API_BASE_URL` overrides the API host (a test server or a regional edge).
    Otherwise texts go to the outbox file.
    """
    configured = settings.current()
    sid, token = configured.twilio_account_sid, configured.twilio_auth_token
    number = configured.twilio_from_number
    if sid and token and number:
        return TwilioSender(sid, token, number, api_base_url=configured.twilio_api_base_url or None)
    return OutboxSender(outbox)
