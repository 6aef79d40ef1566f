"""Where textcart keeps things on disk: machine-level caches and per-run data."""

from __future__ import annotations

import os
from pathlib import Path


def textcart_home() -> Path:
    """`$TEXTCART_HOME`, default `~/.cache/textcart`: built binaries and models."""
    return Path(os.environ.get("TEXTCART_HOME") or Path.home() / ".cache" / "textcart")


def data_dir() -> Path:
    """`$TEXTCART_DATA_DIR`, default `./var`: threads, shopper stores and server data."""
    return Path(os.environ.get("TEXTCART_DATA_DIR") or Path.cwd() / "var")


def store_dir() -> Path:
    """The store folder: `$TEXTCART_STORE_DIR`, default the packaged demo store.

    A store folder holds `store.yaml`, the knowledge base and optional prompt overrides
    (see `textcart.storefolder`); `textcart init DIR` writes a new one.
    """
    configured = os.environ.get("TEXTCART_STORE_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parent / "demo_store"
