"""Export and forget one shopper, on SQLite and on a real PostgreSQL server.

Forgetting deletes the thread, the store namespaces, the inbox and queue entries and the
outbox lines; a number that had opted out stays opted out through a hashed suppression
entry, and a later text from any forgotten number starts a fresh, unsubscribed shopper.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from postgres_server import database_url, postgres_server  # noqa: F401
from typer.testing import CliRunner

from textcart.agent import Agent
from textcart.cli import app
from textcart.graph.context import Context
from textcart.graph.services import default_services
from textcart.tools.privacy import export_shopper, forget_shopper
from textcart.tools.shopper_store import shopper_id_for_phone, suppression_key
from textcart.tools.sms import OutboxSender

pytestmark = pytest.mark.usefixtures("demo_catalog")
ANN, BEN, CAL = "+13035550311", "+13035550312", "+13035550313"
VIEWED = [{"type": "viewed", "product_id": "TH-RIDGE-TR-M-BLU", "minutes_ago": 30}]


async def _export(agent: Agent, phone: str, outbox: Path) -> dict[str, Any]:
    return await export_shopper(
        agent.store,
        agent.graph.checkpointer,
        shopper_id_for_phone(phone),
        phone,
        outbox,  # type: ignore[arg-type]
    )


async def _forget(agent: Agent, phone: str, outbox: Path) -> dict[str, Any]:
    return await forget_shopper(
        agent.store,
        agent.graph.checkpointer,
        shopper_id_for_phone(phone),
        phone,
        outbox,  # type: ignore[arg-type]
    )


async def test_export_then_forget_leaves_nothing_but_an_opt_out(
    tmp_path: Path,
    database_url: str | None,  # noqa: F811
) -> None:
    outbox = tmp_path / "outbox.jsonl"
    services = await default_services()
    previous_sender, services.outbound = services.outbound, OutboxSender(outbox)
    context = Context(model=None, quiet_hours_start=0, quiet_hours_end=0)
    try:
        async with Agent.open(tmp_path, context, database_url) as agent:
            for phone in (ANN, BEN, CAL):
                await agent.seed_shopper(phone, first_name="Al", events=VIEWED)
                await agent.receive(phone, "any trail runners in a 9?")
                await agent.trigger(phone, "browse_abandonment")
            await agent.receive(CAL, "STOP")

            exported = await _export(agent, ANN, outbox)
            assert exported["profile"]["phone"] == ANN
            assert [h["status"] for h in exported["consent"]["history"]] == ["subscribed"]
            assert exported["events"] and len(exported["messages"]) >= 3
            # The nudge's trigger, in the holdout's "sent" arm.
            assert [t["arm"] for t in exported["triggers"]] == ["sent"]
            assert len(exported["thread"]["transcript"]) >= 3
            # The reply and the nudge both went through the sender (no webhook here).
            assert [line["to"] for line in exported["outbox"]] == [ANN, ANN]
            json.dumps(exported)  # plain JSON all the way down

            counts = await _forget(agent, ANN, outbox)
            assert counts["messages"] >= 3 and counts["outbox"] == 2
            assert not counts["suppressed"]
            gone = await _export(agent, ANN, outbox)
            assert gone["profile"] is None and gone["consent"] is None
            assert gone["events"] == gone["messages"] == gone["outbox"] == []
            assert gone["triggers"] == gone["links"] == []
            assert gone["thread"]["transcript"] == []
            # Another shopper is untouched.
            kept = await _export(agent, BEN, outbox)
            assert kept["messages"] and kept["outbox"] and kept["thread"]["transcript"]

            # A later text starts a fresh shopper who has not opted in.
            again = await agent.receive(ANN, "hi, do you sell socks?")
            assert again["outbound"] and again["transcript"][0]["text"] == "hi, do you sell socks?"
            assert len(again["transcript"]) == 2
            consent = await agent.shoppers.get_consent(shopper_id_for_phone(ANN))
            assert consent["status"] == "not_subscribed"

            # The one who said STOP stays opted out after being forgotten.
            assert (await _forget(agent, CAL, outbox))["suppressed"]
            item = await agent.store.aget(
                ("suppression",), suppression_key(shopper_id_for_phone(CAL))
            )
            assert item is not None and CAL not in json.dumps(item.value)
            assert CAL[2:] not in json.dumps(item.value)
            silent = await agent.receive(CAL, "any deals?")
            assert silent["outbound"] is None
            nudge = await agent.trigger(CAL, "browse_abandonment")
            assert nudge["outbound"] is None
            after = await _export(agent, CAL, outbox)
            assert after["suppressed"] and after["outbox"] == []
    finally:
        services.outbound = previous_sender


def test_the_cli_exports_and_forgets(
    tmp_path: Path,
    database_url: str | None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if database_url:
        monkeypatch.setenv("TEXTCART_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("TEXTCART_DATABASE_URL", raising=False)

    async def seed() -> None:
        async with Agent.open(tmp_path, Context(model=None)) as agent:
            await agent.seed_shopper(ANN, first_name="Al", events=VIEWED)

    asyncio.run(seed())
    runner = CliRunner()
    args = ["--data-dir", str(tmp_path)]
    exported = runner.invoke(app, ["shopper", "export", ANN, "--json", *args])
    assert exported.exit_code == 0, exported.output
    data = json.loads(exported.stdout)
    assert data["profile"]["first_name"] == "Al" and len(data["events"]) == 1
    forgotten = runner.invoke(app, ["shopper", "forget", ANN, *args])
    assert forgotten.exit_code == 0 and json.loads(forgotten.stdout)["forgotten"]
    empty = json.loads(runner.invoke(app, ["shopper", "export", ANN, "--json", *args]).stdout)
    assert empty["profile"] is None and empty["events"] == []
    bad = runner.invoke(app, ["shopper", "forget", "12", *args])
    assert bad.exit_code == 2 and "not a phone number" in bad.output
