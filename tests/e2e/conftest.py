"""A real LangGraph server (`textcart serve` → `langgraph dev`) and a fake Twilio API.

The server runs as a subprocess on a free port with its own data directory, the
embedded Weaviate holding the demo catalog, signature checking on, hand-off review on,
and browse abandonment due at once. Proactive texts go to `TwilioRecorder`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from harness import (
    MODE,
    PRODUCTION_DIRECTORIES,
    SHOPIFY_SECRET,
    Server,
    TwilioRecorder,
    free_port,
    locked_env,
    running_server,
    twilio_sender,
)

from textcart.server.production_serve import stop_services

# `langgraph dev` runs one process: there is no instance to kill, so the crash test of the
# production server is not collected at all in dev mode (rather than reported as skipped).
collect_ignore = [] if MODE == "production" else ["test_instance_crash.py"]


@pytest.fixture(scope="session", autouse=True)
def production_services() -> Iterator[None]:
    """Stop the PostgreSQL and Redis servers that production-mode servers started."""
    yield
    for directory in PRODUCTION_DIRECTORIES:
        stop_services(directory)


@pytest.fixture(scope="session")
def twilio() -> Iterator[TwilioRecorder]:
    """The fake Twilio REST API."""
    recorder = TwilioRecorder(free_port())
    recorder.start()
    yield recorder
    recorder.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, twilio: TwilioRecorder) -> Iterator[Server]:
    """A running textcart server for the e2e tests; stopped with its Weaviate at the end."""
    directory = tmp_path_factory.mktemp("textcart-server")
    env = locked_env(
        **twilio_sender(twilio),
        TEXTCART_REVIEW_HANDOFFS="true",
        TEXTCART_ABANDONMENT_DELAY_MINUTES="0",
        TEXTCART_SCHEDULER_INTERVAL_S="0.5",
        # Proactive texts must not depend on the hour the tests run at.
        TEXTCART_QUIET_START="0",
        TEXTCART_QUIET_END="0",
        # Low enough for test_doors to reach it, high enough for every other test.
        TEXTCART_INBOUND_RATE="6/minute",
        SHOPIFY_WEBHOOK_SECRET=SHOPIFY_SECRET,
    )
    with running_server(directory, env) as instance:
        yield instance
