"""What every `textcart eval` command shares: where output goes, errors, model budgets.

Progress, notes and errors go to stderr so that `--json` leaves exactly one JSON object
on stdout.
"""

from __future__ import annotations

from collections.abc import Sequence

import typer
from rich.console import Console
from rich.markup import escape

from textcart import settings

console = Console(stderr=True)
out = Console()


def fail(message: str) -> typer.Exit:
    """Print an error and return the exit to raise (code 2)."""
    console.print(f"[red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
    return typer.Exit(2)


def with_interval(value: float, ci: Sequence[float] | None, spec: str, unit: str = "") -> str:
    """`value` in the format `spec`, then its interval as `[low, high]` (none: value alone)."""
    shown = f"{value:{spec}}{unit}"
    return shown if ci is None else f"{shown} [{ci[0]:{spec}}, {ci[1]:{spec}}]"


def required_model(model: str | None) -> str:
    """The chat model `--decider llm` runs on: the option, else $TEXTCART_MODEL, else exit 2."""
    spec = (model or settings.current().model).strip()
    if not spec:
        raise fail(
            "--decider llm needs a chat model: pass --model 'provider:model' (or 'local') "
            "or set TEXTCART_MODEL"
        )
    return spec


def report_failures(failures: list[str], what: str) -> None:
    """List (the first ten) items the model gave no answer for."""
    if not failures:
        return
    console.print(f"[yellow]{len(failures)} {what} got no answer from the model:[/]")
    for line in failures[:10]:
        console.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
    if len(failures) > 10:
        console.print(f"  … and {len(failures) - 10} more")
