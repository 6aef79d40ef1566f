"""Hand-off review (interrupt, resume) and delivery through the sender, at most once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langgraph.types import Command

from textcart.agent import Agent
from textcart.graph.context import Context
from textcart.graph.services import Services
from textcart.tools.shopper_store import shopper_id_for_phone, thread_id_for
from textcart.tools.sms import OutboxSender

pytestmark = pytest.mark.usefixtures("services", "no_weaviate")

PHONE = "+14155550199"
COMPLAINT = "my boots fell apart after a week, this is ridiculous, I want a real person"


@pytest.fixture(autouse=True)
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox.jsonl"


async def make_agent(services: Services, outbox: Path, **context: Any) -> Agent:
    services.outbound = OutboxSender(outbox)
    return Agent.in_memory(services, Context(model=None, **context))


def sent(outbox: Path) -> list[dict[str, Any]]:
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text().splitlines()]


def config() -> dict[str, Any]:
    return {"configurable": {"thread_id": thread_id_for(shopper_id_for_phone(PHONE))}}


async def test_reply_goes_to_the_sender_once_even_if_the_turn_is_replayed(
    services: Services, outbox: Path
) -> None:
    agent = await make_agent(services, outbox)
    state = await agent.receive(PHONE, "where is my order?", message_id="m-1")
    assert state["delivery"]["channel"] == "outbox"
    assert [m["text"] for m in sent(outbox)] == [state["outbound"]["text"]]
    # The same inbound id again (a retry after a crash): logged once, sent once.
    await agent.receive(PHONE, "where is my order?", message_id="m-1")
    assert len(sent(outbox)) == 1


async def test_reply_in_response_is_logged_not_sent(services: Services, outbox: Path) -> None:
    agent = await make_agent(services, outbox, reply_in_response=True)
    state = await agent.receive(PHONE, "where is my order?", message_id="m-2")
    assert state["delivery"] == {"status": "sent", "channel": "response", "provider_id": None}
    assert sent(outbox) == []


async def test_handoff_waits_for_a_person_then_sends_the_edit(
    services: Services, outbox: Path
) -> None:
    agent = await make_agent(services, outbox, review_handoffs=True, reply_in_response=True)
    await agent.receive(PHONE, COMPLAINT, message_id="m-3")
    snapshot = await agent.graph.aget_state(config())  # type: ignore[arg-type]
    assert snapshot.next == ("human_review",)
    draft = snapshot.tasks[0].interrupts[0].value["draft"]
    assert draft and sent(outbox) == []

    edited = "Hi, Sam here from the store. So sorry - I'll call you in 5 minutes."
    result = await agent.graph.ainvoke(  # type: ignore[call-overload]
        Command(resume={"action": "edit", "text": edited, "reviewer": "sam"}),
        config(),
        context=agent.context,
    )
    assert result["review"] == {"action": "edit", "text": edited, "reviewer": "sam"}
    # Reviewed replies go through the sender: the webhook was answered long ago.
    assert [m["text"] for m in sent(outbox)] == [edited]


async def test_a_skipped_handoff_sends_nothing(services: Services, outbox: Path) -> None:
    agent = await make_agent(services, outbox, review_handoffs=True)
    await agent.receive(PHONE, COMPLAINT, message_id="m-4")
    result = await agent.graph.ainvoke(  # type: ignore[call-overload]
        Command(resume={"action": "skip"}), config(), context=agent.context
    )
    assert result["outbound"] is None and sent(outbox) == []


@pytest.mark.parametrize("answer", [{"action": "teleport"}, {"action": "edit", "text": "  "}, 42])
async def test_a_bad_review_answer_is_refused(
    services: Services, outbox: Path, answer: Any
) -> None:
    agent = await make_agent(services, outbox, review_handoffs=True)
    await agent.receive(PHONE, COMPLAINT, message_id="m-5")
    with pytest.raises(ValueError):
        await agent.graph.ainvoke(  # type: ignore[call-overload]
            Command(resume=answer), config(), context=agent.context
        )
    assert sent(outbox) == []
