"""The server's locks: who may text in, post events or use the LangGraph API, and how often.

Three doors, each locked by default:

- `POST /sms/inbound` needs Twilio's `X-Twilio-Signature` for `TWILIO_AUTH_TOKEN`; without
  a token configured every request is refused.
- `POST /events` needs `X-Textcart-Signature: t=<unix seconds>,v1=<hex>`, where `v1` is
  HMAC-SHA256 with `TEXTCART_EVENTS_SECRET` over `"<t>." + raw body`, at most 5 minutes
  old; without a secret every request is refused.
- The LangGraph API needs an operator key in `X-Api-Key` from `TEXTCART_API_KEYS`
  (comma-separated), checked by `textcart.server.auth` through LangGraph's custom auth.

`TEXTCART_INSECURE_DEV=true` opens all three for a laptop demo (`textcart serve` warns).
Rate limits (the `limits` package, in memory, per process) cap inbound texts per number and
events per source; consent keywords are never limited.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from textcart import settings
from textcart.tools import compliance

log = logging.getLogger(__name__)

EVENTS_SIGNATURE_HEADER = "X-Textcart-Signature"
# How old a signed events request may be: a captured request cannot be replayed later.
SIGNATURE_TOLERANCE_S = 300
DEFAULT_INBOUND_RATE = "20/minute"
DEFAULT_EVENTS_RATE = "600/minute"
# Texts that change or ask about consent always get through: a shopper must always be able
# to leave (STOP), get help, come back or confirm a subscription.
_NEVER_LIMITED = frozenset({"JOIN", "Y", "YES"})


def insecure_dev() -> bool:
    """True when `TEXTCART_INSECURE_DEV` turns every check off (a laptop demo only)."""
    return settings.current().insecure_dev


def api_keys() -> list[str]:
    """The operator keys the LangGraph API accepts (`TEXTCART_API_KEYS`, comma-separated)."""
    return [k.strip() for k in settings.current().api_keys.split(",") if k.strip()]


def valid_api_key(key: str | None, keys: list[str]) -> bool:
    """True when `key` is one of `keys` (compared in constant time)."""
    if not key or not keys:
        return False
    return any(hmac.compare_digest(key.encode(), k.encode()) for k in keys)


def sign_events(secret: str, body: bytes, at: int | None = None) -> str:
    """The `X-Textcart-Signature` value for `body` signed at unix time `at` (default now)."""
    stamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def events_signature_problem(
    secret: str, header: str | None, body: bytes, now: float | None = None
) -> str | None:
    """Why a signed events request is refused, or None when the signature holds.

    Several `v1` values are accepted (a sender rotating its secret signs with both).
    """
    if not header:
        return f"missing {EVENTS_SIGNATURE_HEADER}"
    stamp: str | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            stamp = value
        elif name == "v1":
            signatures.append(value)
    if stamp is None or not stamp.isdigit() or not signatures:
        return f"malformed {EVENTS_SIGNATURE_HEADER}; expected t=<unix seconds>,v1=<hex>"
    age = (time.time() if now is None else now) - int(stamp)
    if abs(age) > SIGNATURE_TOLERANCE_S:
        return f"signature timestamp is {age:.0f} s off; the limit is {SIGNATURE_TOLERANCE_S} s"
    expected = sign_events(secret, body, int(stamp)).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, s) for s in signatures):
        return "signature does not match the body"
    return None


def door_warnings() -> list[str]:
    """What an operator should know at start: open doors, or doors that refuse everything."""
    if insecure_dev():
        return [
            "TEXTCART_INSECURE_DEV is on: webhook signatures, event signatures and API keys "
            "are NOT checked. Anyone who reaches this port can text as any number, post "
            "events and read every conversation. Use it on a laptop only."
        ]
    warnings = []
    configured = settings.current()
    if not configured.twilio_auth_token:
        warnings.append("TWILIO_AUTH_TOKEN is not set: /sms/inbound refuses every request.")
    if not configured.events_secret:
        warnings.append("TEXTCART_EVENTS_SECRET is not set: /events refuses every request.")
    if not api_keys():
        warnings.append("TEXTCART_API_KEYS is not set: the LangGraph API refuses every request.")
    return warnings


def never_limited(body: str) -> bool:
    """True for consent and help keywords (STOP, HELP, START, JOIN, Y/YES and the like)."""
    join = (settings.environment("TEXTCART_JOIN_KEYWORD") or "").strip().upper() or "JOIN"
    return compliance.keyword_action(body) is not None or compliance.keyword_of(body) in (
        _NEVER_LIMITED | {join}
    )


@dataclass
class Limited:
    """A request over its rate: how long until it would be accepted."""

    retry_after_s: int
    limit: str


# Redis connections one process's limiter may hold, and how long a count waits for one.
SHARED_CONNECTIONS = 64
SHARED_WAIT_S = 5.0


def shared_storage(uri: str) -> Storage:
    """The limits' Redis storage, on a pool where a count waits for a free connection.

    redis-py's asyncio pool (100 connections by default) raises "Too many connections" the
    moment one more is asked for: under a burst (an instance killed, its shoppers' texts
    all sent again to the one left) counts failed instead of waiting their turn. A
    blocking pool makes them wait up to `SHARED_WAIT_S`; a count that still gets no
    connection fails, and `RateLimits` lets that text through.
    """
    from redis.asyncio import BlockingConnectionPool  # the production server's venv has it

    pool = BlockingConnectionPool.from_url(
        uri.removeprefix("async+"), max_connections=SHARED_CONNECTIONS, timeout=SHARED_WAIT_S
    )
    # limits types its options as scalars, but hands `connection_pool` to redis-py as it is.
    return RedisStorage(uri, implementation="redispy", connection_pool=pool)  # type: ignore[arg-type]


class RateLimits:
    """Moving-window limits for inbound texts per number and events per source."""

    def __init__(self, inbound: str | None = None, events: str | None = None) -> None:
        """Rates in the `limits` notation ("20/minute"); defaults from the environment."""
        configured = settings.current()
        self.inbound: RateLimitItem = parse(
            inbound or configured.inbound_rate or DEFAULT_INBOUND_RATE
        )
        self.events: RateLimitItem = parse(events or configured.events_rate or DEFAULT_EVENTS_RATE)
        # Per process by default; the production server shares one Redis across instances
        # (`TEXTCART_RATE_LIMIT_STORAGE=async+redis://...`), or a number would get the rate
        # once per instance.
        shared = configured.rate_limit_storage
        storage = shared_storage(shared) if shared else MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)

    async def _hit(self, item: RateLimitItem, *key: str, cost: int = 1) -> Limited | None:
        try:
            if await self._limiter.hit(item, *key, cost=cost):
                return None
            stats = await self._limiter.get_window_stats(item, *key)
        except Exception as exc:  # noqa: BLE001 - a limiter that cannot count lets it through
            # The shared storage (Redis) failing, or its connection pool exhausted: a text
            # answered HTTP 500 is a text lost (the carrier does not send it again); one
            # more text through the rate is not.
            log.warning("rate limit not counted (%s): let through", type(exc).__name__)
            return None
        return Limited(max(int(stats.reset_time - time.time()) + 1, 1), str(item))

    async def inbound_text(self, shopper_id: str, body: str) -> Limited | None:
        """Count one inbound text; None when it is within the number's rate."""
        if never_limited(body):
            return None
        return await self._hit(self.inbound, "inbound", shopper_id)

    async def event_post(self, source: str, count: int) -> Limited | None:
        """Count `count` events from one source; None when they are within its rate."""
        return await self._hit(self.events, "events", source, cost=max(count, 1))
