"""Process-wide resources the nodes share: the embedder, fitted classic deciders, the catalog.

These are expensive to build (model weights, fitted classifiers, network clients) and are
not run settings, so they are built once and handed to `build_graph(services)`; nodes never
fetch them. A process that was given none (the graph `langgraph.json` serves, the server's
routes, a command) shares `default_services()`. Tests and simulations build their own, or
swap a model with `Services.use_model`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from langchain_core.language_models import BaseChatModel
from langgraph.store.base import BaseStore

from textcart import settings
from textcart.answers.knowledge import KnowledgeBase, load_knowledge
from textcart.deciders.buy_likelihood import ClassicBuyLikelihood
from textcart.deciders.fit import ClassicFit
from textcart.deciders.intent import ClassicIntent
from textcart.deciders.model_files import load_buy_likelihood_pipeline, load_intent_classifier
from textcart.deciders.next_message import ClassicNextMessage
from textcart.deciders.next_message_fit import FitReport, refit
from textcart.deciders.next_message_policy import policy_path
from textcart.deciders.tone import ClassicTone
from textcart.deciders.wording import ClassicWording
from textcart.graph.context import Context
from textcart.paths import data_dir
from textcart.storefolder.settings import active_store, store_path
from textcart.tools.catalog import Catalog
from textcart.tools.embeddings import Embedder, get_embedder
from textcart.tools.llm import chat_model, structured_method
from textcart.tools.orders import FileOrderBook, NoOrders, Order, OrderBook
from textcart.tools.shopify import ShopifyAdmin, WebhookOrders, order_from_record, order_record
from textcart.tools.shopify_lines import match_lines
from textcart.tools.shopper_store import ShopperStore, now_utc
from textcart.tools.sms import Sender, sender_from_env
from textcart.tools.weaviate_client import connect_async

log = logging.getLogger("textcart.services")

# How often a turn asks Weaviate whether it is still up before using the connection. Each
# check is an HTTP round trip; between checks a query that fails drops the connection
# (every caller does) and the next turn reconnects.
READY_CHECK_EVERY_S = 10.0
# A connection given up on is closed this long after, not at once: closing a gRPC channel
# cancels every call in flight on it, and other shoppers' turns may be using it.
RETIRED_CLOSE_AFTER_S = 30.0


@dataclass
class Services:
    """Everything a turn needs besides its state, store and settings."""

    embedder: Embedder
    intent: ClassicIntent
    tone: ClassicTone
    buy_likelihood: ClassicBuyLikelihood
    next_message: ClassicNextMessage
    fit: ClassicFit
    wording: ClassicWording
    orders: OrderBook
    knowledge: KnowledgeBase
    outbound: Sender | None = None
    _catalogs: dict[str, Catalog] = field(default_factory=dict)
    _models: dict[str, BaseChatModel] = field(default_factory=dict)
    _client: Any = None
    _ready_at: float = 0.0
    _retired: set[asyncio.Task[None]] = field(default_factory=set)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _local_slot: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))
    _models_lock: threading.Lock = field(default_factory=threading.Lock)

    def model(self, spec: str, timeout_s: float) -> tuple[BaseChatModel, Any]:
        """The chat model for a spec (built once) and the structured-output method it needs.

        Conversations ask for it from worker threads at once; building one ("local" starts
        or checks the shared server) must happen once, or a second check could take the
        server busy with the first one's request for a hung one.
        """
        with self._models_lock:
            if spec not in self._models:
                self._models[spec] = chat_model(spec, timeout_s=timeout_s)
            return self._models[spec], structured_method(spec)

    async def order_for(self, store: BaseStore | None, shopper_id: str) -> Order | None:
        """The shopper's latest order: from Shopify's webhooks, its Admin API, or the file.

        An Admin API failure is logged and the next source answers: a turn never fails
        because the store platform is slow.
        """
        if store is not None:
            kept = await WebhookOrders(store).latest(shopper_id)
            if kept is not None:
                return kept
        return await self._order_past_webhooks(store, shopper_id)

    async def orders_for(
        self, store: BaseStore | None, shopper_id: str
    ) -> tuple[Order | None, list[Order]]:
        """The shopper's latest order (as `order_for`) and their earlier ones, newest first.

        Earlier orders come from the webhooks' book and the order file: "the boots I got
        last month" may be in an order before the latest. The webhooks' book is read once.
        """
        kept = await WebhookOrders(store).every(shopper_id) if store is not None else []
        latest = kept[0] if kept else await self._order_past_webhooks(store, shopper_id)
        seen = {latest.order_id} if latest is not None else set()
        earlier = []
        for order in [*kept, *self.orders.orders_for(shopper_id)]:
            if order.order_id not in seen:
                seen.add(order.order_id)
                earlier.append(order)
        return latest, earlier

    async def _order_past_webhooks(self, store: BaseStore | None, shopper_id: str) -> Order | None:
        """The latest order when the webhooks kept none: the Admin API's, else the file's."""
        if store is not None:
            admin = ShopifyAdmin.from_env()
            profile = await ShopperStore(store).get_profile(shopper_id) if admin else None
            if admin is not None and profile and profile.get("phone"):
                try:
                    found = await admin.latest_order(str(profile["phone"]))
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    log.warning("Shopify order lookup failed: %s", type(exc).__name__)
                    found = None
                if found is not None:
                    record = order_record(found, await self._order_lines(found))
                    return order_from_record(shopper_id, record, now_utc())
        return self.orders.latest_for(shopper_id)

    async def _order_lines(self, order: dict[str, Any]) -> list[str]:
        """An Admin API order's lines as the catalog's product ids, as a webhook's are.

        Without the catalog the order keeps no items: its status still answers "where's my
        order", and an id the catalog may not have would name nothing.
        """
        try:
            catalog = await self.catalog(Context().catalog_collection)
            return (await match_lines(catalog, order)).ids
        except Exception as exc:  # noqa: BLE001 - the order's status answers without them
            log.warning("Shopify order's items not named: %s", type(exc).__name__)
            return []

    def use_model(self, spec: str, model: BaseChatModel | None) -> None:
        """Answer `spec` with `model` from now on (tests, simulations); None forgets it."""
        with self._models_lock:
            if model is None:
                self._models.pop(spec, None)
            else:
                self._models[spec] = model

    async def start(self, context: Context) -> None:
        """Start what a turn under `context` uses, before the first turn: Weaviate, the models.

        Connecting to the catalog starts the embedded Weaviate (unless `WEAVIATE_URL` names
        one); building each configured model starts the local model's server ("local"). A
        failure is logged, not raised: the turn degrades as it would without them.
        """
        try:
            await self.catalog(context.catalog_collection)
        except Exception as exc:  # noqa: BLE001 - retrieval reports the catalog unavailable
            log.warning("the catalog is unavailable at start: %s", type(exc).__name__)
        for spec in context.llm_specs():
            try:
                await asyncio.to_thread(self.model, spec, context.llm_timeout_s)
            except Exception as exc:  # noqa: BLE001 - the classic deciders answer instead
                log.warning("model %r cannot be started: %s", spec, type(exc).__name__)

    async def relearn_next_message(
        self, store: BaseStore, offer_bands: frozenset[str]
    ) -> FitReport:
        """Refit the next-message policy from `store`'s log; serve it if the replay adopts it.

        The exploration rate stays as it was; the LLM decider's evidence comes from the
        new policy too.
        """
        path = policy_path()
        report = await refit(store, path, offer_bands)
        if report.adopted:
            rate = self.next_message.explore_rate
            # A file read: off the event loop, where the server's refit runs.
            self.next_message = await asyncio.to_thread(
                ClassicNextMessage.from_file, path, explore_rate=rate
            )
        return report

    def sender(self) -> Sender:
        """Where texts outside a webhook response go: Twilio if configured, else the outbox."""
        if self.outbound is None:
            self.outbound = sender_from_env(data_dir() / "outbox.jsonl")
        return self.outbound

    def llm_slot(self, spec: str) -> contextlib.AbstractAsyncContextManager[Any]:
        """What a call to this model must hold: one at a time for the local server.

        llama.cpp's server answers one request at a time; queued requests would spend
        their whole time budget waiting and then be abandoned mid-generation, keeping the
        server busy for nothing. Waiting here instead means each call's budget starts when
        the server is free.
        """
        return self._local_slot if spec == "local" else contextlib.nullcontext()

    async def catalog(self, collection: str) -> Catalog:
        """The catalog collection, connecting (or reconnecting) to Weaviate on demand."""
        async with self._lock:
            now = time.monotonic()
            if self._client is not None and now - self._ready_at >= READY_CHECK_EVERY_S:
                if await self._client.is_ready():
                    self._ready_at = now
                else:
                    self._retire(self._client)
            if self._client is None:
                self._client = await connect_async()
                self._ready_at = time.monotonic()
            if collection not in self._catalogs:
                self._catalogs[collection] = Catalog(self._client, collection)
            return self._catalogs[collection]

    def catalog_failed(self, catalog: Catalog) -> None:
        """A turn's catalog call failed: the next turn connects again.

        The failed connection is closed later, not now: other turns may have calls in
        flight on it, and closing would cancel them (their turns would fail, not degrade).
        A connection already replaced by another turn is left to its own retirement.
        """
        if catalog.client is self._client:
            self._retire(self._client)

    def _retire(self, client: Any) -> None:
        self._client = None
        self._catalogs.clear()

        async def close_later() -> None:
            try:
                await asyncio.sleep(RETIRED_CLOSE_AFTER_S)
            finally:  # cancelled by `drop_catalog_connection`: close now
                await _close(client)

        task = asyncio.create_task(close_later())
        self._retired.add(task)
        task.add_done_callback(self._retired.discard)

    async def drop_catalog_connection(self) -> None:
        """Close the Weaviate connection now: a command or a test ends.

        The next turn reconnects. Connections given up on by failed turns are closed too.
        """
        client, self._client = self._client, None
        self._catalogs.clear()
        if client is not None:
            await _close(client)
        # A task of an event loop that has ended (an earlier command in this process) is
        # left to the garbage collector with its loop.
        running = asyncio.get_running_loop()
        retired = [t for t in self._retired if t.get_loop() is running]
        for task in retired:
            task.cancel()
        await asyncio.gather(*retired, return_exceptions=True)


async def _close(client: Any) -> None:
    try:
        await client.close()
    except Exception as exc:  # noqa: BLE001 - a dead connection may fail to close
        log.debug("closing Weaviate client failed: %s", exc)


def knowledge_dir() -> Path:
    """The store's knowledge folder: `TEXTCART_KNOWLEDGE_DIR`, else the store folder's."""
    return settings.current().knowledge_dir or store_path(active_store().knowledge)


def store_order_book() -> OrderBook:
    """The order book the store folder names (`orders:` in store.yaml), else an empty one."""
    if active_store().orders:
        return FileOrderBook(store_path(active_store().orders))
    return NoOrders()


def build_services(embedder: Embedder | None = None, orders: OrderBook | None = None) -> Services:
    """Load the embedder and every classic decider: fit on real data or from the prompts."""
    embedder = embedder or get_embedder()
    knowledge = load_knowledge(knowledge_dir())
    knowledge.index(embedder)
    return Services(
        embedder=embedder,
        # Fit on real data with `textcart fit` if there is such a file, else the examples.
        intent=ClassicIntent(embedder, load_intent_classifier(embedder)),
        tone=ClassicTone(embedder),
        buy_likelihood=ClassicBuyLikelihood(load_buy_likelihood_pipeline()),
        # Exploration (Thompson draws) on a share of decisions, 0 unless configured.
        next_message=ClassicNextMessage.from_file(explore_rate=settings.current().explore_rate),
        fit=ClassicFit(),
        wording=ClassicWording(),
        orders=orders or store_order_book(),
        knowledge=knowledge,
    )


_default: Services | None = None
_default_lock = threading.Lock()


def _build_default() -> Services:
    global _default
    with _default_lock:
        if _default is None:
            _default = build_services()
        return _default


async def default_services() -> Services:
    """The services of a process that was given none, built once (off the event loop).

    Only entry points call this: the graph `langgraph.json` serves, the server's routes and
    `Agent.open` without services. The server builds them, and starts what they use, before
    its first turn.
    """
    built = _default
    return built if built is not None else await asyncio.to_thread(_build_default)


async def close_default_services() -> None:
    """Drop the default services' Weaviate connection at the end of a command, if built."""
    if _default is not None:
        await _default.drop_catalog_connection()
