"""The checkpointer and store `langgraph.json` gives the server, on SQLite and PostgreSQL.

The server opens them through `textcart.server.persistence`; a conversation written
through one opening must be there in the next (a server restart), on either database.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from postgres_server import database_url, postgres_server  # noqa: F401

from textcart.agent import Agent
from textcart.graph.builder import compile_graph
from textcart.graph.context import Context
from textcart.graph.services import default_services
from textcart.server import persistence
from textcart.tools.shopper_store import shopper_id_for_phone

PHONE = "+13125550142"


async def test_threads_and_store_survive_reopening(
    database_url: str | None,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    demo_catalog: int,
) -> None:
    monkeypatch.setenv("TEXTCART_DATA_DIR", str(tmp_path))
    if database_url:
        monkeypatch.setenv("TEXTCART_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("TEXTCART_DATABASE_URL", raising=False)
    context = Context(model=None, reply_in_response=True)

    async with persistence.checkpointer() as saver, persistence.store() as kv:
        services = await default_services()
        graph = compile_graph(services, checkpointer=saver, store=kv)
        agent = Agent(graph=graph, store=kv, context=context, services=services)
        first = await agent.receive(PHONE, "any waterproof hiking boots?", message_id="p-1")
        assert first["outbound"] and first["outbound"]["text"]

    async with persistence.checkpointer() as saver, persistence.store() as kv:
        graph = compile_graph(services, checkpointer=saver, store=kv)
        agent = Agent(graph=graph, store=kv, context=context, services=services)
        state = await agent.state(PHONE)
        assert [line["role"] for line in state["transcript"]] == ["shopper", "store"]
        log = await agent.shoppers.messages(shopper_id_for_phone(PHONE))
        assert {m["message_id"] for m in log} == {"p-1", "p-1:reply"}
        second = await agent.receive(PHONE, "in a size 10?", message_id="p-2")
        assert len(second["transcript"]) == 4
    if database_url:
        assert not (tmp_path / "threads.sqlite").exists(), "PostgreSQL held everything"
