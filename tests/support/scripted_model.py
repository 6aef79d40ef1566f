"""A chat model whose answers a test scripts: it obeys injections, stalls, raises, or babbles.

Real models cannot be made to misbehave on cue; these stand in for the worst a model can
do, while every other component of the turn (Weaviate, MiniLM, the store) is real.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from textcart.graph.services import get_services

SPEC = "scripted:model"


class ScriptedModel(BaseChatModel):
    """Answers `answer(schema_title, prompt_text)`; may sleep first or raise instead."""

    answer: Callable[[str, str], str] = lambda title, prompt: "{}"
    delay_s: float = 0.0
    error: Callable[[], Exception] | None = None
    calls: list[str] = []

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _reply(self, messages: list[BaseMessage], kwargs: dict[str, Any]) -> ChatResult:
        title = kwargs.get("response_format", {}).get("schema", {}).get("title", "")
        self.calls.append(title)
        if self.error is not None:
            raise self.error()
        prompt = "\n".join(str(m.content) for m in messages)
        return ChatResult(
            generations=[ChatGeneration(message=AIMessage(self.answer(title, prompt)))]
        )

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


async def install(model: ScriptedModel) -> None:
    """Make `SPEC` name this model for the rest of the test."""
    services = await get_services()
    services.use_model(SPEC, model)


async def uninstall() -> None:
    """Forget the scripted model."""
    services = await get_services()
    services.use_model(SPEC, None)
