"""Outcomes through a real `textcart serve`, on SQLite and on PostgreSQL.

An event, then a proactive text whose links are tracked; the link redirects (302, UTM) and
the click is recorded once (previews and repeats are not counted); a purchase event then
shows as a conversion attributed to that text; a held-out trigger sends nothing and is
counted in the holdout; `textcart attribution --json` reads the same numbers from the
store; the scheduled policy refit learns from the server's own log and records its
verdict. Bad input (unknown codes, purchases for strangers or unknown products, purchases
before the text, clocks ahead of ours, malformed values) gets a clear answer.

The server here has its own environment (a public URL for links, a holdout of half the
shoppers in experiment `e2e`, a refit every few seconds), so it is started by this module,
once per database.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from harness import (
    MODE,
    Server,
    TwilioRecorder,
    free_port,
    locked_env,
    log_of,
    new_phone,
    opt_in,
    post_events,
    post_sms,
    running_server,
    twilio_sender,
    wait_for,
    webhook_form,
)
from postgres_server import PostgresServer, postgres_server  # noqa: F401

from textcart.deciders.next_message_fit import LAST_REFIT, REFITS
from textcart.rules.holdout import is_held_out
from textcart.tools.shopper_store import shopper_id_for_phone

pytestmark = pytest.mark.e2e
EXPERIMENT = "e2e"
SHARE = 0.5
PRODUCT = "TH-STORMWALL-M-BLK"
REFIT_EVERY_H = 0.001  # 3.6 s
PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile"
PREVIEW_UA = "facebookexternalhit/1.1 Facebot Twitterbot/1.0"
# The production mode server keeps everything in its own PostgreSQL already.
BACKENDS = ["sqlite", "postgres"] if MODE == "dev" else ["production"]


@pytest.fixture(scope="module", params=BACKENDS)
def outcome_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    twilio: TwilioRecorder,
) -> Iterator[Server]:
    """A server with tracked links and a holdout, on SQLite or PostgreSQL."""
    directory = tmp_path_factory.mktemp(f"outcomes-{request.param}")
    port = free_port()
    extra = {}
    if request.param == "postgres":
        database: PostgresServer = request.getfixturevalue("postgres_server")
        extra["TEXTCART_DATABASE_URL"] = database.fresh_database()
    env = locked_env(
        **twilio_sender(twilio),
        TEXTCART_ABANDONMENT_DELAY_MINUTES="0",
        TEXTCART_SCHEDULER_INTERVAL_S="0.5",
        TEXTCART_QUIET_START="0",
        TEXTCART_QUIET_END="0",
        TEXTCART_PUBLIC_URL=f"http://127.0.0.1:{port}",
        TEXTCART_HOLDOUT_SHARE=str(SHARE),
        TEXTCART_HOLDOUT_EXPERIMENT=EXPERIMENT,
        TEXTCART_POLICY_REFIT_H=str(REFIT_EVERY_H),
        **extra,
    )
    with running_server(directory, env, port) as instance:
        yield instance


def phones(held_out: bool, n: int) -> list[str]:
    """Fresh numbers that fall on one side of the holdout draw."""
    found: list[str] = []
    while len(found) < n:
        phone = new_phone()
        if is_held_out(shopper_id_for_phone(phone), EXPERIMENT, SHARE) == held_out:
            found.append(phone)
    return found


def cart(phone: str, **extra: Any) -> dict[str, Any]:
    return {"phone": phone, "type": "added_to_cart", "product_id": PRODUCT, **extra}


def purchase(phone: str, **extra: Any) -> dict[str, Any]:
    return {"phone": phone, "type": "purchased", "product_id": PRODUCT, **extra}


async def triggers_of(server: Server, phone: str) -> list[dict[str, Any]]:
    namespace = ["shoppers", shopper_id_for_phone(phone), "triggers"]
    found = await server.client().store.search_items(namespace, limit=100)
    return [item["value"] for item in found["items"]]


async def nudge(server: Server, twilio: TwilioRecorder, phone: str) -> dict[str, str]:
    """Opt the shopper in, post a cart event, and wait for the text it brings."""
    await opt_in(server, phone)
    assert (await post_events(server, cart(phone))).status_code == 202
    sent = await wait_for(lambda: _first(twilio, phone), timeout_s=90)
    return sent  # type: ignore[no-any-return]


async def _first(twilio: TwilioRecorder, phone: str) -> dict[str, str] | None:
    sent = twilio.sent_to(phone)
    return sent[0] if sent else None


def attribution_cli(server: Server) -> dict[str, Any]:
    """`textcart attribution --json` against the server's own store."""
    done = subprocess.run(
        [sys.executable, "-m", "textcart.cli", "attribution", "--json",
         "--data-dir", str(server.directory)],
        env=server.command_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


async def test_tracked_link_click_and_attributed_purchase(
    outcome_server: Server, twilio: TwilioRecorder
) -> None:
    server = outcome_server
    own = f"{server.url}/l/"
    texts = [(p, (await nudge(server, twilio, p))["Body"]) for p in phones(False, 8)]
    urls = [(p, u) for p, body in texts for u in re.findall(r"https?://\S+", body)]
    assert urls, "the nudges' templates put a link in some of them"
    assert all(u.startswith(own) for _, u in urls), urls
    phone, url = urls[0]
    url = url.rstrip(".,!?")
    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as client:
        preview = await client.get(url, headers={"User-Agent": PREVIEW_UA})
        first = await client.get(url, headers={"User-Agent": PHONE_UA})
        again = await client.get(url, headers={"User-Agent": PHONE_UA})
    for response in (preview, first, again):
        assert response.status_code == 302
        target = response.headers["location"]
        assert target.startswith("https://trailhead.example/products/")
        assert "utm_source=textcart" in target and "utm_medium=sms" in target
    log = await log_of(server, phone)
    (message,) = [m for m in log if m.get("proactive")]
    assert [o["outcome"] for o in message["outcomes"]] == ["clicked"]
    order = await post_events(server, purchase(phone, value=189.0, event_id="order-1"))
    assert order.status_code == 202, order.text
    (credited,) = order.json()["purchases"]
    assert credited["attributed_to"]["message_id"] == message["message_id"]
    assert credited["attributed_to"]["rule"] == "click"
    replay = await post_events(server, purchase(phone, value=189.0, event_id="order-1"))
    assert replay.status_code == 202
    (message,) = [m for m in await log_of(server, phone) if m.get("proactive")]
    bought = [o for o in message["outcomes"] if o["outcome"] == "purchased"]
    assert len(bought) == 1 and bought[0]["rule_text"] == "click within 7 d"
    assert bought[0]["value"] == 189.0
    for other, _ in texts:
        assert len(await triggers_of(server, other)) == 1
    summary = attribution_cli(server)
    assert summary["clicks"] == 1 and summary["conversions"] == 1
    assert summary["attributed_revenue"] == 189.0
    assert summary["conversions_by_rule"] == {"click": 1}
    assert summary["holdout"]["sent"]["triggers"] >= len(texts)
    assert summary["holdout"]["sent"]["conversions"] >= 1


async def test_a_held_out_trigger_sends_nothing_and_counts_in_the_holdout(
    outcome_server: Server, twilio: TwilioRecorder
) -> None:
    server = outcome_server
    (phone,) = phones(True, 1)
    await opt_in(server, phone)
    answer = await post_events(server, cart(phone))
    assert answer.status_code == 202 and answer.json()["scheduled"]
    (trigger,) = await wait_for(lambda: triggers_of(server, phone), timeout_s=90)
    assert (trigger["arm"], trigger["experiment"], trigger["message_id"]) == (
        "held_out", EXPERIMENT, None,
    )  # fmt: skip
    assert twilio.sent_to(phone) == []
    assert [m for m in await log_of(server, phone) if m["direction"] == "outbound"] == []
    # The shopper buys anyway: no text earned it, and the holdout arm counts it.
    order = await post_events(server, purchase(phone, value=40.0, event_id="held-order"))
    assert order.json()["purchases"][0]["attributed_to"] is None
    summary = attribution_cli(server)
    assert summary["holdout"]["held_out"]["triggers"] >= 1
    assert summary["holdout"]["held_out"]["conversions"] >= 1


async def test_unknown_and_malformed_link_codes_get_a_plain_404(outcome_server: Server) -> None:
    async with httpx.AsyncClient(timeout=30, follow_redirects=False) as client:
        for code in ("Zz9Zz9Zz9", "abc", "..%2F..%2Fetc", "x" * 300):
            response = await client.get(f"{outcome_server.url}/l/{code}")
            assert response.status_code == 404, code
            assert "text/html" in response.headers["content-type"]
            assert "expired or does not exist" in response.text
            assert "Traceback" not in response.text


async def test_bad_purchases_are_answered_clearly_and_lose_nothing(
    outcome_server: Server, twilio: TwilioRecorder
) -> None:
    server = outcome_server
    stranger = new_phone()
    unknown = await post_events(server, purchase(stranger, event_id="s-1"))
    assert unknown.status_code == 202
    assert unknown.json()["purchases"][0]["attributed_to"] is None
    odd = await post_events(server, purchase(stranger, product_id="NOT-A-SKU", event_id="s-2"))
    assert odd.json()["purchases"][0]["unknown_product"] is True
    (phone,) = phones(False, 1)
    sent = await nudge(server, twilio, phone)
    assert sent["Body"]
    # The store's order from before the text arrives late: not the text's doing.
    before = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    late = await post_events(server, purchase(phone, at=before, event_id="late"))
    assert late.json()["purchases"][0]["attributed_to"] is None
    # A store clock two hours ahead: recorded at receipt, and credited to the text.
    ahead = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    skewed = await post_events(server, purchase(phone, at=ahead, event_id="ahead", value=5))
    assert skewed.status_code == 202 and "clock_skew" in skewed.json()
    assert skewed.json()["purchases"][0]["attributed_to"]["rule"] == "message"
    for bad in ({"value": -3}, {"value": "lots"}, {"at": "yesterday"}):
        refused = await post_events(server, purchase(phone, event_id="bad", **bad))
        assert refused.status_code == 400 and refused.json()["error"]
    events = await server.client().store.search_items(
        ["shoppers", shopper_id_for_phone(phone), "events"], limit=100
    )
    keys = {item["key"] for item in events["items"]}
    assert {"late", "ahead"} <= keys and "bad" not in keys


async def _refit_since(server: Server, since: datetime) -> dict[str, Any] | None:
    found = await server.client().store.search_items(list(REFITS), limit=10)
    last = next((i["value"] for i in found["items"] if i["key"] == LAST_REFIT), None)
    if last is None or datetime.fromisoformat(last["at"]) <= since:
        return None
    return last  # type: ignore[no-any-return]


async def test_the_scheduled_refit_learns_from_the_servers_own_log(
    outcome_server: Server,
) -> None:
    server = outcome_server
    phone = new_phone()
    await opt_in(server, phone)
    asked = datetime.now(UTC)
    reply = await post_sms(server, webhook_form(phone, "do you have a waterproof jacket?"))
    assert reply.status_code == 200
    learnable = [
        m for m in await log_of(server, phone)
        if m["direction"] == "outbound" and m.get("message_type") != "compliance"
    ]  # fmt: skip
    assert learnable and {"intent", "buy_likelihood"} <= set(learnable[0]["deciders"])
    # The server refits every TEXTCART_POLICY_REFIT_H (about 4 s here) from the store the
    # reply was logged in, and records what it decided there.
    last = await wait_for(lambda: _refit_since(server, asked), timeout_s=90)
    assert last["decisions"] >= 1 and last["comparison"]["decisions"] == last["decisions"]
    assert last["adopted"] in (True, False) and not last["forced"]
