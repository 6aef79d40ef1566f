"""The chat-model factory and structured output, driven by scripted fake chat models."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any, Literal

import pytest
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from pydantic import BaseModel, Field
from scripted_model import ScriptedModel as SlowModel

from textcart.tools.llm import (
    InvalidModelOutput,
    ModelTimeout,
    StructuredOutputError,
    ainvoke_structured,
    chat_model,
    parse_json_object,
    structured_method,
)


class Label(BaseModel):
    label: Literal["x", "y"]


class Likelihood(BaseModel):
    probability: float = Field(ge=0, le=1)


class ScriptedModel(GenericFakeChatModel):
    """Replies from a script and remembers what each call was given."""

    calls: list[dict[str, Any]] = Field(default_factory=list)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.calls.append({"messages": list(messages), **kwargs})
        return super()._generate(messages, stop, run_manager, **kwargs)


class SchemaModel(GenericFakeChatModel):
    """Stands in for a provider with native json_schema structured output."""

    def with_structured_output(  # type: ignore[override]
        self, schema: type[BaseModel], *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[Any, Any]:
        assert kwargs == {"method": "json_schema"} and include_raw

        def parse(messages: Any) -> dict[str, Any]:
            raw = self.invoke(messages)
            try:
                return {"raw": raw, "parsed": schema.model_validate_json(raw.text)}
            except ValueError as exc:
                return {"raw": raw, "parsed": None, "parsing_error": exc}

        return RunnableLambda(parse)


def scripted(*replies: str) -> ScriptedModel:
    return ScriptedModel(messages=iter([AIMessage(r) for r in replies]))


def ask() -> list[BaseMessage]:
    return [HumanMessage("Classify this.")]


async def test_valid_json_parses_and_binds_the_schema() -> None:
    model = scripted('{"label": "x"}')
    result = await ainvoke_structured(model, Label, ask(), method="json_object", timeout_s=5)
    assert result == Label(label="x")
    (call,) = model.calls
    assert call["response_format"] == {"type": "json_object", "schema": Label.model_json_schema()}


async def test_fenced_json_with_leading_text_parses() -> None:
    model = scripted('Sure! Here it is:\n```json\n{"label": "y"}\n```\nAnything else?')
    result = await ainvoke_structured(model, Label, ask(), method="json_object", timeout_s=5)
    assert result.label == "y"


async def test_garbage_then_valid_succeeds_on_the_second_attempt() -> None:
    model = scripted("I think it is x.", '{"label": "x"}')
    result = await ainvoke_structured(model, Label, ask(), method="json_object", timeout_s=5)
    assert result.label == "x"
    retry = model.calls[1]["messages"]
    assert retry[-2].content == "I think it is x."
    assert "not valid" in retry[-1].content


async def test_garbage_twice_gives_up_as_invalid() -> None:
    model = scripted("no idea", "still no idea")
    with pytest.raises(InvalidModelOutput) as caught:
        await ainvoke_structured(model, Label, ask(), method="json_object", timeout_s=5)
    assert isinstance(caught.value, StructuredOutputError)
    assert "no JSON object" in caught.value.reason
    assert len(model.calls) == 2


async def test_constraint_violation_is_invalid_output() -> None:
    model = scripted('{"probability": 1.7}', '{"probability": 1.7}')
    with pytest.raises(InvalidModelOutput, match="probability"):
        await ainvoke_structured(model, Likelihood, ask(), method="json_object", timeout_s=5)


async def test_label_outside_the_vocabulary_is_retried() -> None:
    model = scripted('{"label": "maybe"}', '{"label": "y"}')
    result = await ainvoke_structured(model, Label, ask(), method="json_object", timeout_s=5)
    assert result.label == "y"


async def test_a_slow_model_times_out() -> None:
    with pytest.raises(ModelTimeout) as caught:
        await ainvoke_structured(
            # Answers correctly, but only after 2 s.
            SlowModel(answer=lambda _title, _prompt: '{"label": "x"}', delay_s=2, calls=[]),
            Label,
            ask(),
            method="json_object",
            timeout_s=0.2,
        )
    assert isinstance(caught.value, StructuredOutputError)
    assert "0.2 s" in caught.value.reason


async def test_json_schema_method_uses_native_structured_output() -> None:
    model = SchemaModel(messages=iter([AIMessage("oops"), AIMessage('{"label": "y"}')]))
    result = await ainvoke_structured(model, Label, ask(), method="json_schema", timeout_s=5)
    assert result.label == "y"


@pytest.mark.parametrize(
    "text",
    ['{"a": 1}', 'text {"a": 1} more', '```\n{"a": 1}\n```', 'a {brace} then {"a": 1}'],
)
def test_parse_json_object_tolerates_noise(text: str) -> None:
    assert parse_json_object(text) == {"a": 1}


@pytest.mark.parametrize(
    "spec", ["", "gpt-4o-mini", "openai:", ":gpt-4o", "open ai:gpt-4o", "local:qwen", "OpenAI"]
)
def test_bad_spec_is_a_value_error(spec: str) -> None:
    with pytest.raises(ValueError, match="spec|local"):
        chat_model(spec)


def test_other_providers_need_langchain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "langchain", None)
    monkeypatch.setitem(sys.modules, "langchain.chat_models", None)
    with pytest.raises(ValueError, match="needs the `langchain` package"):
        chat_model("anthropic:claude-sonnet")


@pytest.fixture
def no_base_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.delenv("TEXTCART_LLM_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    yield monkeypatch


def test_openai_client_takes_a_custom_base_url(no_base_url: pytest.MonkeyPatch) -> None:
    no_base_url.delenv("OPENAI_API_KEY", raising=False)
    no_base_url.setenv("TEXTCART_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    model = chat_model("openai:some-model", timeout_s=3)
    assert model.openai_api_base == "http://127.0.0.1:9/v1"  # type: ignore[attr-defined]
    assert model.max_retries == 0  # type: ignore[attr-defined]
    assert model.model_name == "some-model"  # type: ignore[attr-defined]


def test_structured_method_per_spec(no_base_url: pytest.MonkeyPatch) -> None:
    no_base_url.delenv("TEXTCART_LLM_STRUCTURED_OUTPUT", raising=False)
    assert structured_method("local") == "json_object"
    assert structured_method("openai:gpt-4o-mini") == "json_schema"
    assert structured_method("anthropic:claude-sonnet") == "function_calling"
    # An OpenAI-compatible server gets OpenAI's documented request, not llama.cpp's.
    no_base_url.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    assert structured_method("openai:gpt-4o-mini") == "json_schema"
    # The endpoint's own setting wins (a llama.cpp server behind the base URL).
    no_base_url.setenv("TEXTCART_LLM_STRUCTURED_OUTPUT", "json_object")
    assert structured_method("openai:gpt-4o-mini") == "json_object"
    assert structured_method("local") == "json_object"
    no_base_url.setenv("TEXTCART_LLM_STRUCTURED_OUTPUT", "xml")
    with pytest.raises(ValueError, match="TEXTCART_LLM_STRUCTURED_OUTPUT"):
        structured_method("openai:gpt-4o-mini")
    with pytest.raises(ValueError):
        structured_method("nonsense")


async def test_a_unit_test_cannot_reach_a_real_model(
    real_model_attempts: list[str], no_base_url: pytest.MonkeyPatch
) -> None:
    # The guard in conftest.py: the local server is not started and no request leaves.
    with pytest.raises(RuntimeError, match="reached a real model"):
        chat_model("local")
    no_base_url.setenv("OPENAI_API_KEY", "unused")
    model = chat_model("openai:some-model", timeout_s=3)
    with pytest.raises(RuntimeError, match="reached a real model"):
        await model.ainvoke("hello")
    assert real_model_attempts == ["the local model server", "ChatOpenAI._agenerate"]
    real_model_attempts.clear()  # seen and expected here; anywhere else the test fails
