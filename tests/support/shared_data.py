"""The public evaluation data beside the project (`../shared/data`), never committed.

A test that reads it skips with the path when it is missing on a developer's machine; in CI
(`CI` set) the data is always beside the clone, so a missing file fails the test instead of
hiding behind a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def require_shared(path: Path) -> Path:
    """`path` if it exists; else skip (on a laptop) or fail (in CI), naming the file."""
    if path.is_file():
        return path
    message = f"{path} not present (public evaluation data lives in ../shared, outside the repo)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
