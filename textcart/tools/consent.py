"""Opt-in consent: who may get texts they did not ask for, and the proof that they agreed.

Nothing here calls a model or a store; the compliance gate and the server apply these
rules. A number is `not_subscribed` until it opts in, in one of three ways:

- the shopper texts the join keyword (`JOIN` by default) and confirms with `Y`/`YES`
  after one request that names the store, the kind and frequency of texts, "Msg & data
  rates may apply" and STOP/HELP (status `pending` in between);
- the store's site posts a signed `opted_in` event with the disclosure the shopper agreed
  to (e.g. a checkbox at checkout);
- an operator imports a CSV with the same proof (`textcart consent import`).

A shopper who has not opted in still gets answers to their own texts; proactive texts
need `subscribed`. The first marketing text, and then at least one every 30 days, names
the store and says how to opt out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from textcart.tools import compliance
from textcart.tools.shopper_store import ShopperStore, normalize_phone, shopper_id_for_phone

ConsentStatus = Literal["subscribed", "opted_out", "pending", "not_subscribed"]
ConsentAction = Literal["opt_out", "help", "join", "confirm", "restart"]

CONFIRM_WORDS = frozenset({"Y", "YES"})
RESTART_WORDS = frozenset({"START", "UNSTOP", "SUBSCRIBE"})
OPT_OUT_FOOTER = "Reply STOP to opt out."
# How often a marketing text must carry the store's name and the opt-out words.
DISCLOSURE_EVERY = timedelta(days=30)
# Message types that sell rather than answer; every proactive text is marketing too.
MARKETING_TYPES = frozenset({"send_offer", "nudge_checkout"})


def consent_action(text: str, status: str, join_keyword: str = "JOIN") -> ConsentAction | None:
    """What a text asks of the shopper's consent, given their status; None for a message.

    `Y`/`YES` confirm only a pending join (otherwise they answer a question), except that
    YES from a shopper who opted out re-subscribes them, as START does.
    """
    action = compliance.keyword_action(text)
    if action == "opt_out":
        return "opt_out"
    if action == "help":
        return "help"
    word = compliance.keyword_of(text)
    if word == join_keyword.strip().upper():
        return "join"
    if word in CONFIRM_WORDS:
        if status == "pending":
            return "confirm"
        return "restart" if status == "opted_out" and word == "YES" else None
    if word in RESTART_WORDS:
        return "restart"
    return None


def join_request(store_name: str, kind: str, per_day: int) -> str:
    """The one confirmation request a JOIN gets: store, kind and frequency, rates, STOP/HELP."""
    return (
        f"{store_name}: Reply Y to get {kind} by text (recurring, up to {per_day}/day). "
        "Msg & data rates may apply. Reply HELP for help, STOP to opt out."
    )


def join_confirmed(store_name: str, kind: str) -> str:
    """The reply to Y after JOIN."""
    return (
        f"{store_name}: You're subscribed to {kind}. Msg & data rates may apply. "
        "Reply HELP for help, STOP to opt out."
    )


def is_marketing(message_type: str, proactive: bool) -> bool:
    """True for a text the shopper did not ask for: every proactive one, offers, nudges."""
    return proactive or message_type in MARKETING_TYPES


def needs_disclosure(messages: list[dict[str, Any]], now: datetime) -> bool:
    """True when no text in the last 30 days carried the store's name and opt-out words."""
    for message in messages:
        if message.get("direction") != "outbound" or not message.get("disclosure"):
            continue
        at = _time(message.get("turn_at") or message.get("at"))
        if at is not None and now - at < DISCLOSURE_EVERY:
            return False
    return True


def with_disclosure(text: str, store_name: str, max_segments: int) -> str:
    """`text` with the store's name in front and "Reply STOP to opt out." after it.

    The words of the text are shortened, never the disclosure, so the whole stays within
    `max_segments`.
    """
    prefix = "" if text.startswith(f"{store_name}:") else f"{store_name}: "
    suffix = f" {OPT_OUT_FOOTER}" if OPT_OUT_FOOTER not in text else ""
    body = text
    while body and compliance.sms_segments(prefix + body + suffix).segments > max_segments:
        shorter = compliance.fit_to_segments(body, max_segments)
        if shorter == body:
            words = body.split(" ")
            shorter = " ".join(words[:-1]).rstrip(" .,;:-") + "..." if len(words) > 1 else ""
        body = shorter
    return prefix + body + suffix


@dataclass(frozen=True)
class OptIn:
    """A shopper's opt-in with its proof, from an event or an imported file."""

    phone: str
    source: str
    disclosure: str
    at: datetime
    timezone: str | None

    def proof(self) -> dict[str, Any]:
        """What the consent history keeps as proof."""
        return {"source": self.source, "disclosure": self.disclosure}


def parse_opt_in(record: dict[str, Any], now: datetime) -> OptIn:
    """Validate one opt-in (`phone`, `source`, `disclosure`, `at`, `timezone`).

    Raises ValueError saying what is wrong. `at` (ISO 8601 with a zone) defaults to now and
    may not lie in the future; `timezone` must be an IANA name when given.
    """
    phone = record.get("phone")
    if not isinstance(phone, str) or not phone.strip():
        raise ValueError("phone is required")
    phone = normalize_phone(phone)
    source = record.get("source")
    if not isinstance(source, str) or not source.strip():
        raise ValueError("source is required (where the shopper agreed, e.g. 'checkout')")
    disclosure = record.get("disclosure")
    if not isinstance(disclosure, str) or len(disclosure.strip()) < 10:
        raise ValueError("disclosure is required: the text the shopper agreed to")
    raw_at = record.get("at")
    if raw_at in (None, ""):
        at = now
    elif isinstance(raw_at, str):
        try:
            at = datetime.fromisoformat(raw_at)
        except ValueError:
            raise ValueError(f"at {raw_at!r} is not an ISO 8601 time") from None
        if at.tzinfo is None:
            raise ValueError("at needs a time zone")
    else:
        raise ValueError("at must be an ISO 8601 string")
    if at > now + timedelta(minutes=5):
        raise ValueError("at lies in the future")
    zone = record.get("timezone")
    if zone in (None, ""):
        zone = None
    elif not isinstance(zone, str):
        raise ValueError("timezone must be an IANA name such as America/Chicago")
    else:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"timezone {zone!r} is not an IANA time zone") from None
    return OptIn(phone, source.strip(), disclosure.strip(), at.astimezone(UTC), zone)


async def record_opt_in(
    shoppers: ShopperStore, opt_in: OptIn, *, via: str, reference: str | None = None
) -> str:
    """Record an opt-in with its proof (sends nothing); returns what happened.

    `via` is how it arrived ("event", "import"); `reference` (an event id, a file and line)
    makes a replay a no-op. A shopper who opted out by text stays opted out: only their
    own START or JOIN undoes a STOP.
    """
    shopper_id = shopper_id_for_phone(opt_in.phone)
    consent = await shoppers.get_consent(shopper_id)
    if consent["status"] == "opted_out":
        return "ignored: the shopper opted out"
    if reference and any(
        (change.get("proof") or {}).get("reference") == reference
        for change in consent.get("history", [])
    ):
        return "already recorded"
    await shoppers.upsert_profile(shopper_id, phone=opt_in.phone, timezone=opt_in.timezone)
    await shoppers.set_consent(
        shopper_id,
        "subscribed",
        via,
        at=opt_in.at,
        proof={**opt_in.proof(), "reference": reference},
    )
    return "subscribed"


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)
