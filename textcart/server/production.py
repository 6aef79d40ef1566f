"""The `http.app` of the production server (Aegra): the same routes, the project's store.

Aegra (`aegra-api`) mounts a custom app only if it is a FastAPI application, so this
wraps the routes and lifespan of `textcart.server.app` (SMS webhook, events, health) in
one. It also answers the LangGraph store API (`/store/...`) itself, from the project's
store: Aegra's own store routes put every namespace under the calling user
(`["users", <identity>, ...]`), while the graph, the webhook and every operator share one
store per shop (`["shoppers", <id>, ...]`, `["sms_inbox"]`). Routes of the custom app come
before Aegra's, so these are the ones that answer. Threads, runs, streaming, state and
history stay Aegra's.

The store routes need an operator key, as in `langgraph dev` (`textcart.server.auth`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from langgraph.store.base import BaseStore, Item

from textcart.persistence import database_url
from textcart.server.app import app as routes
from textcart.server.app import lifespan
from textcart.server.security import api_keys, insecure_dev, valid_api_key
from textcart.server.thread_turns import ThreadTurns


def _check_key(request: Request) -> None:
    if insecure_dev():
        return
    if not valid_api_key(request.headers.get("x-api-key"), api_keys()):
        raise HTTPException(401, "a valid X-Api-Key is required (TEXTCART_API_KEYS)")


def _kv(request: Request) -> BaseStore:
    _check_key(request)
    return request.app.state.shoppers.store  # type: ignore[no-any-return]


def _namespace(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = value.split(".") if value else []
    if not isinstance(value, list) or not all(isinstance(part, str) and part for part in value):
        raise HTTPException(422, "namespace must be a list of non-empty strings")
    return tuple(value)


def _when(value: datetime) -> str:
    return value.isoformat()


def _item(item: Item) -> dict[str, Any]:
    return {
        "namespace": list(item.namespace),
        "key": item.key,
        "value": item.value,
        "created_at": _when(item.created_at),
        "updated_at": _when(item.updated_at),
    }


async def put_item(request: Request) -> dict[str, Any]:
    """Store one item (`client.store.put_item`)."""
    kv = _kv(request)
    body = await request.json()
    if not isinstance(body.get("key"), str) or not isinstance(body.get("value"), dict):
        raise HTTPException(422, "key must be a string and value an object")
    await kv.aput(_namespace(body.get("namespace")), body["key"], body["value"])
    return {}


async def get_item(request: Request) -> dict[str, Any]:
    """Read one item (`client.store.get_item`); 404 when it is not there."""
    kv = _kv(request)
    params = request.query_params
    namespace = params.getlist("namespace")
    found = await kv.aget(
        _namespace(namespace if len(namespace) > 1 else (namespace or [""])[0]),
        params.get("key", ""),
    )
    if found is None:
        raise HTTPException(404, "no item at that namespace and key")
    return _item(found)


async def delete_item(request: Request) -> dict[str, Any]:
    """Delete one item (`client.store.delete_item`)."""
    kv = _kv(request)
    body = await request.json()
    await kv.adelete(_namespace(body.get("namespace")), str(body.get("key", "")))
    return {}


async def search_items(request: Request) -> dict[str, Any]:
    """Items under a namespace prefix (`client.store.search_items`)."""
    kv = _kv(request)
    body = await request.json()
    found = await kv.asearch(
        _namespace(body.get("namespace_prefix") or []),
        filter=body.get("filter"),
        limit=int(body.get("limit") or 10),
        offset=int(body.get("offset") or 0),
        query=body.get("query"),
    )
    return {"items": [_item(item) for item in found]}


async def list_namespaces(request: Request) -> dict[str, Any]:
    """Namespaces in the store (`client.store.list_namespaces`)."""
    kv = _kv(request)
    body = await request.json()
    found = await kv.alist_namespaces(
        prefix=_namespace(body["prefix"]) if body.get("prefix") else None,
        suffix=_namespace(body["suffix"]) if body.get("suffix") else None,
        max_depth=body.get("max_depth"),
        limit=int(body.get("limit") or 100),
        offset=int(body.get("offset") or 0),
    )
    return {"namespaces": [list(namespace) for namespace in found]}


@asynccontextmanager
async def production_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The routes' lifespan, with turns on one thread taken one at a time across instances."""
    url = database_url()
    if url is None:
        raise RuntimeError("the production server needs TEXTCART_DATABASE_URL (PostgreSQL)")
    async with lifespan(app):
        turns = ThreadTurns(url)
        app.state.inbox.runner.thread_turns = turns  # the scheduler shares this runner
        try:
            yield
        finally:
            await turns.close()


app = FastAPI(title="textcart", lifespan=production_lifespan, routes=list(routes.routes))


async def ok() -> dict[str, bool]:
    """Ready: the same probe as `langgraph dev`'s, answered once every lifespan has run."""
    return {"ok": True}


app.add_api_route("/ok", ok, methods=["GET"])
app.add_api_route("/store/items", put_item, methods=["PUT"])
app.add_api_route("/store/items", get_item, methods=["GET"])
app.add_api_route("/store/items", delete_item, methods=["DELETE"])
app.add_api_route("/store/items/search", search_items, methods=["POST"])
app.add_api_route("/store/namespaces", list_namespaces, methods=["POST"])
