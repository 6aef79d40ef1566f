"""Fuzzing the HTTP edge: whatever arrives, a clear 2xx/4xx, never a crash.

The routes run in process (ASGI) with a recording inbox in place of the graph: what is
under test is parsing, validation and the signatures (missing, garbage, tampered, signed
with another secret, stale); only a valid signature reaches the inbox or the store. The
real server runs the same routes in tests/e2e/test_server.py.
"""

from __future__ import annotations

import json
import re
import time
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langgraph.store.memory import InMemoryStore

from textcart.graph.services import Services
from textcart.server.app import app
from textcart.server.security import RateLimits, sign_events
from textcart.tools import sms
from textcart.tools.shopper_store import ShopperStore, normalize_phone

TOKEN = "fuzz-token"
SECRET = "fuzz-events-secret"
URL = "http://textcart.test/sms/inbound"
EXAMPLES = 300


class RecordingInbox:
    """Stands in for the inbox: records what reached it and answers with a fixed text."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str]] = []

    async def answer(self, sid: str, phone: str, shopper_id: str, body: str) -> str | None:
        self.calls.append((sid, phone, shopper_id, body))
        return "thanks!"

    async def responding(self, sid: str) -> bool:
        return True


@pytest.fixture(scope="module")
def inbox(services: Services) -> RecordingInbox:
    recorder = RecordingInbox()
    app.state.services = services
    app.state.inbox = recorder
    app.state.shoppers = ShopperStore(InMemoryStore())
    app.state.scheduler = SimpleNamespace(wake=lambda: None, stats=lambda: {})
    app.state.limits = RateLimits("1000000/minute", "1000000/minute")
    return recorder


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://textcart.test"
    )


phones = st.one_of(
    st.from_regex(r"\+1[2-9]\d{9}", fullmatch=True),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=20),
    st.just(""),
)
# Surrogates are left out: no HTTP client can send them (raw bytes are fuzzed below).
bodies = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200),
    st.text(alphabet=st.characters(categories=["So", "Cc", "Zs", "Mn"]), max_size=50),
    st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1590, max_size=1700),
)
safe_text = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=70)
sids = st.one_of(st.from_regex(r"SM[0-9a-f]{32}", fullmatch=True), safe_text)
extra = st.dictionaries(safe_text, safe_text, max_size=5)
# How a request is signed: properly, not at all, with garbage, for another form or body
# (tampered), with another secret, or (events) too long ago.
signings = st.sampled_from(["valid", "none", "garbage", "tampered", "other-secret", "stale"])


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    phone=phones,
    body=bodies,
    sid=sids,
    more=extra,
    signing=signings,
    garbage=st.text(alphabet=st.characters(codec="latin-1", exclude_categories=["Cc"])),
)
async def test_any_form_gets_a_clear_answer(
    inbox: RecordingInbox,
    monkeypatch: pytest.MonkeyPatch,
    phone: str,
    body: str,
    sid: str,
    more: dict[str, str],
    signing: str,
    garbage: str,
) -> None:
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.delenv("TEXTCART_INSECURE_DEV", raising=False)
    form = {**more, "From": phone, "Body": body, "MessageSid": sid}
    signature = {
        "valid": sms.sign(TOKEN, URL, form),
        "none": None,
        "garbage": garbage,
        "tampered": sms.sign(TOKEN, URL, {**form, "Body": body + "!"}),
        "other-secret": sms.sign("another-token", URL, form),
        "stale": sms.sign(TOKEN, URL + "?replayed=1", form),  # Twilio signs no time: other URL
    }[signing]
    # Raw bytes: a forged header may carry any latin-1 byte, which httpx sends as is.
    headers = {"X-Twilio-Signature": signature.encode("latin-1")} if signature is not None else {}
    before = len(inbox.calls)
    async with client() as http:
        response = await http.post("/sms/inbound", data=form, headers=headers)
    assert response.status_code in (200, 400, 403, 413), response.text
    if response.status_code == 200:
        assert signing == "valid" and response.text == sms.twiml_reply("thanks!")
        got_sid, got_phone, _, got_body = inbox.calls[-1]
        assert (got_sid, got_body) == (sid, body) and len(inbox.calls) == before + 1
        assert re.fullmatch(r"\+[1-9]\d{7,14}", normalize_phone(got_phone))
    else:
        assert response.json()["error"] and len(inbox.calls) == before
        if signing != "valid" and response.status_code != 413:
            assert response.status_code == 403


async def test_without_a_token_every_text_is_refused(
    inbox: RecordingInbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("TEXTCART_INSECURE_DEV", raising=False)
    form = {"From": "+14155550123", "Body": "STOP", "MessageSid": "SM" + "a" * 32}
    before = len(inbox.calls)
    async with client() as http:
        for signature in (sms.sign("", URL, form), sms.sign("guess", URL, form), ""):
            response = await http.post(
                "/sms/inbound", data=form, headers={"X-Twilio-Signature": signature}
            )
            assert response.status_code == 403
            assert "TWILIO_AUTH_TOKEN" in response.json()["error"]
    assert len(inbox.calls) == before


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    raw=st.binary(max_size=400),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "text/plain", "application/json", ""]
    ),
)
async def test_any_bytes_get_a_clear_answer(
    inbox: RecordingInbox, monkeypatch: pytest.MonkeyPatch, raw: bytes, content_type: str
) -> None:
    # Signatures off (the laptop switch) so the bytes reach the parser.
    monkeypatch.setenv("TEXTCART_INSECURE_DEV", "true")
    async with client() as http:
        response = await http.post(
            "/sms/inbound", content=raw, headers={"Content-Type": content_type}
        )
    assert response.status_code in (200, 400, 413, 415), response.text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
events = st.fixed_dictionaries(
    {
        "phone": st.one_of(st.from_regex(r"\+1[2-9]\d{9}", fullmatch=True), json_values),
        "type": st.one_of(st.sampled_from(["viewed", "purchased", "added_to_cart"]), json_values),
    },
    optional={
        "product_id": st.one_of(st.text(max_size=20), json_values),
        "at": st.one_of(
            st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()), json_values
        ),
        "event_id": st.one_of(st.text(max_size=20), json_values),
    },
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    payload=st.one_of(
        events,
        st.lists(events, max_size=3),
        st.fixed_dictionaries({"events": st.lists(events, max_size=3)}),
        json_values,
    ),
    signing=signings,
)
async def test_any_event_payload_gets_a_clear_answer(
    inbox: RecordingInbox, monkeypatch: pytest.MonkeyPatch, payload: Any, signing: str
) -> None:
    monkeypatch.setenv("TEXTCART_EVENTS_SECRET", SECRET)
    monkeypatch.delenv("TEXTCART_INSECURE_DEV", raising=False)
    raw = json.dumps(payload).encode()
    now = int(time.time())
    header = {
        "valid": sign_events(SECRET, raw, now),
        "none": None,
        "garbage": "t=abc,v1=zz",
        "tampered": sign_events(SECRET, raw + b" ", now),
        "other-secret": sign_events("another-secret", raw, now),
        "stale": sign_events(SECRET, raw, now - 301),
    }[signing]
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-Textcart-Signature"] = header
    store = app.state.shoppers.store
    before = len(await store.asearch(("proactive_queue",), limit=10_000))
    async with client() as http:
        response = await http.post("/events", content=raw, headers=headers)
    if signing != "valid":
        assert response.status_code == 401, response.text
        assert response.json()["error"]
        after = len(await store.asearch(("proactive_queue",), limit=10_000))
        assert after == before, "a refused request stores nothing"
        return
    assert response.status_code in (202, 400), response.text
    if response.status_code == 400:
        assert response.json()["error"]


async def test_without_a_secret_every_event_is_refused(
    inbox: RecordingInbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEXTCART_EVENTS_SECRET", raising=False)
    monkeypatch.delenv("TEXTCART_INSECURE_DEV", raising=False)
    raw = json.dumps({"phone": "+14155550123", "type": "added_to_cart"}).encode()
    async with client() as http:
        response = await http.post(
            "/events",
            content=raw,
            headers={
                "X-Textcart-Signature": sign_events("", raw),
                "Content-Type": "application/json",
            },
        )
    assert response.status_code == 401
    assert "TEXTCART_EVENTS_SECRET" in response.json()["error"]
