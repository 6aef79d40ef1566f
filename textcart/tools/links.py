"""Tracked links: every link in an outgoing text goes through `$TEXTCART_PUBLIC_URL/l/{code}`.

A code is short (SMS segments are counted in characters) and random, so nobody can walk
the codes to read where other shoppers were sent. Each code is stored once, in one
namespace the redirect can find without knowing the shopper:

    ("links",)  <code>  {shopper_id, message_id, url, campaign, created_at, expires_at}

A click is recorded on the message once per click window; link-preview fetchers and bots
(recognised by user agent) are redirected but not counted.
"""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from langgraph.store.base import BaseStore

from textcart import settings
from textcart.rules.attribution import parse_time
from textcart.tools.shopper_store import ShopperStore
from textcart.vocabulary.urls import URL_PATTERN, split_trailing

LINKS: tuple[str, ...] = ("links",)
CODE_ALPHABET = string.ascii_letters + string.digits
# 9 characters of 62: about 5.3e16 codes, so guessing one among a store's live links at
# the events rate limit would take longer than any link lives.
CODE_LENGTH = 9
_CODE = re.compile(rf"^[A-Za-z0-9]{{{CODE_LENGTH}}}$")
_URL = URL_PATTERN
# Fetchers that open a link without a person: chat apps' previews, crawlers, scripts.
_NOT_A_PERSON = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|preview|facebookexternalhit|facebot|whatsapp|telegram|"
    r"skypeuri|embedly|vkshare|pinterest|quora link|bitly|headlesschrome|lighthouse|"
    r"^curl/|^wget/|^python-|^go-http-client|^java/|^okhttp|^libwww|^axios/|^node-fetch",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class LinkSettings:
    """Where tracked links point and how long they and their click windows last."""

    public_url: str
    ttl_days: float = 30.0
    click_window_h: float = 24.0

    @classmethod
    def from_env(cls) -> LinkSettings | None:
        """From `TEXTCART_PUBLIC_URL` (None when unset: links stay as they are)."""
        configured = settings.current()
        public = configured.public_url.rstrip("/")
        if not public:
            return None
        return cls(
            public_url=public,
            ttl_days=configured.link_ttl_days,
            click_window_h=configured.click_window_h,
        )


def new_code() -> str:
    """A fresh random link code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def is_code(value: str) -> bool:
    """Whether `value` has a link code's shape (anything else is not looked up)."""
    return bool(_CODE.match(value))


def is_person(user_agent: str | None) -> bool:
    """False for bots, link-preview fetchers, scripts and requests without a user agent."""
    agent = (user_agent or "").strip()
    return bool(agent) and not _NOT_A_PERSON.search(agent)


def with_utm(url: str, campaign: str, content: str) -> str:
    """`url` with UTM parameters for this text; parameters the store set are kept."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {k for k, _ in query}
    utm = {"utm_source": "textcart", "utm_medium": "sms", "utm_campaign": campaign,
           "utm_content": content}  # fmt: skip
    query += [(k, v) for k, v in utm.items() if k not in present]
    return urlunsplit(parts._replace(query=urlencode(query)))


async def track_links(
    store: BaseStore,
    settings: LinkSettings,
    *,
    shopper_id: str,
    message_id: str,
    text: str,
    campaign: str,
    content: str,
    now: datetime,
) -> tuple[str, list[str]]:
    """Replace every link in `text` with a tracked one; returns the text and the codes."""
    codes: list[str] = []
    own = f"{settings.public_url}/l/"

    async def tracked(match: re.Match[str]) -> str:
        url, tail = split_trailing(match.group(0))
        if url.startswith(own):
            return match.group(0)
        code = new_code()
        await store.aput(
            LINKS,
            code,
            {
                "shopper_id": shopper_id,
                "message_id": message_id,
                "url": url,
                "campaign": campaign,
                "content": content,
                "created_at": now.astimezone(UTC).isoformat(),
                "expires_at": (now + timedelta(days=settings.ttl_days)).astimezone(UTC).isoformat(),
            },
        )
        codes.append(code)
        return f"{own}{code}{tail}"

    pieces: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        pieces += [text[last : match.start()], await tracked(match)]
        last = match.end()
    pieces.append(text[last:])
    return "".join(pieces), codes


async def resolve(store: BaseStore, code: str, now: datetime) -> dict[str, Any] | None:
    """The link behind a code, or None when the code is unknown, malformed or expired."""
    if not is_code(code):
        return None
    item = await store.aget(LINKS, code)
    if item is None:
        return None
    link = dict(item.value)
    expires = parse_time(link.get("expires_at"))
    if expires is not None and now > expires:
        return None
    return link


async def record_click(
    shoppers: ShopperStore,
    code: str,
    link: dict[str, Any],
    now: datetime,
    window_h: float,
) -> bool:
    """Record a person's click on the message behind `link`, once per click window.

    Returns whether it was counted. A message the shopper's data no longer holds (they
    were forgotten) records nothing.
    """
    shopper_id, message_id = link["shopper_id"], link["message_id"]
    message = await shoppers.get_message(shopper_id, message_id)
    if message is None:
        return False
    since = now - timedelta(hours=window_h)
    for outcome in message.get("outcomes", []):
        at = parse_time(outcome.get("at"))
        if outcome.get("outcome") == "clicked" and at is not None and at > since:
            return False
    await shoppers.record_outcome(
        shopper_id, message_id, "clicked", at=now, source=f"link:{code}:{now.isoformat()}"
    )
    await shoppers.add_event(
        shopper_id,
        "clicked_link",
        None,
        now,
        event_id=f"click-{code}-{int(now.timestamp())}",
        details={"message_id": message_id, "code": code},
    )
    return True
