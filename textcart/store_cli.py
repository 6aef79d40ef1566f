"""`textcart init DIR`: a new store folder; and the check every command makes of one.

`init` writes a neutral folder (`textcart.storefolder.scaffold`); `check_store_folder`
reads the selected folder's `store.yaml` and prompt overrides, so a mistake in them is
reported by file, line and field when a command starts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from textcart.prompts.loader import PROMPT_NAMES, load_prompt
from textcart.storefolder.scaffold import write_store_folder
from textcart.storefolder.settings import StoreFolderError, StoreSettings, active_store

console = Console()


def check_store_folder() -> StoreSettings:
    """Read the selected store folder's store.yaml and prompt overrides, or raise."""
    settings = active_store()
    for name in PROMPT_NAMES:
        load_prompt(name)
    return settings


def register(app: typer.Typer) -> None:
    """Add `init` to the main command line."""

    @app.command()
    def init(
        folder: Annotated[Path, typer.Argument(help="Where to write the store folder.")],
        name: Annotated[str, typer.Option(help="The store's name, as texts say it.")] = (
            "Example Store"
        ),
        currency: Annotated[str, typer.Option(help="ISO 4217 code of its prices.")] = "USD",
        timezone: Annotated[str, typer.Option(help="The store's time zone.")] = "America/New_York",
        force: Annotated[bool, typer.Option(help="Overwrite the files init writes.")] = False,
    ) -> None:
        """Write a neutral store folder (store.yaml, knowledge base, prompts/) to edit."""
        try:
            written = write_store_folder(
                folder, name=name, currency=currency, timezone=timezone, overwrite=force
            )
        except StoreFolderError as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from None
        for path in written:
            console.print(f"wrote {path}")
        console.print(
            f"Edit {folder / 'store.yaml'}, add product files to `catalog:`, then run "
            f"`textcart --store {folder} ...` (or set TEXTCART_STORE_DIR)."
        )
