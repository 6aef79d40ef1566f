"""Where simulated texts go: into memory, never to a carrier or the outbox file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from textcart.graph.services import Services
from textcart.tools.sms import SentMessage


class SimulatedPhones:
    """A sender that keeps every text per phone number, as the shoppers' phones would."""

    def __init__(self) -> None:
        """Start with empty inboxes."""
        self.inbox: dict[str, list[str]] = {}

    async def send(self, to: str, text: str, *, idempotency_key: str) -> SentMessage:
        """Deliver the text to the simulated phone."""
        self.inbox.setdefault(to, []).append(text)
        return SentMessage(to=to, text=text, provider_id=idempotency_key, channel="simulation")


@asynccontextmanager
async def simulated_phones(services: Services) -> AsyncIterator[SimulatedPhones]:
    """Route every outbound text of `services` to simulated phones while the block runs."""
    phones, previous = SimulatedPhones(), services.outbound
    services.outbound = phones
    try:
        yield phones
    finally:
        services.outbound = previous
