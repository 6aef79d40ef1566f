"""Run scripted conversations in parallel through the real graph and report per turn.

Every script gets its own conversation store (a folder under the run's work directory), so
scripts that share a demo shopper run side by side without seeing each other's turns, and
a script always starts from the same state.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from textcart.agent import Agent
from textcart.conversations import TurnRecord, conversation_clock, play, prepare_shopper
from textcart.demo_store.loader import Conversation
from textcart.graph.context import Context
from textcart.graph.services import Services, default_services
from textcart.simulation.phones import simulated_phones
from textcart.tools.llm import llm_timeout_s


def simulation_context(model: str | None = None) -> Context:
    """Settings for simulations: classic deciders unless a model is named, no quiet hours.

    Quiet hours are off so a proactive turn behaves the same at any time of day; a script
    that is about quiet hours sets them itself. The model gets the time budget of its kind
    (the local model's own, as `demo` and `chat` give it), not the default for remote ones.
    """
    return replace(
        Context(),
        model=model,
        llm_timeout_s=llm_timeout_s(model),
        quiet_hours_start=0,
        quiet_hours_end=0,
        holdout_share=0.0,
    )


def script_context(base: Context, conversation: Conversation) -> Context:
    """The base settings with the script's own changes applied."""
    changes = conversation.settings.model_dump(exclude_none=True)
    return replace(base, **changes) if changes else base


@dataclass
class ScriptResult:
    """One script's turns, or the error that stopped it."""

    name: str
    description: str
    turns: list[TurnRecord] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        """True when the script ran to the end and every expectation held."""
        return self.error is None and not any(t.failed_expectations for t in self.turns)

    def as_json(self) -> dict[str, Any]:
        """A JSON-friendly form for `--json`."""
        return {
            "name": self.name,
            "passed": self.passed,
            "error": self.error,
            "turns": [
                {
                    **{k: v for k, v in asdict(t).items() if k != "failed_expectations"},
                    "passed": not t.failed_expectations,
                    "failures": t.failed_expectations,
                }
                for t in self.turns
            ],
        }


@dataclass(frozen=True)
class SuiteSummary:
    """Counts over a whole run."""

    scripts: int
    scripts_passed: int
    turns: int
    turns_passed: int
    checks: int
    failures: int

    @property
    def passed(self) -> bool:
        """True when every script passed."""
        return self.scripts == self.scripts_passed


def summarise(results: list[ScriptResult]) -> SuiteSummary:
    """Count scripts, turns and expectation checks, passed and failed."""
    turns = [t for r in results for t in r.turns]
    return SuiteSummary(
        scripts=len(results),
        scripts_passed=sum(r.passed for r in results),
        turns=len(turns),
        turns_passed=sum(not t.failed_expectations for t in turns),
        checks=sum(t.checked for t in turns),
        failures=sum(len(t.failed_expectations) for t in turns)
        + sum(r.error is not None for r in results),
    )


async def run_script(
    conversation: Conversation,
    context: Context,
    workdir: Path,
    on_turn: Callable[[TurnRecord], None] | None = None,
    services: Services | None = None,
) -> ScriptResult:
    """Play one script on a fresh store in `workdir / <name>`; errors are reported, not raised."""
    result = ScriptResult(conversation.name, conversation.description)
    try:
        async with Agent.open(
            workdir / conversation.name, script_context(context, conversation), services=services
        ) as agent:
            clock = conversation_clock(conversation)
            phone = await prepare_shopper(agent, conversation, seed_demo=True, clock=clock)

            def collect(record: TurnRecord) -> None:
                result.turns.append(record)
                if on_turn is not None:
                    on_turn(record)

            await play(agent, conversation, phone, collect, clock)
    except Exception as exc:  # noqa: BLE001 - one broken script must not stop the others
        result.error = f"{type(exc).__name__}: {exc}"
        result.error += "\n" + "".join(traceback.format_exception(exc)[-3:])
    return result


async def run_scripts(
    conversations: list[Conversation],
    context: Context,
    workdir: Path,
    *,
    concurrency: int = 4,
    on_turn: Callable[[TurnRecord], None] | None = None,
    services: Services | None = None,
) -> list[ScriptResult]:
    """Run scripts at most `concurrency` at a time; results come back in script order.

    Their texts go to simulated phones; `services` default to the process's.
    """
    services = services or await default_services()
    slots = asyncio.Semaphore(max(1, concurrency))

    async def bounded(conversation: Conversation) -> ScriptResult:
        async with slots:
            return await run_script(conversation, context, workdir, on_turn, services)

    async with simulated_phones(services):
        return list(await asyncio.gather(*(bounded(c) for c in conversations)))
