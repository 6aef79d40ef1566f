"""An OpenAI-compatible test server that accepts only what OpenAI documents.

It stands in for OpenAI and for the strict gateways in front of it: a chat-completions
request with a field the API reference does not list, or a `response_format` that is not
one of its three documented shapes (`text`, `json_object` with nothing else, `json_schema`
with a named schema), gets HTTP 400 as OpenAI answers it. A valid request gets the
answer the test scripted, as message content (or as a tool call when tools were sent).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from json_server import JsonServer

# The request body fields of POST /v1/chat/completions in OpenAI's API reference.
DOCUMENTED_FIELDS = frozenset(
    {
        "model", "messages", "audio", "frequency_penalty", "function_call", "functions",
        "logit_bias", "logprobs", "max_completion_tokens", "max_tokens", "metadata",
        "modalities", "n", "parallel_tool_calls", "prediction", "presence_penalty",
        "prompt_cache_key", "reasoning_effort", "response_format", "safety_identifier",
        "seed", "service_tier", "stop", "store", "stream", "stream_options", "temperature",
        "tool_choice", "tools", "top_logprobs", "top_p", "user", "verbosity",
        "web_search_options",
    }
)  # fmt: skip
_JSON_SCHEMA_KEYS = frozenset({"name", "description", "schema", "strict"})


def request_problem(body: dict[str, Any]) -> str | None:
    """Why OpenAI would refuse this request body, or None."""
    unknown = sorted(set(body) - DOCUMENTED_FIELDS)
    if unknown:
        return f"Unrecognized request argument supplied: {', '.join(unknown)}"
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return "messages must be a non-empty array"
    fmt = body.get("response_format")
    if fmt is None:
        return None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "text" or kind == "json_object":
        extra = sorted(set(fmt) - {"type"})
        return f"Unknown parameter: 'response_format.{extra[0]}'." if extra else None
    if kind == "json_schema":
        spec = fmt.get("json_schema")
        if set(fmt) != {"type", "json_schema"} or not isinstance(spec, dict):
            return "response_format json_schema needs exactly `json_schema`"
        if set(spec) - _JSON_SCHEMA_KEYS or not spec.get("name"):
            return "json_schema needs a `name` and only name, description, schema, strict"
        return None
    return f"Invalid value for 'response_format.type': {kind!r}"


class StrictOpenAI:
    """Serve on 127.0.0.1 (a free port) until closed; `requests` keeps every body seen."""

    def __init__(self, answer: Callable[[dict[str, Any]], str]) -> None:
        """`answer(body)` is the JSON text the model replies with to a valid request."""
        self.answer = answer
        self.requests: list[dict[str, Any]] = []
        self.refused: list[str] = []
        self._server = JsonServer(self._handle)
        self.url = f"{self._server.url}/v1"

    def _handle(
        self, path: str, headers: Mapping[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        self.requests.append(body)
        problem = request_problem(body)
        if problem is not None or not path.endswith("/chat/completions"):
            problem = problem or f"no route {path}"
            self.refused.append(problem)
            return 400, {"error": {"message": problem, "type": "invalid_request_error"}}
        return 200, self.completion(body)

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        """A chat completion answering `body` with the scripted text."""
        text = self.answer(body)
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if body.get("tools"):
            name = body["tools"][0]["function"]["name"]
            message = {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function",
                     "function": {"name": name, "arguments": text}}
                ],
            }  # fmt: skip
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", ""),
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }

    def close(self) -> None:
        """Stop serving."""
        self._server.close()
