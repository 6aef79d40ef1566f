"""Opt-in consent through the graph: JOIN + Y, no proactive text without it, proof kept.

The graph runs in process on in-memory stores with classic deciders (retrieval degrades on
purpose: Weaviate is pointed at a closed port); texts that are not returned in a response
go to an outbox file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from textcart.agent import Agent
from textcart.cli import app
from textcart.graph.context import Context
from textcart.graph.services import Services
from textcart.tools import compliance
from textcart.tools import consent as consent_rules
from textcart.tools.shopper_store import now_utc, shopper_id_for_phone
from textcart.tools.sms import OutboxSender

pytestmark = pytest.mark.usefixtures("services", "no_weaviate")

PHONE = "+14155550142"
STORE = "Trailhead Outfitters"


@pytest.fixture(autouse=True)
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox.jsonl"


async def make_agent(services: Services, outbox: Path) -> Agent:
    services.outbound = OutboxSender(outbox)
    context = Context(model=None, quiet_hours_start=0, quiet_hours_end=0, store_name=STORE)
    return Agent.in_memory(services, context)


def sent(outbox: Path) -> list[dict[str, Any]]:
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text().splitlines()]


async def status(agent: Agent) -> str:
    return str((await agent.shoppers.get_consent(shopper_id_for_phone(PHONE)))["status"])


async def test_an_unknown_number_gets_answers_but_nothing_proactive(
    services: Services, outbox: Path
) -> None:
    agent = await make_agent(services, outbox)
    state = await agent.receive(PHONE, "do you sell rain jackets?", "m-1")
    assert state["outbound"] and state["outbound"]["text"], "their own question is answered"
    assert await status(agent) == "not_subscribed"
    before = len(sent(outbox))
    state = await agent.trigger(PHONE, "cart_abandonment")
    assert state["gate"]["action"] == "silent" and "not opted in" in state["gate"]["reason"]
    assert len(sent(outbox)) == before
    assert await agent.shoppers.queued_proactive() == [], "nothing is queued for later either"
    # "yes" answers a question; it is no opt-in without a JOIN before it.
    await agent.receive(PHONE, "yes", "m-2")
    assert await status(agent) == "not_subscribed"


async def test_join_then_y_subscribes_with_proof_and_the_first_nudge_discloses(
    services: Services,
    outbox: Path,
) -> None:
    agent = await make_agent(services, outbox)
    request = await agent.receive(PHONE, "JOIN", "m-join")
    text = request["outbound"]["text"]  # type: ignore[index]
    for must in (STORE, "Reply Y", "recurring", "Msg & data rates may apply", "STOP", "HELP"):
        assert must in text, must
    assert await status(agent) == "pending"
    assert (await agent.trigger(PHONE, "cart_abandonment"))["gate"]["action"] == "silent"

    confirmed = await agent.receive(PHONE, "Y", "m-y")
    assert confirmed["gate"]["consent_change"] == "subscribed"
    assert "subscribed" in confirmed["outbound"]["text"]  # type: ignore[index]
    consent = await agent.shoppers.get_consent(shopper_id_for_phone(PHONE))
    last = consent["history"][-1]
    assert last["status"] == "subscribed" and last["message_id"] == "m-y" and last["at"]
    assert last["proof"]["disclosure"] == text and last["proof"]["requested_by"] == "m-join"

    # What the first proactive text then says is tested with the real catalog in
    # tests/integration/test_consent_and_send_rules.py.


async def test_stop_after_join_silences_every_proactive_text(
    services: Services, outbox: Path
) -> None:
    agent = await make_agent(services, outbox)
    await agent.receive(PHONE, "JOIN", "m-1")
    await agent.receive(PHONE, "YES", "m-2")
    await agent.receive(PHONE, "STOP", "m-3")
    before = len(sent(outbox))
    state = await agent.trigger(PHONE, "cart_abandonment")
    assert state["gate"]["action"] == "silent" and len(sent(outbox)) == before
    # "Y" after an opt-out confirms nothing; START comes back.
    await agent.receive(PHONE, "Y", "m-4")
    assert await status(agent) == "opted_out"
    back = await agent.receive(PHONE, "START", "m-5")
    assert await status(agent) == "subscribed" and "Msg & data" in back["outbound"]["text"]  # type: ignore[index]


def test_the_disclosure_is_kept_inside_the_segment_budget() -> None:
    long = "Still thinking about the Stormwall rain jacket? " * 8
    for budget in (1, 2, 3):
        text = consent_rules.with_disclosure(long, STORE, budget)
        assert text.startswith(f"{STORE}: ") and text.endswith(" Reply STOP to opt out.")
        assert compliance.sms_segments(text).segments <= budget
    short = consent_rules.with_disclosure("Your cart is waiting.", STORE, 2)
    assert short == f"{STORE}: Your cart is waiting. Reply STOP to opt out."


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"source": "checkout", "disclosure": "I agree to texts"}, "phone"),
        ({"phone": "12", "source": "x", "disclosure": "I agree to texts"}, "phone"),
        ({"phone": PHONE, "disclosure": "I agree to texts"}, "source"),
        ({"phone": PHONE, "source": "checkout"}, "disclosure"),
        (
            {"phone": PHONE, "source": "c", "disclosure": "I agree to texts", "at": "2026-01-01"},
            "time zone",
        ),
        (
            {
                "phone": PHONE,
                "source": "c",
                "disclosure": "I agree to texts",
                "at": "2999-01-01T00:00Z",
            },
            "future",
        ),
        (
            {
                "phone": PHONE,
                "source": "c",
                "disclosure": "I agree to texts",
                "timezone": "Mars/Base",
            },
            "IANA",
        ),
    ],
)
def test_an_opt_in_without_its_proof_is_refused(record: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        consent_rules.parse_opt_in(record, now_utc())


def test_consent_import_records_proof_or_imports_nothing(tmp_path: Path) -> None:
    good = tmp_path / "optins.csv"
    good.write_text(
        "phone,source,disclosure,at,timezone\n"
        f"{PHONE},checkout,I agree to get cart reminders by text,2026-03-01T10:00:00+00:00,"
        "America/Chicago\n"
        "+16175550199,popup,Yes text me offers from the store,,\n"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "phone,source,disclosure\n+12125550100,checkout,I agree to texts\nnot a phone,x,y\n"
    )
    runner = CliRunner()
    refused = runner.invoke(app, ["consent", "import", str(bad), "--data-dir", str(tmp_path)])
    assert refused.exit_code == 2 and "bad.csv:3" in refused.output
    assert "nothing was imported" in refused.output
    done = runner.invoke(app, ["consent", "import", str(good), "--data-dir", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert "2 subscribed" in done.output
    again = runner.invoke(app, ["consent", "import", str(good), "--data-dir", str(tmp_path)])
    assert "2 already recorded" in again.output

    async def check() -> None:
        async with Agent.open(tmp_path) as agent:
            consent = await agent.shoppers.get_consent(shopper_id_for_phone(PHONE))
            (change,) = consent["history"]
            assert change["status"] == "subscribed" and change["source"] == "import"
            assert change["at"].startswith("2026-03-01T10:00")
            assert change["proof"]["disclosure"].startswith("I agree")
            profile = await agent.shoppers.get_profile(shopper_id_for_phone(PHONE))
            assert profile and profile["timezone"] == "America/Chicago"
            unlisted = await agent.shoppers.get_consent(shopper_id_for_phone("+12125550100"))
            assert unlisted["status"] == "not_subscribed"

    import asyncio

    asyncio.run(check())
