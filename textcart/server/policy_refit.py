"""The server relearns the next-message policy from its own message log, on a schedule.

Every `TEXTCART_POLICY_REFIT_H` hours (24; 0 turns it off) the policy is fit again from
every logged reply with its outcomes (clicks, attributed purchases, replies, opt-outs) and
adopted only if it beats the policy in place in an offline replay
(`textcart.deciders.next_message_fit`); the classic decider, and the evidence the LLM
decider is shown, then come from it. `TEXTCART_EXPLORE_RATE` keeps exploring.
"""

from __future__ import annotations

import asyncio
import logging

from langgraph.store.base import BaseStore

from textcart import settings
from textcart.graph.context import Context
from textcart.graph.services import FitReport, Services

log = logging.getLogger("textcart.server")


def refit_interval_s() -> float:
    """Seconds between refits; 0 means never."""
    hours = settings.current().policy_refit_h
    return max(hours, 0.0) * 3600


async def refit_now(services: Services, store: BaseStore) -> FitReport:
    """Fit from the log, and serve the new policy if `services`' replay adopted it."""
    # The settings may read the store folder's files: not on the event loop.
    bands = await asyncio.to_thread(lambda: Context().offer_band_set)
    report = await services.relearn_next_message(store, bands)
    log.info(
        "policy refit from %d decisions: %s", report.decisions,
        "adopted" if report.adopted else "kept the policy in place",
    )  # fmt: skip
    return report


async def refit_forever(services: Services, store: BaseStore, interval_s: float) -> None:
    """Refit every `interval_s` seconds; a failed refit keeps the policy in place."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await refit_now(services, store)
        except ValueError as exc:
            log.info("policy not refit: %s", exc)
        except Exception as exc:  # noqa: BLE001 - the server goes on with the policy it has
            log.warning("policy refit failed: %s", type(exc).__name__)
