"""Providers other than `openai:` and `local`: LangChain's init_chat_model, checked at start.

`anthropic:` is built by `init_chat_model` from the packages the `providers` extra declares
(langchain, langchain-anthropic), asked for structured output with a forced tool call, and
sent through the real client to `StrictAnthropic`, a local stand-in for Anthropic's
Messages API that refuses what Anthropic would refuse (`ANTHROPIC_BASE_URL` points the
client at it). The same fake, playing a model that ignores the tool, must be named by the
start-up check that `demo`, `simulate` and `serve` run before their first turn.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from rich.console import Console
from strict_anthropic import StrictAnthropic
from typer.testing import CliRunner

import textcart.graph.services as services_module
from textcart import cli
from textcart.graph.context import Context
from textcart.model_check import check_models
from textcart.simulation import cli as simulation_cli
from textcart.tools.llm import ainvoke_structured, chat_model, structured_method
from textcart.vocabulary.outputs import IntentResult

SPEC = "anthropic:claude-test"
MESSAGES = [SystemMessage("Classify the shopper's intent."), HumanMessage("where is my order")]
SCRIPT = Path(__file__).resolve().parents[2] / "textcart/demo_store/conversations/order-status.yaml"


def _answer(body: dict[str, Any]) -> str:
    name = body["tools"][0]["name"] if body.get("tools") else ""
    if name == "_Ping":
        return json.dumps({"ok": True})
    return json.dumps({"label": "order_status", "confidence": 0.9, "rationale": "asks where"})


@pytest.fixture
def anthropic(monkeypatch: pytest.MonkeyPatch) -> Iterator[StrictAnthropic]:
    server = StrictAnthropic(_answer)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.delenv("ANTHROPIC_API_URL", raising=False)
    monkeypatch.delenv("TEXTCART_LLM_STRUCTURED_OUTPUT", raising=False)
    # The models these tests build point at this server: keep them out of other tests.
    monkeypatch.setattr(services_module, "_default", None)
    yield server
    server.close()


async def test_anthropic_goes_through_init_chat_model_with_a_forced_tool_call(
    anthropic: StrictAnthropic,
) -> None:
    model = chat_model(SPEC, timeout_s=10)
    assert type(model).__module__.startswith("langchain_anthropic")
    method = structured_method(SPEC)
    assert method == "function_calling"
    result = await ainvoke_structured(model, IntentResult, MESSAGES, method=method, timeout_s=10)
    assert (result.label, result.confidence) == ("order_status", 0.9)
    assert anthropic.refused == []
    headers, body = anthropic.requests[-1]
    key = headers.get("x-api-key") or headers["authorization"].removeprefix("Bearer ")
    assert key == "test-key" and headers["anthropic-version"]
    assert body["model"] == "claude-test" and body["temperature"] == 0
    # The system prompt travels at the top level; the schema is the one tool, and forced.
    assert "Classify the shopper's intent." in json.dumps(body["system"])
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert [t["name"] for t in body["tools"]] == ["IntentResult"]
    assert {"label", "confidence"} <= set(body["tools"][0]["input_schema"]["properties"])
    assert body["tool_choice"]["type"] in ("tool", "any")


async def test_the_start_up_check_names_a_model_that_ignores_the_tool(
    anthropic: StrictAnthropic,
) -> None:
    context = Context(model=SPEC)
    with Path("/dev/null").open("w") as sink:
        assert await check_models(context, Console(file=sink)) == []
    anthropic.ignore_tools = True
    with Path("/dev/null").open("w") as sink:
        problems = await check_models(context, Console(file=sink))
    assert len(problems) == 1
    assert f"'{SPEC}'" in problems[0] and "function_calling" in problems[0]
    assert anthropic.refused == []  # a valid request, answered without the tool


class _StopAfterCheck(RuntimeError):
    """Raised where a command would go on to load the catalog: the check came first."""


async def _stop(*args: Any, **kwargs: Any) -> Any:
    raise _StopAfterCheck


@pytest.mark.parametrize("command", ["demo", "simulate", "serve"])
def test_commands_report_a_failing_model_at_start(
    command: str,
    anthropic: StrictAnthropic,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    anthropic.ignore_tools = True
    monkeypatch.setenv("TEXTCART_DATA_DIR", str(tmp_path))
    # What each command does after its check is stubbed to stop the run there.
    monkeypatch.setattr(cli, "load_store_catalog", _stop)
    monkeypatch.setattr(simulation_cli, "ensure_demo_catalog", _stop)
    args = {
        "demo": ["demo", "--model", SPEC],
        "simulate": ["simulate", str(SCRIPT), "--model", SPEC],
        "serve": ["serve", "--no-demo-shoppers", "--port", str(_free_port())],
    }[command]
    if command == "serve":
        # serve reads the model from the environment; its catalog load comes first.
        monkeypatch.setenv("TEXTCART_MODEL", SPEC)
        monkeypatch.setattr(cli, "load_catalog", _no_products)
        monkeypatch.setattr(cli, "check_models", _check_then_stop)
        # Never a real server: without the check, the run must stop here and fail the test.
        monkeypatch.setattr("textcart.server.serve.run_server", _no_server)
    result = CliRunner().invoke(cli.app, args)
    output = result.output
    assert isinstance(result.exception, _StopAfterCheck), output
    assert "model check failed" in output and SPEC in output


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _no_products(*args: Any, **kwargs: Any) -> Any:
    from textcart.tools.catalog_sync import LoadSummary

    return LoadSummary()


def _no_server(*args: Any, **kwargs: Any) -> int:
    raise AssertionError("serve went on to start the server without the model check")


async def _check_then_stop(context: Context, console: Console) -> list[str]:
    await check_models(context, console)
    raise _StopAfterCheck
