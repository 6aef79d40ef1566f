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
