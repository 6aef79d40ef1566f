"""The server's locks as plain functions: event signatures, operator keys, rate limits."""

from __future__ import annotations

from typing import Any

import pytest
from langgraph_sdk import Auth

from textcart.server import auth
from textcart.server.security import (
    RateLimits,
    events_signature_problem,
    never_limited,
    sign_events,
    valid_api_key,
)

SECRET = "whsec-test"
BODY = b'{"phone": "+14155550123", "type": "added_to_cart"}'
NOW = 1_800_000_000


def test_a_fresh_signature_over_the_exact_body_holds() -> None:
    header = sign_events(SECRET, BODY, NOW)
    assert header.startswith(f"t={NOW},v1=")
    assert events_signature_problem(SECRET, header, BODY, now=NOW + 299) is None


@pytest.mark.parametrize(
    ("header", "body", "now", "problem"),
    [
        (None, BODY, NOW, "missing"),
        ("", BODY, NOW, "missing"),
        ("v1=abc", BODY, NOW, "malformed"),
        (f"t={NOW}", BODY, NOW, "malformed"),
        (f"t=-{NOW},v1=00", BODY, NOW, "malformed"),
        (sign_events(SECRET, BODY, NOW), BODY + b" ", NOW, "does not match"),
        (sign_events("other", BODY, NOW), BODY, NOW, "does not match"),
        (sign_events(SECRET, BODY, NOW), BODY, NOW + 301, "off"),
        (sign_events(SECRET, BODY, NOW + 400), BODY, NOW, "off"),
        # The signed time is part of what is signed: moving it forward breaks the HMAC.
        (
            sign_events(SECRET, BODY, NOW - 600).replace(f"t={NOW - 600}", f"t={NOW}"),
            BODY,
            NOW,
            "does not match",
        ),
    ],
)
def test_bad_signatures_are_refused_with_a_reason(
    header: str | None, body: bytes, now: int, problem: str
) -> None:
    found = events_signature_problem(SECRET, header, body, now=now)
    assert found is not None and problem in found


def test_a_rotated_secret_signs_twice_and_either_holds() -> None:
    old = sign_events("old-secret", BODY, NOW).split("v1=")[1]
    header = f"{sign_events(SECRET, BODY, NOW)},v1={old}"
    assert events_signature_problem("old-secret", header, BODY, now=NOW) is None
    assert events_signature_problem(SECRET, header, BODY, now=NOW) is None


def test_api_keys_must_match_one_configured() -> None:
    assert valid_api_key("k2", ["k1", "k2"])
    assert not valid_api_key("k3", ["k1", "k2"])
    assert not valid_api_key("", ["k1"])
    assert not valid_api_key(None, ["k1"])
    assert not valid_api_key("k1", [])


async def test_the_langgraph_auth_hook_needs_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEXTCART_INSECURE_DEV", raising=False)
    monkeypatch.setenv("TEXTCART_API_KEYS", "key-one, key-two")
    user = await auth.authenticate({b"x-api-key": b"key-two"})
    assert user["identity"] == "operators", "every operator key sees the shop's threads"
    assert user["display_name"].startswith("operator-") and "key-two" not in str(user)
    # The production server (Aegra) hands headers over decoded.
    assert (await auth.authenticate({"x-api-key": "key-one"}))["identity"] == "operators"
    refused_headers: list[dict[Any, Any]] = [
        {},
        {b"x-api-key": b"key-three"},
        {"x-api-key": "key-three"},
        {b"authorization": b"Bearer key-one"},
    ]
    for headers in refused_headers:
        with pytest.raises(Auth.exceptions.HTTPException) as refused:
            await auth.authenticate(headers)
        assert refused.value.status_code == 401
    monkeypatch.setenv("TEXTCART_API_KEYS", "")
    with pytest.raises(Auth.exceptions.HTTPException):
        await auth.authenticate({b"x-api-key": b""})
    monkeypatch.setenv("TEXTCART_INSECURE_DEV", "true")
    assert (await auth.authenticate({}))["identity"] == "insecure-dev"


@pytest.mark.parametrize("body", ["STOP", "stop please", "HELP", "START", "JOIN", "Y", "yes!"])
def test_consent_keywords_are_never_limited(body: str) -> None:
    assert never_limited(body)


async def test_inbound_texts_are_limited_per_number_but_keywords_pass() -> None:
    limits = RateLimits(inbound="3/minute", events="5/minute")
    for _ in range(3):
        assert await limits.inbound_text("s_a", "any boots?") is None
    limited = await limits.inbound_text("s_a", "any boots?")
    assert limited is not None and limited.retry_after_s >= 1 and "3 per 1 minute" in limited.limit
    assert await limits.inbound_text("s_b", "any boots?") is None, "another number is not held"
    for keyword in ("STOP", "HELP", "START", "JOIN", "Y"):
        assert await limits.inbound_text("s_a", keyword) is None
    assert await limits.event_post("10.0.0.1", 5) is None
    assert await limits.event_post("10.0.0.1", 1) is not None
    assert await limits.event_post("10.0.0.2", 1) is None


async def test_a_limiter_that_cannot_count_lets_the_text_through(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Under load with an instance killed, the shared Redis pool ran out ("Too many
    # connections"): the webhook answered 500 and the texts were lost.
    limits = RateLimits(inbound="1/minute", events="1/minute")

    class Broken:
        async def hit(self, *args: object, **kwargs: object) -> bool:
            raise ConnectionError("Too many connections")

    limits._limiter = Broken()  # type: ignore[assignment]
    assert await limits.inbound_text("s_a", "any boots?") is None
    assert await limits.event_post("10.0.0.1", 5) is None
    assert "rate limit not counted (ConnectionError)" in caplog.text


def test_serve_warns_about_open_doors_and_doors_that_refuse_everything(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from textcart.server.security import door_warnings

    for name in ("TWILIO_AUTH_TOKEN", "TEXTCART_EVENTS_SECRET", "TEXTCART_API_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TEXTCART_INSECURE_DEV", raising=False)
    refused = " ".join(door_warnings())
    assert all(n in refused for n in ("/sms/inbound", "/events", "LangGraph API"))
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "t")
    monkeypatch.setenv("TEXTCART_EVENTS_SECRET", "s")
    monkeypatch.setenv("TEXTCART_API_KEYS", "k")
    assert door_warnings() == []
    monkeypatch.setenv("TEXTCART_INSECURE_DEV", "true")
    (warning,) = door_warnings()
    assert "NOT checked" in warning
