"""`textcart handoff list|reply|release`: a person answers the shoppers handed to them.

A hand-off that reached a person (the store's channel was told, or hand-off review is on)
holds the shopper's thread: the agent stays silent to them, compliance keywords aside,
until it is released here or the hold runs out. `list` shows the open holds with the
shopper's last texts; `reply` sends a person's text through the store's number (Twilio,
or the outbox file) and logs it; `release` hands the thread back to the agent. A shopper
is named by phone number or by the shopper id the channel's notice gives.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from textcart.agent import Agent
from textcart.paths import data_dir
from textcart.tools.handoffs import HandoffDesk, PersonReplyRefused, send_person_reply
from textcart.tools.shopper_store import normalize_phone, now_utc, shopper_id_for_phone
from textcart.tools.sms import sender_from_env

console = Console()
DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Default: $TEXTCART_DATA_DIR or ./var."),
]
Shopper = Annotated[str, typer.Argument(help="The shopper's phone number or shopper id (s_...).")]


def _shopper_id(raw: str) -> str:
    if raw.startswith("s_"):
        return raw
    try:
        return shopper_id_for_phone(normalize_phone(raw))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def register(app: typer.Typer) -> None:
    """Add the `handoff` commands to the main command line."""
    handoff_app = typer.Typer(
        help="Answer shoppers handed to a person, and hand them back.", no_args_is_help=True
    )
    app.add_typer(handoff_app, name="handoff")

    @handoff_app.command("list")
    def handoff_list(
        data: DataDir = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Show every thread a person holds, with the shopper's last texts."""

        async def main() -> list[dict[str, Any]]:
            async with Agent.open(data or data_dir()) as agent:
                return await HandoffDesk(agent.store).open_holds()

        holds = asyncio.run(main())
        if as_json:
            print(json.dumps(holds))
            return
        if not holds:
            console.print("no thread is held by a person")
        for hold in holds:
            console.print(
                f"[bold]{hold['shopper_id']}[/] {hold['phone']}  since {hold['since']}, "
                f"until {hold['until']}  ({hold['reason']})"
            )
            for text in hold["last_texts"]:
                console.print(f"  shopper> {text}")
            for reply in hold.get("replies", []):
                console.print(f"  {reply['by']}> {reply['text']}")

    @handoff_app.command("reply")
    def handoff_reply(
        shopper: Shopper,
        text: Annotated[str, typer.Argument(help="What to text the shopper.")],
        by: Annotated[str, typer.Option(help="Who is answering (kept in the log).")] = ("staff"),
        data: DataDir = None,
    ) -> None:
        """Text the shopper as a person, through the store's number; logged."""
        shopper_id = _shopper_id(shopper)

        async def main() -> dict[str, Any]:
            directory = data or data_dir()
            sender = sender_from_env(directory / "outbox.jsonl")
            async with Agent.open(directory) as agent:
                return await send_person_reply(
                    agent.store, sender, shopper_id, text, by=by, at=now_utc()
                )

        try:
            entry = asyncio.run(main())
        except PersonReplyRefused as exc:
            console.print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from None
        delivery = entry["delivery"]
        if delivery["status"] != "sent":
            console.print(f"[red]not sent:[/] {delivery.get('error')}")
            raise typer.Exit(1)
        console.print(f"sent through {delivery['channel']} and logged as {entry['message_id']}")

    @handoff_app.command("release")
    def handoff_release(shopper: Shopper, data: DataDir = None) -> None:
        """Hand the thread back to the agent."""
        shopper_id = _shopper_id(shopper)

        async def main() -> bool:
            async with Agent.open(data or data_dir()) as agent:
                return await HandoffDesk(agent.store).release(shopper_id)

        released = asyncio.run(main())
        console.print("released: the agent answers again" if released else "no hold to release")
