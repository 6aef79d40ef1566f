"""A stand-in for Anthropic's Messages API that accepts only what Anthropic documents.

It is the other end of the `anthropic:` path (LangChain's `init_chat_model`, then
langchain-anthropic and the anthropic SDK): POST /v1/messages with a key (`x-api-key`, or
the bearer token the SDK sends) and an `anthropic-version` header; a body of documented
fields only, with `max_tokens` set, the system prompt at the top level (never a "system"
message), tools with an `input_schema` and a `tool_choice` that names one of them.
Anything else gets HTTP 400 as Anthropic answers it. A valid request gets the scripted
answer: as a `tool_use` block when tools were sent, unless the fake plays a model that
ignores them (`ignore_tools`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from json_server import JsonServer

# The request body fields of POST /v1/messages in Anthropic's API reference.
DOCUMENTED_FIELDS = frozenset(
    {
        "model", "messages", "max_tokens", "cache_control", "container",
        "context_management", "inference_geo", "mcp_servers", "metadata", "output_config",
        "service_tier", "stop_sequences", "stream", "system", "temperature", "thinking",
        "tool_choice", "tools", "top_k", "top_p",
    }
)  # fmt: skip
_TOOL_CHOICES = frozenset({"auto", "any", "tool", "none"})


def request_problem(headers: Mapping[str, str], body: dict[str, Any]) -> str | None:
    """Why Anthropic would refuse this request, or None."""
    if not headers.get("x-api-key") and not headers.get("authorization", "").startswith("Bearer "):
        return "x-api-key header is required"
    if not headers.get("anthropic-version"):
        return "anthropic-version header is required"
    unknown = sorted(set(body) - DOCUMENTED_FIELDS)
    if unknown:
        return f"{unknown[0]}: Extra inputs are not permitted"
    if not isinstance(body.get("max_tokens"), int) or body["max_tokens"] < 1:
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    roles = {m.get("role") for m in messages if isinstance(m, dict)}
    if roles - {"user", "assistant"}:
        return f"messages: roles must be user or assistant, not {sorted(roles)}"
    tools = body.get("tools") or []
    names = {t.get("name") for t in tools}
    if any(not isinstance(t.get("input_schema"), dict) for t in tools):
        return "tools: every tool needs an input_schema"
    choice = body.get("tool_choice")
    if choice is not None:
        if choice.get("type") not in _TOOL_CHOICES:
            return f"tool_choice.type: {choice.get('type')!r} is not a valid choice"
        if choice["type"] == "tool" and choice.get("name") not in names:
            return "tool_choice.name: names no tool of the request"
    return None


class StrictAnthropic:
    """Serve on 127.0.0.1 until closed; `requests` keeps every (headers, body) seen."""

    def __init__(self, answer: Callable[[dict[str, Any]], str], ignore_tools: bool = False) -> None:
        """`answer(body)` is the JSON text the model replies with to a valid request."""
        self.answer = answer
        self.ignore_tools = ignore_tools
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        self.refused: list[str] = []
        self._server = JsonServer(self._handle)
        self.url = self._server.url

    def _handle(
        self, path: str, headers: Mapping[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        self.requests.append((dict(headers), body))
        problem = request_problem(headers, body)
        if problem is None and path.split("?")[0] != "/v1/messages":
            problem = f"no route {path}"
        if problem is not None:
            self.refused.append(problem)
            error = {"type": "invalid_request_error", "message": problem}
            return 400, {"type": "error", "error": error}
        text = self.answer(body)
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        stop = "end_turn"
        if body.get("tools") and not self.ignore_tools:
            name = body["tools"][0]["name"]
            content = [
                {"type": "tool_use", "id": "toolu_1", "name": name, "input": json.loads(text)}
            ]
            stop = "tool_use"
        return 200, {
            "id": "msg_test",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }

    def close(self) -> None:
        """Stop serving."""
        self._server.close()
