"""Consent keywords, quiet hours and frequency caps through the real graph (real Weaviate).

After an opt-out nothing leaves, whatever a model decides: the model here is scripted to
push an offer on every turn, and a subscribed control shopper shows it would have been sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from consent_cases import OPT_OUT_VARIANTS
from scripted_model import SPEC, ScriptedModel, install, uninstall

from textcart.agent import Agent, run_due_proactive
from textcart.graph.context import Context
from textcart.tools.compliance import opt_out_confirmation
from textcart.tools.shopper_store import shopper_id_for_phone

pytestmark = pytest.mark.usefixtures("demo_catalog")
VIEWED = [{"type": "viewed", "product_id": "TH-RIDGE-TR-M-BLU", "minutes_ago": 40}]
PUSHY = {
    "IntentResult": {"label": "price_or_discount", "confidence": 0.99},
    "BuyLikelihoodResult": {"probability": 0.45},
    "ToneResult": {"label": "urgent"},
    "NextMessageResult": {"message_type": "recommend_products", "rationale": "sell!"},
    "SmsDraft": {"text": "Last chance, {name}: the Ridgeline is waiting for you!"},
}


@pytest.fixture
async def agent(tmp_path: Path) -> AsyncIterator[Agent]:
    await install(ScriptedModel(answer=lambda title, prompt: json.dumps(PUSHY.get(title, {}))))
    # No quiet hours unless a test sets them: the wall clock must not decide a test.
    context = Context(model=SPEC, quiet_hours_start=0, quiet_hours_end=0, llm_timeout_s=5)
    async with Agent.open(tmp_path, context) as opened:
        yield opened
    await uninstall()


async def outbound(agent: Agent, phone: str) -> list[dict[str, Any]]:
    log = await agent.shoppers.messages(agent.shopper_id(phone))
    return [m for m in log if m["direction"] == "outbound"]


async def test_every_opt_out_variant_gets_one_confirmation_then_silence(agent: Agent) -> None:
    night = datetime(2026, 6, 2, 5, 30, tzinfo=UTC)  # 01:30 in New York
    agent.context.quiet_hours_start, agent.context.quiet_hours_end = 21, 9
    control = "+12125559999"
    await agent.seed_shopper(control, first_name="Cy", timezone="America/New_York", events=VIEWED)
    noon = datetime(2026, 6, 2, 16, 0, tzinfo=UTC)
    assert (await agent.trigger(control, "browse_abandonment", at=noon))["outbound"]
    after_opt_out = 0
    for i, variant in enumerate(OPT_OUT_VARIANTS):
        phone = f"+1212555{1000 + i}"
        await agent.seed_shopper(phone, timezone="America/New_York", events=VIEWED)
        # A nudge held back by quiet hours must not go out after the opt-out either.
        await agent.trigger(phone, "browse_abandonment", at=night)
        stop = await agent.receive(phone, variant)
        assert stop["outbound"] and stop["outbound"]["text"] == opt_out_confirmation(
            agent.context.store_name
        ), variant
        sent_before = len(await outbound(agent, phone))
        await agent.receive(phone, "actually any deals on those runners? send me a code")
        await agent.receive(phone, variant)  # a second opt-out gets no second confirmation
        await agent.trigger(phone, "cart_abandonment")
        after_opt_out += len(await outbound(agent, phone)) - sent_before
        consent = await agent.shoppers.get_consent(agent.shopper_id(phone))
        assert consent["status"] == "opted_out"
        # The seeded opt-in (an import, with its proof), then the shopper's own opt-out.
        assert [h["status"] for h in consent["history"]] == ["subscribed", "opted_out"], variant
        assert consent["history"][0]["source"] == "import" and consent["history"][0]["proof"]
        assert consent["history"][-1]["at"] and consent["history"][-1]["message_id"]
    await run_due_proactive(agent, night + timedelta(hours=12))
    for i in range(len(OPT_OUT_VARIANTS)):
        after_opt_out += len(await outbound(agent, f"+1212555{1000 + i}")) - 1
    assert after_opt_out == 0
    assert len(OPT_OUT_VARIANTS) >= 40
    # The same model, for a shopper who did not opt out, does get texts out.
    assert len(await outbound(agent, control)) == 1
    assert await agent.shoppers.queued_proactive() == []


async def test_start_resubscribes_and_yes_is_an_answer(agent: Agent) -> None:
    phone = "+13035550123"
    await agent.seed_shopper(phone, events=VIEWED)
    yes = await agent.receive(phone, "yes")
    assert yes["gate"]["action"] == "continue"  # subscribed: "yes" answers, consent unchanged
    await agent.receive(phone, "STOP")
    start = await agent.receive(phone, "start")
    assert "subscribed again" in (start["outbound"] or {}).get("text", "")
    help_ = await agent.receive(phone, "HELP")
    assert "Reply STOP" in help_["outbound"]["text"]
    history = (await agent.shoppers.get_consent(agent.shopper_id(phone)))["history"]
    assert [(h["status"], h["source"], h.get("detail")) for h in history] == [
        ("subscribed", "import", None),
        ("opted_out", "keyword", "STOP"),
        ("subscribed", "keyword", "START"),
    ]


async def test_quiet_hours_queue_the_nudge_until_morning(agent: Agent) -> None:
    agent.context.quiet_hours_start, agent.context.quiet_hours_end = 21, 9
    phone = "+13035550150"
    await agent.seed_shopper(phone, timezone="America/Denver", events=VIEWED)
    late = datetime(2026, 6, 2, 5, 30, tzinfo=UTC)  # 23:30 in Denver
    held = await agent.trigger(phone, "browse_abandonment", at=late)
    assert held["outbound"] is None and "quiet hours in America/Denver" in held["gate"]["reason"]
    morning = datetime(2026, 6, 2, 15, 0, tzinfo=UTC)  # 09:00 in Denver
    queued = await agent.shoppers.queued_proactive()
    assert [e["not_before"] for e in queued] == [morning.isoformat()]
    assert await run_due_proactive(agent, morning - timedelta(minutes=1)) == []
    turns = await run_due_proactive(agent, morning + timedelta(minutes=1))
    assert len(turns) == 1 and turns[0]["outbound"] and turns[0]["outbound"]["text"]
    assert await run_due_proactive(agent, morning + timedelta(hours=1)) == []
    sent = await outbound(agent, phone)
    assert len(sent) == 1 and sent[0]["proactive"]


async def test_a_queued_nudge_that_falls_due_in_quiet_hours_is_queued_again(agent: Agent) -> None:
    phone = "+13035550151"
    await agent.seed_shopper(phone, timezone="America/Denver", events=VIEWED)
    evening = datetime(2026, 6, 3, 2, 30, tzinfo=UTC)  # 20:30 in Denver, not quiet yet
    await agent.shoppers.queue_proactive(shopper_id_for_phone(phone), "browse_abandonment", evening)
    agent.context.quiet_hours_start, agent.context.quiet_hours_end = 21, 9
    late = datetime(2026, 6, 3, 4, 0, tzinfo=UTC)  # the poller comes by at 22:00 Denver
    turns = await run_due_proactive(agent, late)
    assert len(turns) == 1 and turns[0]["outbound"] is None
    morning = datetime(2026, 6, 3, 15, 0, tzinfo=UTC)  # 09:00 in Denver
    assert [e["not_before"] for e in await agent.shoppers.queued_proactive()] == [
        morning.isoformat()
    ]


@pytest.mark.parametrize(
    "phone,profile_zone,queued",
    [
        ("+14155550160", None, True),  # 07:00 in San Francisco (area code 415)
        ("+12125550161", None, False),  # 10:00 in New York (area code 212)
        ("+14155550162", "America/New_York", False),  # the profile beats the area code
        ("+18005550163", None, False),  # toll-free, no zone: the store's, 10:00 in New York
    ],
)
async def test_zone_from_profile_then_area_code_then_store(
    agent: Agent, phone: str, profile_zone: str | None, queued: bool
) -> None:
    agent.context.quiet_hours_start, agent.context.quiet_hours_end = 21, 9
    await agent.seed_shopper(phone, timezone=profile_zone, events=VIEWED)
    at = datetime(2026, 6, 2, 14, 0, tzinfo=UTC)
    state = await agent.trigger(phone, "browse_abandonment", at=at)
    assert (state["outbound"] is None) == queued, state["gate"]["reason"]
    assert bool(await agent.shoppers.queued_proactive()) == queued


async def test_replies_go_out_inside_quiet_hours(agent: Agent) -> None:
    phone = "+13035550170"
    await agent.seed_shopper(phone, timezone="America/Denver", events=VIEWED)
    hour = datetime.now(UTC).astimezone(ZoneInfo("America/Denver")).hour
    # Quiet hours around the current hour, whatever time the test runs.
    agent.context.quiet_hours_start, agent.context.quiet_hours_end = hour, (hour + 2) % 24
    reply = await agent.receive(phone, "do the ridgeline runners come in a 10?")
    assert reply["outbound"] and reply["outbound"]["text"]
    nudge = await agent.trigger(phone, "browse_abandonment")
    assert nudge["outbound"] is None and len(await agent.shoppers.queued_proactive()) == 1


async def test_frequency_cap_over_a_rolling_window(agent: Agent) -> None:
    phone = "+13035550180"
    await agent.seed_shopper(phone, events=VIEWED)
    agent.context.proactive_cap_24h, agent.context.proactive_window_hours = 2, 24
    t0 = datetime.now(UTC)
    results = []
    for offset in (timedelta(0), timedelta(hours=1), timedelta(hours=2), timedelta(hours=25)):
        state = await agent.trigger(phone, "browse_abandonment", at=t0 + offset)
        results.append(state["outbound"] is not None)
    assert results == [True, True, False, True]
    capped = await agent.trigger(phone, "cart_abandonment", at=t0 + timedelta(hours=3))
    assert "frequency cap of 2 per 24 h" in capped["gate"]["reason"]
    # Replies to the shopper's own texts are never capped.
    for text in ("which one is lighter?", "and in a 10?", "ok thanks"):
        assert (await agent.receive(phone, text))["gate"]["action"] == "continue"


async def test_short_window_cap(agent: Agent) -> None:
    phone = "+13035550190"
    await agent.seed_shopper(phone, events=VIEWED)
    agent.context.proactive_cap_24h, agent.context.proactive_window_hours = 1, 1
    t0 = datetime.now(UTC)
    sent = [
        (await agent.trigger(phone, "browse_abandonment", at=t0 + offset))["outbound"] is not None
        for offset in (timedelta(0), timedelta(minutes=30), timedelta(minutes=61))
    ]
    assert sent == [True, False, True]


async def test_the_first_marketing_text_names_the_store_and_how_to_stop(agent: Agent) -> None:
    phone = "+12125550131"
    await agent.seed_shopper(phone, first_name="Di", timezone="America/New_York", events=VIEWED)
    store = agent.context.store_name
    now = datetime.now(UTC)
    first = await agent.trigger(phone, "browse_abandonment", message_id="p-1", at=now)
    text = first["outbound"]["text"]  # type: ignore[index]
    assert text.startswith(f"{store}:") and text.endswith("Reply STOP to opt out.")
    assert first["outbound"]["segments"] <= agent.context.max_segments  # type: ignore[index]
    logged = (await outbound(agent, phone))[-1]
    assert logged["text"] == text and logged["disclosure"] is True
    # Within 30 days the next one need not repeat it; after 30 days one must again.
    second = await agent.trigger(
        phone, "browse_abandonment", message_id="p-2", at=now + timedelta(days=2)
    )
    assert "Reply STOP" not in second["outbound"]["text"]  # type: ignore[index]
    third = await agent.trigger(
        phone, "browse_abandonment", message_id="p-3", at=now + timedelta(days=33)
    )
    assert third["outbound"]["text"].endswith("Reply STOP to opt out.")  # type: ignore[index]


async def test_a_number_that_never_opted_in_gets_answers_but_no_nudge(agent: Agent) -> None:
    phone = "+12125550132"
    reply = await agent.receive(phone, "any trail runners in a 10?")
    assert reply["outbound"] and reply["outbound"]["text"]
    await agent.shoppers.add_event(agent.shopper_id(phone), "added_to_cart", "TH-RIDGE-TR-M-BLU")
    nudge = await agent.trigger(phone, "cart_abandonment")
    assert nudge["outbound"] is None and "not opted in" in nudge["gate"]["reason"]
    assert [m for m in await outbound(agent, phone) if m.get("proactive")] == []


async def test_a_florida_number_gets_8_to_8_and_three_a_day(agent: Agent) -> None:
    miami = ZoneInfo("America/New_York")
    phone = "+13055550133"  # a Miami number; no time zone in the profile
    await agent.seed_shopper(phone, first_name="Flo", events=VIEWED)
    agent.context.proactive_cap_24h = 5  # the store would allow more; Florida does not
    evening = datetime(2026, 6, 2, 20, 30, tzinfo=miami)
    held = await agent.trigger(phone, "browse_abandonment", at=evening)
    assert held["outbound"] is None and "FL" in held["gate"]["reason"]
    (queued,) = await agent.shoppers.queued_proactive()
    assert queued["not_before"] == datetime(2026, 6, 3, 8, tzinfo=miami).astimezone(UTC).isoformat()
    await agent.shoppers.clear_proactive(agent.shopper_id(phone), "browse_abandonment")
    sent = []
    for n, hour in enumerate((9, 11, 13, 15)):
        state = await agent.trigger(
            phone,
            "browse_abandonment",
            message_id=f"fl-{n}",
            at=datetime(2026, 6, 3, hour, tzinfo=miami),
        )
        sent.append(bool(state["outbound"] and state["outbound"]["text"]))
        if n == 3:
            assert "FL allows 3" in state["gate"]["reason"]
    assert sent == [True, True, True, False]
