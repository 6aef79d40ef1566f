"""A hand-off reaches a person: the store's channel is told, the agent goes quiet, a person
answers through the store's number, and the thread comes back.

Real graph, Weaviate, MiniLM and SQLite; the store's channel is a local HTTP receiver
that records what a Slack-compatible incoming webhook would get.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from textcart.agent import Agent
from textcart.conversations import play, seed_demo_shoppers
from textcart.demo_store.loader import load_conversations, load_shoppers
from textcart.graph.context import Context
from textcart.tools.handoffs import HandoffDesk, PersonReplyRefused, send_person_reply
from textcart.tools.shopper_store import now_utc
from textcart.tools.sms import OutboxSender

pytestmark = pytest.mark.usefixtures("demo_catalog")
LUIS = "+12065550156"


class Receiver:
    """A local incoming-webhook endpoint: keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        received = self.posts

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                received.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hooks/store"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.close()


@pytest.fixture
def context(receiver: Receiver) -> Context:
    return replace(Context(model=None), handoff_webhook_url=receiver.url)


async def test_handoff_notifies_holds_lets_a_person_answer_and_releases(
    tmp_path: Path, context: Context, receiver: Receiver
) -> None:
    shoppers = load_shoppers()
    phone = LUIS
    async with Agent.open(tmp_path, context) as agent:
        await seed_demo_shoppers(agent, shoppers)
        sid = agent.shopper_id(phone)
        first = await agent.receive(phone, "do you have the switchback boots in a 10?")
        handoff = await agent.receive(
            phone, "the sole on my boots is peeling after a month. can I talk to a real person"
        )
        assert handoff["next_message"]["value"] == "handoff_to_human"
        assert "will read this and reply here" in handoff["outbound"]["text"]
        # The channel got one notice with the shopper's last texts, phone masked.
        assert len(receiver.posts) == 1 and set(receiver.posts[0]) == {"text"}
        notice = receiver.posts[0]["text"]
        assert "talk to a real person" in notice and "switchback" in notice
        assert phone not in notice and sid in notice
        assert first["outbound"] is not None

        # Held: the agent stays silent to this shopper; the channel sees the new text.
        quiet = await agent.receive(phone, "hello? anyone?")
        assert quiet["outbound"] is None and quiet["gate"]["action"] == "silent"
        assert "handled by a person" in quiet["gate"]["reason"]
        assert len(receiver.posts) == 2 and "hello? anyone?" in receiver.posts[1]["text"]
        hold = await HandoffDesk(agent.store).held(sid)
        assert hold is not None and hold["phone"] == phone
        # ...but HELP is still answered (compliance keywords always are).
        helped = await agent.receive(phone, "HELP")
        assert helped["outbound"] is not None and "Reply STOP" in helped["outbound"]["text"]

        # A person answers through the store's number; it is sent and logged.
        outbox = tmp_path / "outbox.jsonl"
        entry = await send_person_reply(
            agent.store, OutboxSender(outbox), sid, "Hi Luis, Sam here. Sending a new pair today.",
            by="sam", at=now_utc(),
        )  # fmt: skip
        assert entry["delivery"]["status"] == "sent"
        sent = [json.loads(line) for line in outbox.read_text().splitlines()]
        assert sent[-1]["to"] == phone and "Sam here" in sent[-1]["text"]
        log = await agent.shoppers.messages(sid)
        assert any(m.get("by_person") == "sam" and "Sam here" in m["text"] for m in log)

        # Released: the agent answers again.
        assert await HandoffDesk(agent.store).release(sid)
        back = await agent.receive(phone, "do you have the switchback boots in a 10?")
        assert back["outbound"] is not None and back["gate"]["action"] == "continue"


async def test_a_hold_runs_out_and_stop_still_works(tmp_path: Path, context: Context) -> None:
    async with Agent.open(tmp_path, context) as agent:
        await seed_demo_shoppers(agent, load_shoppers())
        sid = agent.shopper_id(LUIS)
        await agent.receive(LUIS, "can I talk to a real person please")
        hold = await HandoffDesk(agent.store).held(sid)
        assert hold is not None
        later = now_utc() + timedelta(hours=context.handoff_release_hours, minutes=1)
        assert await HandoffDesk(agent.store).held(sid, later) is None
        # STOP during a hold opts out, and then not even a person may text.
        stop = await agent.receive(LUIS, "STOP")
        assert "unsubscribed" in stop["outbound"]["text"].lower()
        with pytest.raises(PersonReplyRefused, match="opted out"):
            await send_person_reply(
                agent.store, OutboxSender(tmp_path / "o.jsonl"), sid, "hi", by="sam", at=now_utc()
            )


async def test_without_a_channel_nothing_is_held(tmp_path: Path) -> None:
    context = replace(Context(model=None), handoff_webhook_url="", review_handoffs=False)
    async with Agent.open(tmp_path, context) as agent:
        await seed_demo_shoppers(agent, load_shoppers())
        reply = await agent.receive(LUIS, "can I talk to a real person please")
        # Nobody is told, so the reply points to the contact and the agent keeps answering.
        assert "help@trailhead.example" in reply["outbound"]["text"]
        assert await HandoffDesk(agent.store).held(agent.shopper_id(LUIS)) is None


async def test_a_played_conversation_releases_its_handoff(
    tmp_path: Path, context: Context, receiver: Receiver
) -> None:
    conversation = next(c for c in load_conversations() if c.name == "complaint-handoff")
    async with Agent.open(tmp_path, context) as agent:
        await seed_demo_shoppers(agent, load_shoppers())
        records = await play(agent, conversation, LUIS)
        # The first text hands off; the second reaches the person, not the agent.
        assert records[0].next_message == "handoff_to_human" and records[0].reply
        assert records[1].reply is None and len(receiver.posts) == 2
        assert await HandoffDesk(agent.store).held(agent.shopper_id(LUIS)) is None
