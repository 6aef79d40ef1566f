"""Structured output as each provider is asked for it, against a server that is strict.

`StrictOpenAI` accepts only the request fields and `response_format` shapes OpenAI
documents, as OpenAI and the gateways in front of it do. The default for `openai:` at a
custom base URL must pass it end to end through the real langchain-openai client; the
llama.cpp shape must be refused there, and the start-up check must name the model.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from strict_openai import StrictOpenAI

from textcart.tools.llm import (
    ainvoke_structured,
    chat_model,
    check_structured_output,
    structured_method,
)
from textcart.vocabulary.outputs import IntentResult


def _answer(body: dict[str, Any]) -> str:
    fmt = body.get("response_format") or {}
    name = (fmt.get("json_schema") or {}).get("name") or (
        body["tools"][0]["function"]["name"] if body.get("tools") else ""
    )
    if name == "_Ping":
        return json.dumps({"ok": True})
    return json.dumps({"label": "order_status", "confidence": 0.9, "rationale": "asks where"})


@pytest.fixture
def strict(monkeypatch: pytest.MonkeyPatch) -> Iterator[StrictOpenAI]:
    server = StrictOpenAI(_answer)
    monkeypatch.setenv("TEXTCART_LLM_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.delenv("TEXTCART_LLM_STRUCTURED_OUTPUT", raising=False)
    yield server
    server.close()


MESSAGES = [SystemMessage("Classify the shopper's intent."), HumanMessage("where is my order")]


async def test_openai_compatible_default_is_the_documented_strict_schema(
    strict: StrictOpenAI,
) -> None:
    spec = "openai:gpt-test"
    method = structured_method(spec)
    assert method == "json_schema"
    result = await ainvoke_structured(
        chat_model(spec, timeout_s=10), IntentResult, MESSAGES, method=method, timeout_s=10
    )
    assert result.label == "order_status"
    assert strict.refused == []
    sent = strict.requests[-1]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["name"] == "IntentResult"
    assert sent["json_schema"].get("strict") is True


async def test_the_llama_cpp_shape_is_refused_by_a_strict_server(strict: StrictOpenAI) -> None:
    with pytest.raises(Exception, match="400|response_format"):
        await ainvoke_structured(
            chat_model("openai:gpt-test", timeout_s=10),
            IntentResult,
            MESSAGES,
            method="json_object",
            timeout_s=10,
        )
    assert any("response_format.schema" in p for p in strict.refused)


async def test_start_up_check_passes_the_default_and_names_a_failing_model(
    strict: StrictOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = chat_model("openai:gpt-test", timeout_s=10)
    assert await check_structured_output(model, "openai:gpt-test", "json_schema", 10) is None
    monkeypatch.setenv("TEXTCART_LLM_STRUCTURED_OUTPUT", "json_object")
    method = structured_method("openai:gpt-test")
    problem = await check_structured_output(model, "openai:gpt-test", method, 10)
    assert problem is not None and "'openai:gpt-test'" in problem and "json_object" in problem


async def test_tool_calling_passes_the_strict_server_too(
    strict: StrictOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEXTCART_LLM_STRUCTURED_OUTPUT", "function_calling")
    result = await ainvoke_structured(
        chat_model("openai:gpt-test", timeout_s=10),
        IntentResult,
        MESSAGES,
        method=structured_method("openai:gpt-test"),
        timeout_s=10,
    )
    assert result.label == "order_status" and strict.refused == []
