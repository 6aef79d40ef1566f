"""The one place chat models are built and asked for structured output.

A model is named by a `provider:model` string ("openai:gpt-4o-mini"), or "local" for the
llama.cpp server on this machine. `openai:` reaches any OpenAI-compatible server through
`TEXTCART_LLM_BASE_URL` (or `OPENAI_BASE_URL`). Other providers go through LangChain's
`init_chat_model` with the `providers` extra (langchain, and langchain-anthropic for
`anthropic:`; another provider's integration is installed on top); their own variables
set keys and base URLs (`ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`).

How a model is asked for JSON depends on who serves it (`structured_method`): OpenAI's
strict JSON schema for `openai:` (OpenAI itself and OpenAI-compatible servers, whose
gateways refuse anything else), llama.cpp's `json_object` + `schema` form for `local`,
tool calling for other providers. `TEXTCART_LLM_STRUCTURED_OUTPUT` overrides it for the
configured endpoint (a llama.cpp server behind `TEXTCART_LLM_BASE_URL` wants
`json_object`). `check_structured_output` asks once at start, so a model that cannot
answer in the chosen form is named then, not discovered turn by turn as fallbacks.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Literal, TypeVar, get_args

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from pydantic import BaseModel, ValidationError

from textcart import settings

T = TypeVar("T", bound=BaseModel)
# json_schema: OpenAI's strict `response_format`; json_object: llama.cpp's `json_object` with
# a `schema`; function_calling: a forced tool call (LangChain's default for most providers).
StructuredMethod = Literal["json_schema", "json_object", "function_calling"]
STRUCTURED_METHODS: tuple[StructuredMethod, ...] = get_args(StructuredMethod)
_SPEC = re.compile(r"^(?P<provider>[a-z][a-z0-9_-]*):(?P<model>\S+)$")
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL | re.IGNORECASE)
# The local model's answers are short JSON objects; the cap stops a runaway generation from
# holding the single-threaded server long after the caller has given up on it.
_LOCAL_MAX_TOKENS = 1024
# The bundled local model needs several seconds per decision on two cores: unless the user
# set a budget, it gets one it can meet, so runs show its answers rather than fallbacks.
LOCAL_TIMEOUT_S = 60.0
REMOTE_TIMEOUT_S = 20.0


class StructuredOutputError(RuntimeError):
    """The model gave no valid structured answer; the classic decider should answer."""

    def __init__(self, reason: str) -> None:
        """Keep a short, loggable reason."""
        super().__init__(reason)
        self.reason = reason


class ModelTimeout(StructuredOutputError):
    """The model did not answer within its time budget."""


class InvalidModelOutput(StructuredOutputError):
    """The model answered, but never with JSON that fits the schema."""


def _custom_base_url() -> str | None:
    configured = settings.current()
    return configured.llm_base_url or configured.openai_base_url or None


def _parse_spec(spec: str) -> tuple[str, str]:
    match = _SPEC.match(spec.strip())
    if match is None:
        raise ValueError(
            f"model spec must be 'provider:model' (e.g. 'openai:gpt-4o-mini') or 'local', "
            f"not {spec!r}"
        )
    return match["provider"], match["model"]


def chat_model(spec: str, *, timeout_s: float = 20.0) -> BaseChatModel:
    """Build the chat model a spec names, deterministic, with no client-side retries.

    Retries belong to `ainvoke_structured`, which keeps them inside one time budget.
    "local" starts (or reuses) the local server, which blocks for a few seconds the first
    time: call it from a thread when inside an event loop.
    """
    from langchain_openai import ChatOpenAI

    if spec.strip() == "local":
        from textcart.paths import data_dir
        from textcart.tools.local_llm import LOCAL_MODEL_NAME, ensure_local_server

        local_url = ensure_local_server(data_dir() / "llm")
        return ChatOpenAI(
            base_url=local_url,
            api_key="local",  # type: ignore[arg-type]
            model=LOCAL_MODEL_NAME,
            temperature=0,
            max_tokens=_LOCAL_MAX_TOKENS,  # type: ignore[call-arg]
            timeout=timeout_s,
            max_retries=0,
        )
    provider, model = _parse_spec(spec)
    if provider == "local":
        raise ValueError(f"the local model is named just 'local', not {spec!r}")
    if provider == "openai":
        base_url = _custom_base_url()
        # Many self-hosted OpenAI-compatible servers want no key, but the client insists on one.
        api_key = settings.current().openai_api_key or ("unused" if base_url else None)
        return ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=api_key,  # type: ignore[arg-type]
            temperature=0,
            timeout=timeout_s,
            max_retries=0,
        )
    try:
        from langchain.chat_models import init_chat_model  # type: ignore[import-not-found]
    except ImportError as exc:
        raise ValueError(
            f"provider {provider!r} needs the `langchain` package (pip install "
            "'textcart[providers]') and that provider's integration installed; "
            "'openai:<model>' and 'local' work without them"
        ) from exc
    try:
        built: BaseChatModel = init_chat_model(
            f"{provider}:{model}", temperature=0, timeout=timeout_s, max_retries=0
        )
    except ImportError as exc:
        raise ValueError(f"provider {provider!r} needs its LangChain integration: {exc}") from exc
    return built


def structured_method(spec: str) -> StructuredMethod:
    """How to ask the model a spec names for JSON.

    `local` (llama.cpp) gets `response_format={"type": "json_object", "schema": ...}`: it
    answers HTTP 500 to the json_schema request but constrains its output to this form.
    `openai:` gets OpenAI's strict json_schema, at OpenAI and at any OpenAI-compatible
    base URL (the documented request; OpenAI and several gateways refuse a `schema` inside
    `json_object`). Other providers get a forced tool call. `TEXTCART_LLM_STRUCTURED_OUTPUT`
    (json_schema, json_object or function_calling) overrides it for every non-local model.
    """
    if spec.strip() == "local":
        return "json_object"
    provider, _ = _parse_spec(spec)
    configured = settings.current().llm_structured_output
    if configured:
        if configured not in STRUCTURED_METHODS:
            raise ValueError(
                f"TEXTCART_LLM_STRUCTURED_OUTPUT must be one of {', '.join(STRUCTURED_METHODS)}, "
                f"not {configured!r}"
            )
        return configured  # type: ignore[return-value]
    return "json_schema" if provider == "openai" else "function_calling"


def parse_json_object(text: str) -> object:
    """The first JSON object in a reply, tolerating code fences and text around it."""
    fenced = _FENCE.search(text)
    candidate = fenced.group(1) if fenced else text
    decoder = json.JSONDecoder()
    start = candidate.find("{")
    while start >= 0:
        try:
            value, _ = decoder.raw_decode(candidate, start)
        except json.JSONDecodeError:
            start = candidate.find("{", start + 1)
            continue
        return value
    raise ValueError("the reply holds no JSON object")


def _short(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()
        )[:300]
    return str(error)[:300]


async def _ask_once(
    model: BaseChatModel, schema: type[T], messages: list[BaseMessage], method: StructuredMethod
) -> tuple[T | None, str, str]:
    """One request; returns (the value or None, the raw reply, what was wrong with it)."""
    if method in ("json_schema", "function_calling"):
        runnable = model.with_structured_output(schema, method=method, include_raw=True)
        out = await runnable.ainvoke(messages)
        if not isinstance(out, dict):
            raise TypeError(f"with_structured_output(include_raw=True) gave {type(out)}")
        raw = out.get("raw")
        raw_text = raw.text if isinstance(raw, AIMessage) else str(raw)
        parsed = out.get("parsed")
        if isinstance(parsed, schema):
            return parsed, raw_text, ""
        error = out.get("parsing_error")
        return None, raw_text, _short(error) if error else "no structured output in the reply"
    bound = model.bind(
        response_format={"type": "json_object", "schema": schema.model_json_schema()}
    )
    reply = await bound.ainvoke(messages)
    raw_text = reply.text if isinstance(reply, AIMessage) else str(reply.content)
    try:
        return schema.model_validate(parse_json_object(raw_text)), raw_text, ""
    except (ValueError, ValidationError) as exc:
        return None, raw_text, _short(exc)


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

    A retry shows the model its previous reply and what was wrong with it. Raises
    `ModelTimeout` or `InvalidModelOutput` when it gives up; transport errors (connection
    refused, HTTP errors) propagate as they are.
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
                    f"That reply was not valid: {error}. Answer again with one JSON object "
                    "that matches the schema exactly."
                ),
            ]
        raise InvalidModelOutput(f"invalid output after {max(attempts, 1)} attempts: {error}")

    try:
        return await asyncio.wait_for(attempt_all(), timeout=timeout_s)
    except TimeoutError as exc:
        raise ModelTimeout(f"no valid answer within {timeout_s:g} s") from exc


def llm_timeout_s(spec: str | None, timeout: float | None = None) -> float:
    """The per-call budget: `timeout`, else $TEXTCART_LLM_TIMEOUT_S, else per kind of model."""
    if timeout is not None:
        return timeout
    env_timeout = settings.current().llm_timeout_s
    if env_timeout is not None:
        return env_timeout
    return LOCAL_TIMEOUT_S if spec == "local" else REMOTE_TIMEOUT_S


class _Ping(BaseModel):
    """The smallest structured answer: proves the model can answer in the chosen form."""

    ok: bool


async def check_structured_output(
    model: BaseChatModel, spec: str, method: StructuredMethod, timeout_s: float
) -> str | None:
    """None when `model` answers a tiny schema in `method`; else why not, naming the model.

    Called once at start (`textcart.model_check`: serve, demo, chat, simulate): a model
    that cannot give structured output would otherwise make every decision fall back to
    the classic decider, silently.
    """
    messages: list[BaseMessage] = [
        HumanMessage('Answer with the JSON object {"ok": true} and nothing else.')
    ]
    try:
        await ainvoke_structured(
            model, _Ping, messages, method=method, timeout_s=timeout_s, attempts=1
        )
    except Exception as exc:  # noqa: BLE001 - any failure is what the operator must see
        return (
            f"model {spec!r} gave no structured output with method {method} "
            f"({type(exc).__name__}: {str(exc)[:200]}); every decision would fall back to "
            "the classic decider. Set TEXTCART_LLM_STRUCTURED_OUTPUT to another method "
            f"({', '.join(STRUCTURED_METHODS)}) or choose another model."
        )
    return None
