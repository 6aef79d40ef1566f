"""One shopper's data: everything held on them (export), and deleting it (forget).

A shopper's data lives in their thread (the checkpointer), their store namespaces
(profile, consent, events, message log, proactive triggers), the server's inbox,
proactive queue and tracked links, and the outbox file. `forget` deletes all of it. If
the shopper had opted out, a suppression entry survives, keyed by a hash of their shopper
id (itself a hash of the number), so a number that said STOP stays opted out after its
data is gone; nothing else about them remains.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.store.base import BaseStore

from textcart.tools.links import LINKS
from textcart.tools.shopper_store import (
    PROACTIVE_QUEUE,
    SUPPRESSION,
    now_utc,
    suppression_key,
    thread_id_for,
)

INBOX: tuple[str, ...] = ("sms_inbox",)
_PAGE = 500


async def _all(store: BaseStore, namespace: tuple[str, ...]) -> list[Any]:
    items: list[Any] = []
    while True:
        page = await store.asearch(namespace, limit=_PAGE, offset=len(items))
        items += page
        if len(page) < _PAGE:
            return items


def _own(items: list[Any], namespace: tuple[str, ...]) -> list[Any]:
    # asearch matches a namespace prefix; keep exactly this namespace's items.
    return [i for i in items if tuple(i.namespace) == namespace]


async def _shopper_items(store: BaseStore, shopper_id: str) -> dict[str, list[Any]]:
    base = ("shoppers", shopper_id)
    inbox = [i for i in await _all(store, INBOX) if i.value.get("shopper_id") == shopper_id]
    queue = [i for i in await _all(store, PROACTIVE_QUEUE) if i.key.startswith(f"{shopper_id}:")]
    return {
        "store": _own(await _all(store, base), base),
        "events": _own(await _all(store, (*base, "events")), (*base, "events")),
        "messages": _own(await _all(store, (*base, "messages")), (*base, "messages")),
        "triggers": _own(await _all(store, (*base, "triggers")), (*base, "triggers")),
        "links": [i for i in await _all(store, LINKS) if i.value.get("shopper_id") == shopper_id],
        "inbox": inbox,
        "queue": queue,
    }


def _outbox_lines(outbox: Path | None, phone: str) -> list[dict[str, Any]]:
    if outbox is None or not outbox.exists():
        return []
    found = []
    for line in outbox.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("to") == phone:
            found.append(entry)
    return found


async def export_shopper(
    store: BaseStore,
    checkpointer: BaseCheckpointSaver[Any],
    shopper_id: str,
    phone: str,
    outbox: Path | None = None,
) -> dict[str, Any]:
    """Everything held on one shopper, as plain JSON-ready data."""
    items = await _shopper_items(store, shopper_id)
    by_key = {i.key: i.value for i in items["store"]}
    config = {"configurable": {"thread_id": thread_id_for(shopper_id)}}
    checkpoint = await checkpointer.aget_tuple(config)  # type: ignore[arg-type]
    values = dict(checkpoint.checkpoint.get("channel_values", {})) if checkpoint else {}
    suppressed = await store.aget(SUPPRESSION, suppression_key(shopper_id))
    return {
        "phone": phone,
        "shopper_id": shopper_id,
        "profile": by_key.get("profile"),
        "consent": by_key.get("consent"),
        "suppressed": suppressed is not None,
        "events": sorted((i.value for i in items["events"]), key=lambda e: e.get("at", "")),
        "messages": sorted((i.value for i in items["messages"]), key=lambda m: m.get("at", "")),
        "triggers": sorted((i.value for i in items["triggers"]), key=lambda t: t.get("at", "")),
        "links": [{"code": i.key, **i.value} for i in items["links"]],
        "thread": {
            "thread_id": thread_id_for(shopper_id),
            "transcript": values.get("transcript", []),
        },
        "inbox": [{"message_sid": i.key, **i.value} for i in items["inbox"]],
        "queued": [i.value for i in items["queue"]],
        "outbox": _outbox_lines(outbox, phone),
    }


def _rewrite_outbox(outbox: Path, phone: str) -> int:
    """Drop the number's lines from the outbox file (atomically); returns how many."""
    kept, dropped = [], 0
    for line in outbox.read_text(encoding="utf-8").splitlines(keepends=True):
        try:
            entry = json.loads(line)
        except ValueError:
            kept.append(line)
            continue
        if isinstance(entry, dict) and entry.get("to") == phone:
            dropped += 1
        else:
            kept.append(line)
    if dropped:
        temporary = outbox.with_suffix(".forget.tmp")
        temporary.write_text("".join(kept), encoding="utf-8")
        os.replace(temporary, outbox)
    return dropped


async def forget_shopper(
    store: BaseStore,
    checkpointer: BaseCheckpointSaver[Any],
    shopper_id: str,
    phone: str,
    outbox: Path | None = None,
) -> dict[str, int | bool]:
    """Delete everything held on one shopper; keep a suppression entry if they opted out.

    Returns what was deleted, by kind. A later text from the number starts fresh (and
    not subscribed, or opted out when suppressed).
    """
    items = await _shopper_items(store, shopper_id)
    consent = next((i.value for i in items["store"] if i.key == "consent"), None) or {}
    opted_out = consent.get("status") == "opted_out"
    if opted_out:
        # Written first: a crash half-way through must not forget the opt-out.
        await store.aput(
            SUPPRESSION,
            suppression_key(shopper_id),
            {"status": "opted_out", "since": now_utc().isoformat()},
        )
    counts: dict[str, int | bool] = {}
    for kind, found in items.items():
        for item in found:
            await store.adelete(tuple(item.namespace), item.key)
        counts[kind] = len(found)
    await checkpointer.adelete_thread(thread_id_for(shopper_id))
    counts["thread"] = True
    counts["outbox"] = (
        await asyncio.to_thread(_rewrite_outbox, outbox, phone)
        if outbox is not None and outbox.exists()
        else 0
    )
    counts["suppressed"] = opted_out
    return counts
