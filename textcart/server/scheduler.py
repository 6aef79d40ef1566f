"""Runs queued proactive texts (browse and cart abandonment) when they fall due.

`POST /events` and the compliance gate (quiet hours) queue them in the shopper store; this
loop takes each due entry off the queue, drops it if the shopper has since bought or
texted (the nudge would be stale), and otherwise runs the trigger through the graph,
which applies consent, quiet hours and the frequency cap again and delivers through the
sender.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from textcart.server.inbox import TurnRunner
from textcart.tools.shopper_store import ShopperStore, now_utc

log = logging.getLogger("textcart.scheduler")

# Events after the nudge was queued that make it pointless, per trigger.
SUPERSEDED_BY = {
    "browse_abandonment": frozenset({"added_to_cart", "checkout_started", "purchased"}),
    "cart_abandonment": frozenset({"checkout_started", "purchased"}),
}


def _time(value: str) -> datetime:
    when = datetime.fromisoformat(value)
    return when if when.tzinfo else when.replace(tzinfo=UTC)


class ProactiveScheduler:
    """Polls the proactive queue every `interval_s` seconds (or when woken)."""

    def __init__(self, shoppers: ShopperStore, runner: TurnRunner, interval_s: float) -> None:
        """Poll `shoppers`' queue and run due triggers with `runner`."""
        self.shoppers, self.runner, self.interval_s = shoppers, runner, interval_s
        self._wake = asyncio.Event()
        self._counts = {"sent_runs": 0, "stale": 0, "failed": 0, "send_failed": 0}

    def wake(self) -> None:
        """Look at the queue now rather than at the next tick."""
        self._wake.set()

    def stats(self) -> dict[str, int]:
        """What the scheduler has done since the server started."""
        return dict(self._counts)

    async def run(self) -> None:
        """Poll forever; one failing entry never stops the loop."""
        while True:
            try:
                await self.run_due()
            except Exception as exc:  # noqa: BLE001 - keep polling; the store may come back
                log.warning("proactive queue poll failed: %s", type(exc).__name__)
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval_s)
            except TimeoutError:
                pass

    async def run_due(self, now: datetime | None = None) -> int:
        """Run every due entry once; returns how many turns ran."""
        ran = 0
        async for due in self.shoppers.take_due_proactive(now or now_utc()):
            shopper_id, trigger = due.shopper_id, due.trigger
            if due.queued_at and await self._superseded(shopper_id, trigger, _time(due.queued_at)):
                self._counts["stale"] += 1
                continue
            try:
                async with self.runner.one_at_a_time(shopper_id):
                    await self.runner.finish_unfinished(shopper_id)
                    result = await self.runner.run(
                        shopper_id,
                        {
                            "text": None,
                            "trigger": trigger,
                            "message_id": f"{trigger}-{due.key[:16]}",
                        },
                    )
            except Exception as exc:  # noqa: BLE001 - one shopper's failure is not everyone's
                self._counts["failed"] += 1
                log.warning("proactive %s failed: %s", trigger, type(exc).__name__)
                continue
            self._counts["sent_runs"] += 1
            ran += 1
            if ((result.get("delivery") or {}).get("status")) == "failed":
                # Retried with backoff already; the message log keeps it as failed.
                self._counts["send_failed"] += 1
                log.warning("proactive %s not delivered: %s", trigger, result["delivery"]["error"])
        return ran

    async def _superseded(self, shopper_id: str, trigger: str, since: datetime) -> bool:
        events: list[dict[str, Any]] = await self.shoppers.events(shopper_id)
        later = {e["type"] for e in events if _time(e["at"]) > since}
        if later & SUPERSEDED_BY.get(trigger, frozenset()):
            return True
        messages = await self.shoppers.messages(shopper_id, limit=50)
        return any(m.get("direction") == "inbound" and _time(m["at"]) > since for m in messages)
