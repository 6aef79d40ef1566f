"""Tracked links and outcomes on a shopper store (in memory): codes, clicks, purchases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from langgraph.store.memory import InMemoryStore

from textcart.evaluation.report import outcomes_lines
from textcart.rules.attribution import Windows
from textcart.rules.holdout import wording_variant
from textcart.tools import links
from textcart.tools.outcomes import (
    attribution_summary,
    record_purchase,
    record_response,
    windows_from_env,
)
from textcart.tools.shopper_store import ShopperStore, shopper_id_for_phone

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SETTINGS = links.LinkSettings("https://shop.example.com", ttl_days=30, click_window_h=24)
SID = shopper_id_for_phone("+12125550142")
PHONE_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile"


async def _shop_with_text(at: datetime = T0, text: str = "Hi") -> ShopperStore:
    shoppers = ShopperStore(InMemoryStore())
    await shoppers.log_message(
        SID,
        "m1",
        {"message_id": "m1", "direction": "outbound", "text": text, "at": at.isoformat(),
         "delivery": {"status": "sent"}, "proactive": True, "outcomes": []},
    )  # fmt: skip
    return shoppers


async def _track(shoppers: ShopperStore, text: str) -> tuple[str, list[str]]:
    return await links.track_links(
        shoppers.store, SETTINGS, shopper_id=SID, message_id="m1", text=text,
        campaign="cart_abandonment", content="nudge_checkout", now=T0,
    )  # fmt: skip


async def test_every_link_in_a_text_becomes_a_short_tracked_one() -> None:
    shoppers = await _shop_with_text()
    text = "See https://trailhead.example/products/A. Or https://trailhead.example/cart?x=1!"
    tracked, codes = await _track(shoppers, text)
    assert len(codes) == 2 and codes[0] != codes[1]
    assert tracked == (
        f"See https://shop.example.com/l/{codes[0]}. Or https://shop.example.com/l/{codes[1]}!"
    )
    assert all(links.is_code(c) and len(c) == links.CODE_LENGTH for c in codes)
    link = await links.resolve(shoppers.store, codes[1], T0)
    assert link is not None and link["url"] == "https://trailhead.example/cart?x=1"
    assert (link["shopper_id"], link["message_id"]) == (SID, "m1")
    again, more = await _track(shoppers, tracked)
    assert (again, more) == (tracked, [])  # an already tracked link is left alone


async def test_unknown_malformed_and_expired_codes_resolve_to_nothing() -> None:
    shoppers = await _shop_with_text()
    _, (code,) = await _track(shoppers, "https://trailhead.example/p")
    assert await links.resolve(shoppers.store, "Zz9Zz9Zz9", T0) is None
    for bad in ("", "../etc", "a" * 40, "abc def!"):
        assert await links.resolve(shoppers.store, bad, T0) is None
    assert await links.resolve(shoppers.store, code, T0 + timedelta(days=29)) is not None
    assert await links.resolve(shoppers.store, code, T0 + timedelta(days=31)) is None


def test_utm_parameters_are_added_and_the_stores_own_kept() -> None:
    url = links.with_utm("https://x.example/p?utm_source=site&size=9", "cart_abandonment", "nudge")
    query = parse_qs(urlsplit(url).query)
    assert query["utm_source"] == ["site"] and query["size"] == ["9"]
    assert query["utm_medium"] == ["sms"] and query["utm_campaign"] == ["cart_abandonment"]


@pytest.mark.parametrize(
    "agent",
    ["facebookexternalhit/1.1 Facebot Twitterbot/1.0", "WhatsApp/2.23.20.0 A",
     "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", "TelegramBot (like TwitterBot)",
     "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     "curl/8.4.0", "python-httpx/0.28", "", None],
)  # fmt: skip
def test_previews_bots_and_scripts_are_not_people(agent: str | None) -> None:
    assert not links.is_person(agent)


def test_phones_and_browsers_are_people() -> None:
    assert links.is_person(PHONE_UA)
    assert links.is_person("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/126.0 Mobile Safari")


async def test_a_click_is_counted_once_per_window() -> None:
    shoppers = await _shop_with_text()
    _, (code,) = await _track(shoppers, "https://trailhead.example/p")
    link = await links.resolve(shoppers.store, code, T0)
    assert link is not None
    assert await links.record_click(shoppers, code, link, T0 + timedelta(minutes=1), 24)
    assert not await links.record_click(shoppers, code, link, T0 + timedelta(minutes=2), 24)
    assert not await links.record_click(shoppers, code, link, T0 + timedelta(hours=20), 24)
    assert await links.record_click(shoppers, code, link, T0 + timedelta(hours=26), 24)
    message = await shoppers.get_message(SID, "m1")
    assert message is not None
    assert [o["outcome"] for o in message["outcomes"]] == ["clicked", "clicked"]
    events = await shoppers.events(SID)
    assert [e["type"] for e in events] == ["clicked_link", "clicked_link"]


async def test_a_click_on_a_forgotten_message_records_nothing() -> None:
    shoppers = await _shop_with_text()
    link = {"shopper_id": SID, "message_id": "gone", "url": "https://x.example"}
    assert not await links.record_click(shoppers, "Abcdefghi", link, T0, 24)


async def test_a_purchase_is_credited_once_with_its_rule_and_value() -> None:
    shoppers = await _shop_with_text()
    for _ in range(2):  # the store replays its webhook
        found = await record_purchase(
            shoppers, SID, at=T0 + timedelta(hours=3), event_id="order-1", windows=Windows(),
            value=129.5, product_id="TH-1",
        )  # fmt: skip
        assert (found.message_id, found.rule) == ("m1", "message")
    message = await shoppers.get_message(SID, "m1")
    assert message is not None
    (outcome,) = message["outcomes"]
    assert outcome["outcome"] == "purchased" and outcome["rule"] == "message"
    assert outcome["rule_text"] == "message within 24 h" and outcome["value"] == 129.5


async def test_purchases_without_a_text_before_them_are_not_credited() -> None:
    shoppers = await _shop_with_text()
    early = await record_purchase(
        shoppers, SID, at=T0 - timedelta(hours=1), event_id="o", windows=Windows()
    )
    stranger = await record_purchase(
        shoppers, shopper_id_for_phone("+13125550177"), at=T0, event_id="o2", windows=Windows()
    )
    assert early.message_id is None and stranger.message_id is None
    message = await shoppers.get_message(SID, "m1")
    assert message is not None and message["outcomes"] == []


async def test_replies_and_opt_outs_attach_to_the_text_they_answer() -> None:
    shoppers = await _shop_with_text()
    windows = Windows()
    assert await record_response(
        shoppers, SID, at=T0 + timedelta(hours=1), inbound_id="in-1", opted_out=False,
        windows=windows,
    ) == "m1"  # fmt: skip
    await record_response(
        shoppers, SID, at=T0 + timedelta(hours=2), inbound_id="in-2", opted_out=True,
        windows=windows,
    )  # fmt: skip
    await record_response(
        shoppers, SID, at=T0 + timedelta(hours=2), inbound_id="in-2", opted_out=True,
        windows=windows,
    )  # fmt: skip
    assert await record_response(
        shoppers, SID, at=T0 + timedelta(days=2), inbound_id="in-3", opted_out=False,
        windows=windows,
    ) is None  # fmt: skip
    message = await shoppers.get_message(SID, "m1")
    assert message is not None
    assert [o["outcome"] for o in message["outcomes"]] == ["replied", "opted_out"]


async def _trigger(shoppers: ShopperStore, sid: str, arm: str, at: datetime) -> None:
    await shoppers.log_trigger(
        sid, f"t-{arm}-{at.isoformat()}",
        {"trigger": "cart_abandonment", "at": at.isoformat(), "arm": arm, "policy": "classic"},
    )  # fmt: skip


async def test_the_summary_counts_messages_clicks_conversions_and_the_holdout() -> None:
    shoppers = await _shop_with_text()
    _, (code,) = await _track(shoppers, "https://trailhead.example/p")
    link = await links.resolve(shoppers.store, code, T0)
    assert link is not None
    await links.record_click(shoppers, code, link, T0 + timedelta(minutes=5), 24)
    await shoppers.add_event(SID, "purchased", "TH-1", T0 + timedelta(hours=1), "o1",
                             details={"value": 80.0})  # fmt: skip
    await record_purchase(
        shoppers, SID, at=T0 + timedelta(hours=1), event_id="o1", windows=Windows(), value=80.0
    )
    await _trigger(shoppers, SID, "sent", T0)
    other = shopper_id_for_phone("+13125550177")
    await _trigger(shoppers, other, "held_out", T0)
    summary = await attribution_summary(shoppers.store, Windows(), T0 + timedelta(days=10))
    assert summary["messages"] == 1 and summary["clicks"] == 1
    assert summary["conversions"] == 1 and summary["attributed_revenue"] == 80.0
    assert summary["conversions_by_rule"] == {"click": 1}
    assert summary["message_outcomes"] == {"purchased": 1}
    holdout: dict[str, Any] = summary["holdout"]
    assert holdout["sent"]["triggers"] == 1 and holdout["sent"]["conversions"] == 1
    assert holdout["held_out"]["triggers"] == 1 and holdout["held_out"]["conversions"] == 0
    assert holdout["difference_per_1000"] == 1000.0
    assert set(holdout["by_trigger"]) == {"cart_abandonment"}
    assert set(holdout["by_policy"]) == {"classic"}
    # `textcart report` prints the same numbers as `textcart attribution`.
    lines = "\n".join(outcomes_lines(summary))
    assert "attributed conversions: 1 (click: 1); attributed revenue: 80.00" in lines
    assert "| sent | 1 | 1 | 1000 | 80000 |" in lines
    assert "Sent minus held out: +1000 conversions per 1,000 triggers (95% CI" in lines
    assert "Not included" in "\n".join(outcomes_lines(None))


async def test_wording_tests_compare_variants_by_their_texts_outcomes() -> None:
    shoppers = ShopperStore(InMemoryStore())
    for i in range(40):
        sid = shopper_id_for_phone(f"+1212555{3000 + i}")
        variant = "A" if i % 2 else "B"
        outcomes = [{"outcome": "clicked", "at": T0.isoformat()}] if variant == "A" else []
        await shoppers.log_message(
            sid, "m",
            {"message_id": "m", "direction": "outbound", "text": "Hi", "at": T0.isoformat(),
             "message_type": "nudge_checkout", "variant": variant, "outcomes": outcomes},
        )  # fmt: skip
    summary = await attribution_summary(shoppers.store, Windows(), T0 + timedelta(days=2))
    test = summary["wording_tests"]["nudge_checkout"]
    assert test["A"]["texts"] == test["B"]["texts"] == 20
    assert (test["A"]["clicked"], test["B"]["clicked"]) == (20, 0)
    assert test["click_rate_b_minus_a"] == -1.0
    low, high = test["click_rate_b_minus_a_ci95"]
    assert low < -0.8 and high < 0


async def _nudged(shoppers: ShopperStore, sid: str, i: int, variant: str, by: str) -> None:
    """A cart trigger in the sent arm and the nudge it sent, written in a wording arm."""
    mid = f"t-{i}:reply"
    await shoppers.log_message(
        sid, mid,
        {"message_id": mid, "direction": "outbound", "text": "Your cart is waiting",
         "at": T0.isoformat(), "message_type": "nudge_checkout", "proactive": True,
         "variant": variant, "variant_by": by, "delivery": {"status": "sent"}, "outcomes": []},
    )  # fmt: skip
    await shoppers.log_trigger(
        sid, f"t-{i}",
        {"trigger": "cart_abandonment", "at": T0.isoformat(), "arm": "sent",
         "policy": "classic", "message_id": mid},
    )  # fmt: skip


async def test_each_wording_arm_is_measured_against_its_own_held_out_shoppers() -> None:
    shoppers = ShopperStore(InMemoryStore())
    expected: dict[str, dict[str, int]] = {v: {"sent": 0, "held": 0, "bought": 0} for v in "AB"}
    for i in range(80):
        sid = shopper_id_for_phone(f"+1415555{3000 + i}")
        variant = wording_variant(sid, "nudge_checkout")
        if i % 4 == 0:
            await _trigger(shoppers, sid, "held_out", T0)
            expected[variant]["held"] += 1
            continue
        await _nudged(shoppers, sid, i, variant, "template" if i % 2 else "prompt")
        expected[variant]["sent"] += 1
        if variant == "A":  # only arm A's texts sell
            at = T0 + timedelta(hours=2)
            await shoppers.add_event(sid, "purchased", "TH-1", at, f"o{i}", details={"value": 50.0})
            await record_purchase(shoppers, sid, at=at, event_id=f"o{i}", windows=Windows())
            expected[variant]["bought"] += 1
    # A browse trigger held out sends no nudge: it is not in the nudge's comparison.
    await shoppers.log_trigger(
        SID, "browse", {"trigger": "browse_abandonment", "at": T0.isoformat(), "arm": "held_out"}
    )
    summary = await attribution_summary(shoppers.store, Windows(), T0 + timedelta(days=10))
    test = summary["wording_tests"]["nudge_checkout"]
    assert test["holdout_trigger_kinds"] == ["cart_abandonment"]
    for v in "AB":
        arm = test["holdout"][v]
        assert arm["sent"]["triggers"] == expected[v]["sent"] > 0
        assert arm["held_out"]["triggers"] == expected[v]["held"] > 0
        assert arm["sent"]["conversions"] == expected[v]["bought"]
        assert arm["held_out"]["conversions"] == 0
        # The same attribution as every other text: purchases credited by the rule.
        assert test[v]["purchased"] == expected[v]["bought"]
        by_writer = test["by_writer"]
        assert (
            by_writer["template"][v]["texts"] + by_writer["prompt"][v]["texts"]
            == (expected[v]["sent"])
        )
    assert test["holdout"]["A"]["difference_per_1000"] == 1000.0
    assert test["holdout"]["A"]["difference_ci95_per_1000"][0] > 0
    assert test["holdout"]["B"]["difference_per_1000"] == 0.0
    lines = "\n".join(outcomes_lines(summary))
    assert "Each arm against its own held-out shoppers (triggers: cart_abandonment):" in lines
    held_a = expected["A"]["held"]
    assert f"| A | {expected['A']['sent']} | 1000 | {held_a} | 0 | +1000 [" in lines
    assert "Written by prompt: A " in lines and "; template: A " in lines


def test_windows_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTCART_ATTRIBUTION_CLICK_DAYS", "3")
    monkeypatch.setenv("TEXTCART_CLOCK_SKEW_S", "60")
    windows = windows_from_env()
    assert windows.click_days == 3 and windows.skew_s == 60 and windows.message_hours == 24
    monkeypatch.setenv("TEXTCART_ATTRIBUTION_MESSAGE_H", "-1")
    with pytest.raises(ValueError):
        windows_from_env()
