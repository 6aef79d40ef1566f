"""The process's settings: one typed place reads the environment, and the CLI never writes it."""

from __future__ import annotations

import os
import re
from dataclasses import fields
from pathlib import Path

import pytest

from textcart import paths, settings
from textcart.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[2]
# Reading (or writing) a variable; building a child process's environment is allowed.
_READS = re.compile(r"os\.environ\.get\(|os\.getenv\(|os\.environ\[|os\.putenv\(")


def test_only_the_settings_module_reads_the_environment() -> None:
    readers = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "textcart").rglob("*.py")
        if path.name != "settings.py" and _READS.search(path.read_text())
    ]
    assert readers == []


def test_every_variable_the_readme_documents_is_read_through_one_place() -> None:
    documented = set(
        re.findall(
            r"`((?:TEXTCART|WEAVIATE|TWILIO|SHOPIFY|OPENAI)_[A-Z0-9_]+)",
            (ROOT / "README.md").read_text(),
        )
    )
    in_settings = {spec.metadata["env"] for spec in fields(Settings)}
    # The per-run settings (Studio's) read their variables through `settings.environment`.
    in_context = set(
        re.findall(
            r'"(TEXTCART_[A-Z0-9_]+)"', (ROOT / "textcart" / "graph" / "context.py").read_text()
        )
    )
    in_context |= {
        f"TEXTCART_{d.upper()}_{kind}"
        for d in ("intent", "buy_likelihood", "tone", "fit", "next_message", "wording")
        for kind in ("MODEL", "DECIDER")
    }
    for_the_tests = {"TEXTCART_E2E_MODE"}  # read by tests/e2e, not by textcart
    assert documented - in_settings - in_context - for_the_tests == set()


def test_an_empty_variable_keeps_the_default_and_a_bad_one_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEXTCART_SCHEDULER_INTERVAL_S", "  ")
    monkeypatch.setenv("TEXTCART_INSECURE_DEV", "yes")
    monkeypatch.setenv("TEXTCART_SEND_ATTEMPTS", "3")
    current = settings.current()
    assert current.scheduler_interval_s == 5.0
    assert current.insecure_dev is True and current.send_attempts == 3
    monkeypatch.setenv("TEXTCART_LINK_TTL_DAYS", "a month")
    with pytest.raises(SettingsError, match="TEXTCART_LINK_TTL_DAYS='a month' is not a float"):
        settings.current()


def test_the_command_line_configures_without_writing_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(settings, "_overrides", {})
    monkeypatch.setenv("TEXTCART_DATA_DIR", str(tmp_path / "from-env"))
    settings.configure(data_dir=tmp_path / "from-flag")
    assert paths.data_dir() == tmp_path / "from-flag"
    assert settings.environment("TEXTCART_DATA_DIR") == str(tmp_path / "from-flag")
    # A server this process starts is told, in its own environment.
    assert settings.child_environment() == {"TEXTCART_DATA_DIR": str(tmp_path / "from-flag")}
    assert os.environ["TEXTCART_DATA_DIR"] == str(tmp_path / "from-env")
    with pytest.raises(TypeError):
        settings.configure(no_such_setting=1)


def test_zero_is_a_value_not_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    from textcart.tools.sms import _send_settings

    monkeypatch.setenv("TEXTCART_SEND_BACKOFF_S", "0")
    monkeypatch.setenv("TEXTCART_SEND_ATTEMPTS", "0")
    assert _send_settings() == (1, 0.0)  # at least one try, no wait between tries
