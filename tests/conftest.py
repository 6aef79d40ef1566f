"""What every test shares.

- Nobody is held out of proactive texts unless a test says so. The holdout
  (`TEXTCART_HOLDOUT_SHARE`, 0.1 in production) would otherwise keep a tenth of the tests'
  shoppers from their nudges. Tests of the holdout set it themselves; the e2e servers
  inherit this environment.
- A command run in the test process (`CliRunner`) configures settings "for the rest of the
  process" (`settings.configure`, e.g. its `--data-dir`); each test's are undone after it.
  Kept, a later test's reconnect would start an empty Weaviate in an earlier test's folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from textcart import settings

os.environ["TEXTCART_HOLDOUT_SHARE"] = "0"


@pytest.fixture(autouse=True)
def _settings_configured_by_the_test_are_undone(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(settings, "_overrides", dict(settings._overrides))
    yield
