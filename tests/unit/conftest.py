"""What unit tests share: real classic services, no Weaviate, and no real model.

A real model (the local llama.cpp server, or any OpenAI-compatible service) belongs in
tests/integration. A unit test that reaches one fails, even when the code under test falls
back to a classic decider on the error, because the attempt is recorded and checked after
the test. Scripted and fake chat models (tests/support) are not real and pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_openai import ChatOpenAI

from textcart.graph.services import Services, build_services
from textcart.tools import local_llm


class RealModelReached(RuntimeError):
    """A unit test tried to start or call a real model."""


@pytest.fixture(autouse=True)
def real_model_attempts(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse every real-model call in a unit test, and fail the test that tried one."""
    attempts: list[str] = []

    def refuse(what: str) -> Any:
        def refused(*args: Any, **kwargs: Any) -> Any:
            attempts.append(what)
            raise RealModelReached(f"a unit test reached a real model: {what}")

        return refused

    monkeypatch.setattr(local_llm, "ensure_local_server", refuse("the local model server"))
    for method in ("_generate", "_agenerate", "_stream", "_astream"):
        monkeypatch.setattr(ChatOpenAI, method, refuse(f"ChatOpenAI.{method}"))
    yield attempts
    if attempts:
        pytest.fail(f"unit test reached a real model ({', '.join(sorted(set(attempts)))})")


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    """The real classic services (embedder, fitted deciders, knowledge), built per module.

    Tests hand them to the graph (`Agent.in_memory(services)`); nothing reads a global.
    """
    yield build_services()


@pytest.fixture
def no_weaviate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the catalog at a port nothing listens on: retrieval must degrade, never fail."""
    monkeypatch.setenv("WEAVIATE_URL", "http://127.0.0.1:9")
