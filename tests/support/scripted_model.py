"""A chat model whose answers a test scripts: it obeys injections, stalls, raises, or babbles.

Real models cannot be made to misbehave on cue; these stand in for the worst a model can
do, while every other component of the turn (Weaviate, MiniLM, the store) is real.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.utils.function_calling import convert_to_openai_tool

from textcart.graph.services import Services, default_services

SPEC = "scripted:model"


class ScriptedModel(BaseChatModel):
    """Answers `answer(schema_title, prompt_text)`; may sleep first or raise instead.

    It speaks both structured-output forms a provider may be asked in: llama.cpp's
    `response_format` (the answer is the message text) and a forced tool call (the answer
    is the call's arguments), as `structured_method` chooses for its `scripted:` spec.
    """

    answer: Callable[[str, str], str] = lambda title, prompt: "{}"
    delay_s: float = 0.0
    error: Callable[[], Exception] | None = None
    calls: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[Any, Any]:
        """Offer the tools (the schema as a forced tool call) to the next call."""
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools], **kwargs)

    def _reply(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> ChatResult:
        tools = kwargs.get("tools") or []
        if tools:
            title = tools[0]["function"]["name"]
        else:
            title = kwargs.get("response_format", {}).get("schema", {}).get("title", "")
        self.calls.append(title)
        if self.error is not None:
            raise self.error()
        prompt = "\n".join(str(m.content) for m in messages)
        text = self.answer(title, prompt)
        if not tools:
            return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])
        try:
            args = json.loads(text)
        except ValueError:
            args = None
        if not isinstance(args, dict):
            # Babble: no tool call at all, as a model that ignores the tool would answer.
            return ChatResult(generations=[ChatGeneration(message=AIMessage(text))])
        call = {"name": title, "args": args, "id": "call-1", "type": "tool_call"}
        return ChatResult(generations=[ChatGeneration(message=AIMessage("", tool_calls=[call]))])

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return self._reply(messages, kwargs)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        await asyncio.sleep(self.delay_s)
        return self._reply(messages, kwargs)


async def install(model: ScriptedModel, services: Services | None = None) -> None:
    """Make `SPEC` name this model in `services` (the process's default ones if none)."""
    (services or await default_services()).use_model(SPEC, model)


async def uninstall(services: Services | None = None) -> None:
    """Forget the scripted model."""
    (services or await default_services()).use_model(SPEC, None)
