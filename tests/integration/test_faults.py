"""Fault injection: every inbound text is logged once and answered once, whatever fails.

- the model stalls past its budget, is rate limited, or answers garbage: the classic
  deciders answer within the turn's budget;
- Weaviate is killed mid-conversation: the reply goes out without products, and products
  come back once it is restarted;
- PostgreSQL is restarted between turns and during a turn: the pool reconnects and the turn
  completes.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from postgres_server import PostgresServer, postgres_server  # noqa: F401
from scripted_model import SPEC, ScriptedModel, install, uninstall

from textcart.agent import Agent
from textcart.demo_store.loader import catalog_path
from textcart.graph.context import Context
from textcart.graph.services import default_services
from textcart.tools.catalog import SearchFilters
from textcart.tools.catalog_files import read_products
from textcart.tools.weaviate_server import EmbeddedWeaviate

pytestmark = pytest.mark.usefixtures("demo_catalog")
LLM_DECISIONS = ("intent", "buy_likelihood", "tone", "next_message", "wording")
TEXTS = [
    "hi! any waterproof hiking boots?",
    "what about trail runners in a 10?",
    "do those come in blue?",
]


async def assert_each_text_logged_and_answered_once(agent: Agent, phone: str, said: list[str]):
    """0 lost inbound messages and 0 duplicate replies, from the message log and the thread."""
    log = await agent.shoppers.messages(agent.shopper_id(phone))
    inbound = [m for m in log if m["direction"] == "inbound"]
    outbound = [m for m in log if m["direction"] == "outbound"]
    assert [m["text"] for m in inbound] == said
    replied_to = [m["in_reply_to"] for m in outbound]
    # At most one reply per text (a turn may rightly decide to send none), and none unasked.
    assert len(replied_to) == len(set(replied_to))
    assert set(replied_to) <= {m["message_id"] for m in inbound}
    transcript = (await agent.state(phone))["transcript"]
    assert [line["text"] for line in transcript if line["role"] == "shopper"] == said
    assert len([line for line in transcript if line["role"] == "store"]) == len(outbound)


def _rate_limited() -> Exception:
    request = httpx.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx.Response(429, request=request, json={"error": {"message": "slow down"}})
    return openai.RateLimitError("Rate limit reached for requests", response=response, body=None)


FAULTY_MODELS: dict[str, tuple[dict[str, Any], str]] = {
    "timeout": ({"delay_s": 30.0}, "ModelTimeout"),
    "rate limit": ({"error": _rate_limited}, "RateLimitError"),
    "garbage": ({"answer": lambda title, prompt: "lol 🤷 {not: json"}, "InvalidModelOutput"),
}


@pytest.mark.parametrize("fault", list(FAULTY_MODELS))
async def test_model_faults_fall_back_to_classic_within_budget(tmp_path: Path, fault: str) -> None:
    settings, reason = FAULTY_MODELS[fault]
    await install(ScriptedModel(**settings))
    phone = "+13035550201"
    budget_s = 0.5
    try:
        async with Agent.open(tmp_path, Context(model=SPEC, llm_timeout_s=budget_s)) as agent:
            for text in TEXTS:
                start = time.monotonic()
                state = await agent.receive(phone, text)
                elapsed = time.monotonic() - start
                # Four decisions in a row at most (classifiers, fit, edge, wording), each
                # with its own budget, plus the classic work.
                assert elapsed < 4 * budget_s + 3.0, elapsed
                assert state["outbound"] and state["outbound"]["text"]
                for name in LLM_DECISIONS:
                    decision = state[name]
                    assert decision["decider"] == "classic", name
                    assert reason in decision["fallback_reason"], (name, decision)
            await assert_each_text_logged_and_answered_once(agent, phone, TEXTS)
    finally:
        await uninstall()


@pytest.fixture
async def own_weaviate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """A Weaviate of this test's own (so killing it spares the session's), with 60 products."""
    server = EmbeddedWeaviate(tmp_path / "weaviate").start()

    async def point_at(running: EmbeddedWeaviate) -> None:
        monkeypatch.setenv("WEAVIATE_URL", f"http://127.0.0.1:{running.http_port}")
        monkeypatch.setenv("WEAVIATE_GRPC_URL", f"127.0.0.1:{running.grpc_port}")
        await (await default_services()).drop_catalog_connection()

    await point_at(server)
    services = await default_services()
    catalog = await services.catalog("Product")
    await catalog.ensure_collection()
    await catalog.ingest(list(read_products(catalog_path()))[:60], services.embedder)
    holder = {"server": server, "point_at": point_at}
    yield holder
    holder["server"].stop()
    monkeypatch.undo()
    await services.drop_catalog_connection()


async def test_weaviate_killed_mid_conversation(tmp_path: Path, own_weaviate: Any) -> None:
    phone = "+13035550202"
    said = ["any trail runners?", "and the ridgeline trail runner in a 10?", "trail runners?"]
    async with Agent.open(tmp_path / "db", Context(model=None)) as agent:
        first = await agent.receive(phone, said[0])
        assert first["products"], first["retrieval_note"]
        os.kill(own_weaviate["server"].pid, signal.SIGKILL)
        own_weaviate["server"]._process.wait(timeout=30)
        down = await agent.receive(phone, said[1])
        assert down["products"] == [] and "catalog unavailable" in down["retrieval_note"]
        assert down["outbound"] and down["outbound"]["text"]
        restarted = EmbeddedWeaviate(tmp_path / "weaviate").start()
        own_weaviate["server"] = restarted
        await own_weaviate["point_at"](restarted)
        back = await agent.receive(phone, said[2])
        assert back["products"], "products come back once Weaviate is restarted"
        await assert_each_text_logged_and_answered_once(agent, phone, said)


async def test_one_turns_catalog_failure_cancels_no_other_turn() -> None:
    """A failed turn gives up its Weaviate connection, but the calls other shoppers' turns
    have in flight on it finish: closing it at once cancelled them, and their turns failed
    with a cancelled retrieval instead of answering (seen with 20 simulated shoppers)."""
    services = await default_services()
    collection = Context().catalog_collection
    catalog = await services.catalog(collection)
    in_flight = [
        asyncio.create_task(
            catalog.search(text, services.embedder.embed_query(text), SearchFilters(), limit=20)
        )
        for text in ["waterproof hiking boots", "trail runners", "warm jacket"] * 5
    ]
    await asyncio.sleep(0.005)  # the searches are on the wire
    services.catalog_failed(catalog)
    results = await asyncio.gather(*in_flight)
    assert all(results), "every search in flight finished with its products"
    again = await services.catalog(collection)
    assert again is not catalog and again.client is not catalog.client, "the next turn reconnects"
    assert await again.count() > 0
    await services.drop_catalog_connection()
    assert not services._retired, "closing the services closes the connection given up on"


async def test_postgres_restarted_mid_conversation(
    tmp_path: Path,
    postgres_server: PostgresServer,  # noqa: F811
) -> None:
    url = postgres_server.fresh_database()
    phone = "+13035550203"
    said = [*TEXTS, "ok, which one is lightest?"]
    async with Agent.open(tmp_path, Context(model=None), database_url=url) as agent:
        await agent.receive(phone, said[0])
        # Restarted between turns: every pooled connection is dead; the pool replaces them.
        postgres_server.stop()
        postgres_server.start()
        await agent.receive(phone, said[1])
        # Down when the text arrives: the turn waits for the server instead of failing.
        postgres_server.stop()
        turn = asyncio.create_task(agent.receive(phone, said[2]))
        await asyncio.sleep(2.0)
        assert not turn.done()
        await asyncio.to_thread(postgres_server.start)
        state = await asyncio.wait_for(turn, timeout=60)
        assert state["outbound"] and state["outbound"]["text"]
        await agent.receive(phone, said[3])
        await assert_each_text_logged_and_answered_once(agent, phone, said)
