"""The per-shopper store: ids from phone numbers, consent history, behaviour features."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from langgraph.store.memory import InMemoryStore

from textcart.rules.privacy import mask_phone
from textcart.tools.shopper_store import (
    ShopperStore,
    behaviour_features,
    gift_holiday_closeness,
    normalize_phone,
    shopper_id_for_phone,
    thread_id_for,
)


@pytest.mark.parametrize(
    "raw", ["+1 (212) 555-0142", "212-555-0142", "12125550142", "+12125550142", "001 212 555 0142"]
)
def test_phone_forms_map_to_one_shopper(raw: str) -> None:
    assert normalize_phone(raw) == "+12125550142"
    assert shopper_id_for_phone(raw) == shopper_id_for_phone("+12125550142")


@pytest.mark.parametrize("raw", ["", "hello", "+0123", "12345", "+1234567890123456789"])
def test_garbage_phone_is_rejected(raw: str) -> None:
    with pytest.raises(ValueError):
        normalize_phone(raw)


def test_ids_are_stable_and_do_not_leak_the_number() -> None:
    sid = shopper_id_for_phone("+12125550142")
    assert "2125550142" not in sid and sid.startswith("s_")
    assert (
        thread_id_for(sid)
        == thread_id_for(sid)
        != thread_id_for(shopper_id_for_phone("+13125550177"))
    )
    assert mask_phone("+12125550142") == "+1********42"


async def test_consent_history_and_namespaces() -> None:
    store = ShopperStore(InMemoryStore())
    a, b = shopper_id_for_phone("+12125550142"), shopper_id_for_phone("+13125550177")
    # A number nobody has heard of has not opted in to anything.
    assert (await store.get_consent(a))["status"] == "not_subscribed"
    assert (await store.context(a))["consent"] == "not_subscribed"
    with pytest.raises(ValueError, match="unknown consent status"):
        await store.set_consent(a, "maybe", "keyword")  # type: ignore[arg-type]
    await store.set_consent(a, "opted_out", "keyword")
    await store.set_consent(a, "subscribed", "keyword")
    consent = await store.get_consent(a)
    assert [h["status"] for h in consent["history"]] == ["opted_out", "subscribed"]
    assert all(h["source"] == "keyword" and h["at"] for h in consent["history"])
    assert (await store.get_consent(b))["history"] == []
    with pytest.raises(ValueError):
        await store.get_profile("../other")


async def test_message_log_outcomes_and_idempotent_keys() -> None:
    store = ShopperStore(InMemoryStore())
    sid = shopper_id_for_phone("+12125550142")
    entry = {
        "message_id": "m1",
        "direction": "outbound",
        "text": "hi",
        "at": "2026-01-01T00:00:00+00:00",
    }
    await store.log_message(sid, "m1", entry)
    await store.log_message(sid, "m1", entry)
    await store.record_outcome(sid, "m1", "clicked")
    log = await store.messages(sid)
    assert len(log) == 1 and log[0]["outcomes"][0]["outcome"] == "clicked"
    with pytest.raises(KeyError):
        await store.record_outcome(sid, "missing", "clicked")


def test_behaviour_features_count_recent_activity() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)

    def ev(kind: str, pid: str, minutes: float) -> dict:
        return {
            "type": kind,
            "product_id": pid,
            "at": (now - timedelta(minutes=minutes)).isoformat(),
        }

    events = [
        ev("viewed", "A", 10),
        ev("viewed", "A", 20),
        ev("viewed", "B", 25),
        ev("added_to_cart", "A", 15),
        ev("viewed", "C", 60 * 24 * 3),
        ev("purchased", "D", 60 * 24 * 30),
        ev("viewed", "E", 60 * 24 * 10),
    ]
    b = behaviour_features(events, now)
    assert b["product_views_7d"] == 4 and b["distinct_products_viewed_7d"] == 3
    assert b["cart_adds_7d"] == 1 and not b["checkout_started_7d"]
    assert b["purchases_90d"] == 1 and b["returning_customer"]
    assert b["sessions_7d"] == 2 and b["minutes_since_last_activity"] == 10.0
    assert (b.get("month"), b.get("weekend"), b.get("gift_holiday_closeness")) == (6, False, 0.0)


@pytest.mark.parametrize(
    ("day", "closeness"),
    [
        (date(2026, 2, 8), 1.0),  # six days before Valentine's Day
        (date(2026, 2, 4), 0.2),
        (date(2026, 2, 12), 0.2),
        (date(2026, 2, 14), 0.0),
        (date(2026, 5, 4), 1.0),  # six days before Mother's Day, Sunday 10 May 2026
        (date(2027, 5, 3), 1.0),  # Mother's Day 2027 is Sunday 9 May
        (date(2026, 7, 1), 0.0),
    ],
)
def test_gift_holiday_closeness_peaks_in_time_to_order(day: date, closeness: float) -> None:
    assert gift_holiday_closeness(day) == closeness


def test_calendar_features_come_from_the_turns_clock() -> None:
    saturday = datetime(2026, 2, 7, 23, tzinfo=UTC)
    b = behaviour_features([], saturday)
    assert (b.get("month"), b.get("weekend"), b.get("gift_holiday_closeness")) == (2, True, 0.8)
    # Late Sunday evening in Los Angeles is already Monday in UTC: the clock's zone counts.
    sunday_night = datetime(2026, 2, 8, 22, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert behaviour_features([], sunday_night).get("weekend") is True
    assert behaviour_features([], sunday_night.astimezone(UTC)).get("weekend") is False


async def test_context_of_unknown_shopper_is_empty_but_valid() -> None:
    store = ShopperStore(InMemoryStore())
    ctx = await store.context(shopper_id_for_phone("+12125550142"))
    assert ctx["consent"] == "not_subscribed" and ctx["turns_so_far"] == 0
    assert ctx["behaviour"]["minutes_since_last_activity"] is None
    with pytest.raises(ValueError):
        await store.add_event(ctx["shopper_id"], "teleported")
