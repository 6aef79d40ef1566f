"""The one place chat models are built and asked for structured output.

A model is named by a `provider:model` string ("openai:gpt-4o-mini"), or "local" for the
bundled llama.cpp server. Any OpenAI-compatible server works through a base URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Literal, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ValidationError

T = TypeVar("T", bound=BaseModel)
StructuredMethod = Literal["json_schema", "json_object"]
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class StructuredOutputError(RuntimeError):
    """The model gave no valid structured answer; the classic decider should answer."""


class ModelTimeout(StructuredOutputError):
    """The model did not answer within its time budget."""


class InvalidModelOutput(StructuredOutputError):
    """The model answered, but not with JSON that fits the schema."""


def _base_url() -> str | None:
    return os.environ.get("TEXTCART_LLM_BASE_URL") or os.environ.get("OPENAI_BASE_URL") or None


def chat_model(spec: str, *, timeout_s: float = 20.0) -> BaseChatModel:
    """Build the chat model a spec names; retries are ours, so the client makes none."""
    from langchain_openai import ChatOpenAI

    spec = (spec or "").strip()
    if spec == "local":
        from textcart.persistence import data_dir
        from textcart.tools.local_llm import LOCAL_MODEL_NAME, ensure_local_server

        base_url = ensure_local_server(Path(data_dir()) / "llm")
        return ChatOpenAI(
            base_url=base_url,
            api_key="local",  # type: ignore[arg-type]
            model=LOCAL_MODEL_NAME,
            temperature=0,
            timeout=timeout_s,
            max_retries=0,
        )
    provider, sep, model = spec.partition(":")
    if not sep or not provider or not model:
        raise ValueError(f"model must be 'provider:model' or 'local', not {spec!r}")
    if provider == "openai":
        return ChatOpenAI(
            model=model, base_url=_base_url(), temperature=0, timeout=timeout_s, max_retries=0
        )
    try:
        from langchain.chat_models import init_chat_model  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ValueError(
            f"provider {provider!r} needs the `langchain` package and that provider's "
            "integration installed; 'openai:' and 'local' work out of the box"
        ) from exc
    return init_chat_model(
        f"{provider}:{model}",
        temperature=0,
        timeout=timeout_s,  # type: ignore[no-any-return]
        max_retries=0,
    )


def structured_method(spec: str) -> StructuredMethod:
    """How to ask a model for JSON: OpenAI's strict schemas, else JSON mode with a schema.

    The llama.cpp server answers HTTP 500 to langchain's json_schema request but honours
    `response_format={"type": "json_object", "schema": ...}` with a grammar.
    """
    if spec.startswith("openai:") and _base_url() is None:
        return "json_schema"
    return "json_object"


def parse_json_object(text: str) -> object:
    """Parse the JSON object in a reply, tolerating code fences and text around it."""
    fenced = _FENCE.search(text)
    candidate = fenced.group(1) if fenced else text
    start, end = candidate.find("{"), candidate.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("no JSON object in the reply")
    return json.loads(candidate[start : end + 1])


async def _ask_once(
    model: BaseChatModel, schema: type[T], messages: list[BaseMessage], method: StructuredMethod
) -> tuple[T | None, str, str]:
    """One request; returns (value or None, raw reply, error description)."""
    if method == "json_schema":
        runnable = model.with_structured_output(schema, method="json_schema", include_raw=True)
        out = await runnable.ainvoke(messages)
        parsed, raw = out.get("parsed"), out.get("raw")  # type: ignore[union-attr]
        raw_text = raw.content if isinstance(raw, AIMessage) else str(raw)
        if isinstance(parsed, schema):
            return parsed, str(raw_text), ""
        return None, str(raw_text), str(out.get("parsing_error") or "no parsed output")  # type: ignore[union-attr]
    try:
        bound = model.bind(
            response_format={"type": "json_object", "schema": schema.model_json_schema()}
        )
        reply = await bound.ainvoke(messages)
    except TypeError:
        # Scripted test models take no response_format; the parse below is what matters.
        reply = await model.ainvoke(messages)
    raw_text = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
    try:
        return schema.model_validate(parse_json_object(raw_text)), raw_text, ""
    except (ValueError, ValidationError) as exc:
        return None, raw_text, str(exc)[:300]


async def ainvoke_structured(
    model: BaseChatModel,
    schema: type[T],
    messages: list[BaseMessage],
    *,
    method: StructuredMethod,
    timeout_s: float,
    attempts: int = 2,
) -> T:
    """Ask for an instance of `schema`, retrying invalid output, all within `timeout_s`.

    A retry shows the model its previous reply and what was wrong with it.
    """

    async def attempt_all() -> T:
        conversation = list(messages)
        error = ""
        for _ in range(max(attempts, 1)):
            value, raw, error = await _ask_once(model, schema, conversation, method)
            if value is not None:
                return value
            conversation += [
                AIMessage(raw[:2000]),
                HumanMessage(
                    f"That reply was not valid: {error}. Answer again with one JSON object that "
                    "matches the schema exactly."
                ),
            ]
        raise InvalidModelOutput(f"invalid output after {attempts} attempts: {error}")

    try:
        return await asyncio.wait_for(attempt_all(), timeout=timeout_s)
    except TimeoutError as exc:
        raise ModelTimeout(f"no answer within {timeout_s:g} s") from exc
