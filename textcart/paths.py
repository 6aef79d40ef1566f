"""Where textcart keeps things on disk: machine-level caches and per-run data."""

from __future__ import annotations

from pathlib import Path

from textcart import settings


def textcart_home() -> Path:
    """`$TEXTCART_HOME`, default `~/.cache/textcart`: built binaries and models."""
    return settings.current().home or Path.home() / ".cache" / "textcart"


def data_dir() -> Path:
    """`$TEXTCART_DATA_DIR`, default `./var`: threads, shopper stores and server data."""
    return settings.current().data_dir or Path.cwd() / "var"


def store_dir() -> Path:
    """The store folder: `$TEXTCART_STORE_DIR`, default the packaged demo store.

    A store folder holds `store.yaml`, the knowledge base and optional prompt overrides
    (see `textcart.storefolder`); `textcart init DIR` writes a new one.
    """
    return settings.current().store_dir or Path(__file__).resolve().parent / "demo_store"
