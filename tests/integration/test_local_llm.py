"""The real local model: llama-cpp-python's server with Qwen2.5-Coder-0.5B-Instruct.

These tests fail (never skip) when the model or llama-cpp-python is missing: the LLM path
is part of what the suite proves. Each call costs about a second on 2 cores, so they are few.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import httpx
import pytest
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from langchain_openai import ChatOpenAI
from pydantic import BaseModel, Field

from textcart.tools.llm import (
    ainvoke_structured,
    chat_model,
    check_structured_output,
    structured_method,
)
from textcart.tools.local_llm import LocalModelError, LocalModelServer, stop_local_server

pytestmark = pytest.mark.llm


class Intent(BaseModel):
    label: Literal["product_question", "order_status", "opt_out", "other"]
    confidence: float = Field(ge=0, le=1)


def intent_messages(text: str) -> list[BaseMessage]:
    return [
        SystemMessage(
            "Classify the shopper's text message. Labels: product_question (asks about a "
            "product), order_status (asks where an order is), opt_out (wants no more texts), "
            "other. Answer with a JSON object with `label` and `confidence` (0 to 1)."
        ),
        HumanMessage(text),
    ]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalModelServer]:
    try:
        running = LocalModelServer().start()
    except LocalModelError as exc:
        pytest.fail(f"the local model cannot run: {exc}")
    yield running
    running.stop()


def test_server_lists_its_model(server: LocalModelServer) -> None:
    listed = httpx.get(f"{server.base_url}/models", timeout=5).json()
    assert [m["id"] for m in listed["data"]] == [server.model_name]


async def test_structured_answer_from_the_local_server(server: LocalModelServer) -> None:
    model = ChatOpenAI(
        base_url=server.base_url,
        api_key="local",  # type: ignore[arg-type]
        model=server.model_name,
        temperature=0,
        max_retries=0,
    )
    intent = await ainvoke_structured(
        model,
        Intent,
        intent_messages("Where is my order #1234? It was due on Monday."),
        method="json_object",
        timeout_s=60,
    )
    assert isinstance(intent, Intent)


async def test_chat_model_local_starts_and_reuses_a_shared_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEXTCART_DATA_DIR", str(tmp_path))
    try:
        try:
            model = await asyncio.to_thread(chat_model, "local", timeout_s=60)
        except LocalModelError as exc:
            pytest.fail(f"the local model cannot run: {exc}")
        again = await asyncio.to_thread(chat_model, "local", timeout_s=60)
        assert again.openai_api_base == model.openai_api_base  # type: ignore[attr-defined]
        intent = await ainvoke_structured(
            model,
            Intent,
            intent_messages("Does the trail jacket come in a size medium?"),
            method=structured_method("local"),
            timeout_s=60,
        )
        assert isinstance(intent, Intent)
    finally:
        stopped = stop_local_server(tmp_path / "llm")
    assert stopped, "the shared server was not running at the end"


async def test_a_busy_shared_server_is_reused_not_restarted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the server generates it answers nothing else for seconds; that is not hung.

    Found running simulations: a second conversation's check timed out on the server busy
    with the first one's request, killed it, and every call after failed to connect.
    """
    monkeypatch.setenv("TEXTCART_DATA_DIR", str(tmp_path))
    state = tmp_path / "llm" / "local_llm.json"
    try:
        model = await asyncio.to_thread(chat_model, "local", timeout_s=60)
        base_url = model.openai_api_base  # type: ignore[attr-defined]
        pid = json.loads(state.read_text())["pid"]

        def long_answer() -> int:
            body = {
                "model": "qwen2.5-coder-0.5b-instruct",
                "messages": [{"role": "user", "content": "Write a long story about boots."}],
                "max_tokens": 200,
            }
            return httpx.post(f"{base_url}/chat/completions", json=body, timeout=120).status_code

        busy = asyncio.create_task(asyncio.to_thread(long_answer))
        await asyncio.sleep(1.0)  # generating now
        started = time.monotonic()
        again = await asyncio.to_thread(chat_model, "local", timeout_s=60)
        waited = time.monotonic() - started
        assert again.openai_api_base == base_url  # type: ignore[attr-defined]
        assert json.loads(state.read_text())["pid"] == pid, "the busy server was replaced"
        assert await busy == 200, "the request it was busy with was cut off"
        print(f"the check waited {waited:.1f} s for the busy server")
    finally:
        stop_local_server(tmp_path / "llm")


async def test_start_up_check_passes_the_local_shape_and_names_the_strict_one(
    server: LocalModelServer,
) -> None:
    """llama.cpp answers its own shape; asked OpenAI's strict schema it fails, and says so."""
    model = ChatOpenAI(
        base_url=server.base_url,
        api_key="local",  # type: ignore[arg-type]
        model=server.model_name,
        temperature=0,
        max_retries=0,
    )
    assert await check_structured_output(model, "local", structured_method("local"), 60) is None
    problem = await check_structured_output(model, "local", "json_schema", 60)
    assert problem is not None and "'local'" in problem
