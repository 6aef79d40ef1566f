"""Outcomes through the real graph (real Weaviate): tracked links, the holdout, replies.

Every link in a text goes through `$TEXTCART_PUBLIC_URL/l/{code}`; a held-out trigger is
decided and logged, never sent; a shopper's text is recorded as the outcome of the text
it answers; a wording test puts every text in its shopper's arm, whoever writes it.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from scripted_model import SPEC, ScriptedModel, install, uninstall

from textcart.agent import Agent
from textcart.graph.context import Context
from textcart.rules.attribution import Windows
from textcart.rules.holdout import is_held_out, wording_variant
from textcart.tools import links
from textcart.tools.outcomes import attribution_summary
from textcart.tools.shopper_store import now_utc, shopper_id_for_phone

pytestmark = pytest.mark.usefixtures("demo_catalog")
PUBLIC = "https://shop.example.com"
CART = [{"type": "added_to_cart", "product_id": "TH-RIDGE-TR-M-BLU", "minutes_ago": 70}]
PHONES = [f"+1212555{2000 + i}" for i in range(8)]
URL = re.compile(r"https?://\S+")


@pytest.fixture
async def agent(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Agent]:
    monkeypatch.setenv("TEXTCART_PUBLIC_URL", PUBLIC)
    context = Context(model=None, quiet_hours_start=0, quiet_hours_end=0, holdout_share=0.0)
    async with Agent.open(tmp_path, context) as opened:
        yield opened


async def test_every_link_in_a_proactive_text_is_tracked(agent: Agent) -> None:
    with_links = 0
    for i, phone in enumerate(PHONES):
        await agent.seed_shopper(phone, first_name="Ann", events=CART)
        state = await agent.trigger(phone, "cart_abandonment", message_id=f"t-{i}")
        assert state["outbound"] and state["outbound"]["text"]
        text = state["outbound"]["text"]
        found = URL.findall(text)
        assert all(u.startswith(f"{PUBLIC}/l/") for u in found), text
        for url in found:
            code = url.rstrip(".,!?").rsplit("/", 1)[1]
            link = await links.resolve(agent.store, code, now_utc())
            assert link is not None
            assert link["url"].startswith("https://trailhead.example/products/")
            assert link["message_id"] == f"t-{i}:reply"
            assert link["campaign"] == "cart_abandonment"
        with_links += bool(found)
        sid = shopper_id_for_phone(phone)
        (trigger,) = await agent.shoppers.triggers(sid)
        assert trigger["arm"] == "sent" and trigger["message_id"] == f"t-{i}:reply"
        logged = await agent.shoppers.get_message(sid, f"t-{i}:reply")
        assert logged is not None and logged["text"] == text
    # The templates vary with the shopper; the fixed phones give some texts a link.
    assert with_links >= 1


async def test_without_a_public_url_links_are_left_as_they_are(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEXTCART_PUBLIC_URL")
    for i, phone in enumerate(PHONES):
        await agent.seed_shopper(phone, events=CART)
        state = await agent.trigger(phone, "cart_abandonment", message_id=f"u-{i}")
        text = (state["outbound"] or {}).get("text") or ""
        assert "/l/" not in text
    assert await agent.store.asearch(links.LINKS, limit=10) == []


async def test_a_held_out_trigger_is_logged_and_not_sent(agent: Agent) -> None:
    agent.context.holdout_share = 0.5
    agent.context.holdout_experiment = "graph-test"
    held = [p for p in PHONES if is_held_out(shopper_id_for_phone(p), "graph-test", 0.5)]
    kept = [p for p in PHONES if p not in held]
    assert held and kept, "the fixed phones fall on both sides of a 0.5 draw"
    for phone in (held[0], kept[0]):
        await agent.seed_shopper(phone, events=CART)
        await agent.trigger(phone, "cart_abandonment", message_id=f"h-{phone}")
    held_sid, kept_sid = shopper_id_for_phone(held[0]), shopper_id_for_phone(kept[0])
    (trigger,) = await agent.shoppers.triggers(held_sid)
    assert (trigger["arm"], trigger["experiment"], trigger["message_id"]) == (
        "held_out", "graph-test", None,
    )  # fmt: skip
    assert [
        m for m in await agent.shoppers.messages(held_sid) if m["direction"] == "outbound"
    ] == []
    assert [t["arm"] for t in await agent.shoppers.triggers(kept_sid)] == ["sent"]
    # A trigger stopped by consent is in neither arm: nobody could have been texted.
    stranger = "+12125552999"
    await agent.seed_shopper(stranger, consent="not_subscribed", events=CART)
    await agent.trigger(stranger, "cart_abandonment")
    assert await agent.shoppers.triggers(shopper_id_for_phone(stranger)) == []


async def test_a_reply_and_a_stop_are_outcomes_of_the_text_they_answer(agent: Agent) -> None:
    phone = PHONES[0]
    sid = shopper_id_for_phone(phone)
    await agent.seed_shopper(phone, events=CART)
    await agent.trigger(phone, "cart_abandonment", message_id="r-1")
    await agent.receive(phone, "do you have it in a size 10?", "in-1")
    await agent.receive(phone, "STOP", "in-2")
    nudge = await agent.shoppers.get_message(sid, "r-1:reply")
    assert nudge is not None
    assert [o["outcome"] for o in nudge["outcomes"]] == ["replied"]
    answer = await agent.shoppers.get_message(sid, "in-1:reply")
    assert answer is not None
    assert [o["outcome"] for o in answer["outcomes"]] == ["opted_out"]


async def test_a_wording_test_assigns_template_and_model_written_texts_to_arms(
    agent: Agent,
) -> None:
    agent.context.wording_test = "nudge_checkout"
    prompts: list[str] = []

    def answer(title: str, prompt: str) -> str:
        prompts.append(prompt)
        return json.dumps({"text": "Your cart is still here whenever you are ready."})

    await install(ScriptedModel(answer=answer, calls=[]))
    try:
        for i, phone in enumerate(PHONES[:4]):
            # Half the shoppers get texts from the templates, half from the model.
            agent.context.wording_model = SPEC if i % 2 else None
            await agent.seed_shopper(phone, first_name="Ann", events=CART)
            await agent.trigger(phone, "cart_abandonment", message_id=f"w-{i}")
            sid = shopper_id_for_phone(phone)
            logged = await agent.shoppers.get_message(sid, f"w-{i}:reply")
            assert logged is not None and logged["message_type"] == "nudge_checkout"
            arm = wording_variant(sid, "nudge_checkout")
            assert logged["variant"] == arm
            assert logged["variant_by"] == ("prompt" if i % 2 else "template")
            if i % 2:
                assert f'"arm": "{arm}"' in prompts[-1]
    finally:
        agent.context.wording_model = None
        await uninstall()
    summary = await attribution_summary(agent.store, Windows(), now_utc())
    test = summary["wording_tests"]["nudge_checkout"]
    assert set(test["by_writer"]) == {"prompt", "template"}
    assert sum(test[v]["texts"] for v in ("A", "B")) == 4
