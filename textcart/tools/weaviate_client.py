"""Connections to Weaviate: the embedded server this machine runs, or any other one.

`WEAVIATE_URL` (plus `WEAVIATE_API_KEY`, `WEAVIATE_GRPC_URL`) points textcart at a cluster
or Weaviate Cloud; without it, the embedded server of `weaviate_server` is started (or
found) for the data directory and connected to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import weaviate
from weaviate.classes.init import AdditionalConfig, Auth

from textcart import paths, settings
from textcart.tools.weaviate_server import CLIENT_TIMEOUT, ensure_embedded


def embedded_data_dir() -> Path:
    """Where the embedded server keeps its data: `$TEXTCART_DATA_DIR/weaviate` (`./var`)."""
    return paths.data_dir() / "weaviate"


@dataclass(frozen=True)
class _Remote:
    """Connection settings for a Weaviate given by WEAVIATE_URL."""

    http_host: str
    http_port: int
    http_secure: bool
    grpc_host: str
    grpc_port: int
    grpc_secure: bool
    api_key: str | None
    cloud: bool

    @classmethod
    def from_env(cls) -> _Remote | None:
        configured = settings.current()
        raw = configured.weaviate_url
        if not raw:
            return None
        url = urlparse(raw if "://" in raw else f"https://{raw}")
        if not url.hostname:
            raise ValueError(f"WEAVIATE_URL={raw!r} has no host")
        secure = url.scheme == "https"
        grpc_raw = configured.weaviate_grpc_url
        if grpc_raw:
            grpc = urlparse(grpc_raw if "://" in grpc_raw else f"//{grpc_raw}")
            grpc_secure = grpc.scheme in ("https", "grpcs") or (not grpc.scheme and secure)
            grpc_host = grpc.hostname or url.hostname
            grpc_port = grpc.port or (443 if grpc_secure else 50051)
        else:
            # Weaviate's conventions: 50051 beside a plain-HTTP server, 443 behind TLS.
            grpc_secure, grpc_host = secure, url.hostname
            grpc_port = 443 if secure else 50051
        host = url.hostname
        return cls(
            http_host=host,
            http_port=url.port or (443 if secure else 8080),
            http_secure=secure,
            grpc_host=grpc_host,
            grpc_port=grpc_port,
            grpc_secure=grpc_secure,
            api_key=configured.weaviate_api_key or None,
            cloud=not grpc_raw
            and secure
            and host.endswith((".weaviate.cloud", ".weaviate.network", ".wcs.api.weaviate.io")),
        )

    @property
    def auth(self) -> Any:
        return Auth.api_key(self.api_key) if self.api_key else None


def _config() -> AdditionalConfig:
    return AdditionalConfig(timeout=CLIENT_TIMEOUT)


def _connection() -> tuple[str, dict[str, Any]]:
    """Which of Weaviate's connection helpers to use (local, cloud, custom), with what.

    The embedded server is started (or found) here, so this blocks while it starts.
    """
    remote = _Remote.from_env()
    common: dict[str, Any] = {"additional_config": _config(), "skip_init_checks": False}
    if remote is None:
        http_port, grpc_port = ensure_embedded(embedded_data_dir())
        return "local", {"host": "127.0.0.1", "port": http_port, "grpc_port": grpc_port, **common}
    if remote.cloud:
        return "cloud", {
            "cluster_url": f"https://{remote.http_host}",
            "auth_credentials": remote.auth,
            **common,
        }
    return "custom", {
        "http_host": remote.http_host,
        "http_port": remote.http_port,
        "http_secure": remote.http_secure,
        "grpc_host": remote.grpc_host,
        "grpc_port": remote.grpc_port,
        "grpc_secure": remote.grpc_secure,
        "auth_credentials": remote.auth,
        **common,
    }


_CONNECT: dict[str, Callable[..., weaviate.WeaviateClient]] = {
    "local": weaviate.connect_to_local,
    "cloud": weaviate.connect_to_weaviate_cloud,
    "custom": weaviate.connect_to_custom,
}
_CONNECT_ASYNC: dict[str, Callable[..., weaviate.WeaviateAsyncClient]] = {
    "local": weaviate.use_async_with_local,
    "cloud": weaviate.use_async_with_weaviate_cloud,
    "custom": weaviate.use_async_with_custom,
}


async def connect_async() -> weaviate.WeaviateAsyncClient:
    """Connect (async) to WEAVIATE_URL when set, else to the shared embedded server."""
    kind, arguments = await asyncio.to_thread(_connection)
    client = _CONNECT_ASYNC[kind](**arguments)
    await client.connect()
    return client


def connect() -> weaviate.WeaviateClient:
    """Connect to WEAVIATE_URL when set, else to the shared embedded server."""
    kind, arguments = _connection()
    return _CONNECT[kind](**arguments)


__all__ = ["connect", "connect_async", "embedded_data_dir"]
