"""The start-up model check: every model the run will ask, asked once for structured output.

`serve`, `demo`, `chat` and `simulate` run it before their first turn, so a model that
cannot answer in the form its provider is asked for (a gateway that refuses the request,
a provider package missing, a model that ignores the tool it is given) is named at start,
not discovered turn by turn as decisions quietly falling back to the classic deciders.
`send` does not: it answers one text, its state says which decider answered, and a
stalled model would only hold the text back.
"""

from __future__ import annotations

import asyncio

from rich.console import Console
from rich.markup import escape

from textcart.graph.context import Context
from textcart.graph.services import Services, default_services
from textcart.tools.llm import check_structured_output

DECISIONS = ("intent", "buy_likelihood", "tone", "fit", "next_message", "wording")


async def check_models(
    context: Context, console: Console, services: Services | None = None
) -> list[str]:
    """Ask each model the context's LLM deciders use; print and return what failed."""
    specs = sorted(
        {s for d in DECISIONS if context.decider_for(d) == "llm" and (s := context.model_for(d))}
    )
    services = services or await default_services()
    problems: list[str] = []
    for spec in specs:
        try:
            model, method = await asyncio.to_thread(services.model, spec, context.llm_timeout_s)
        except Exception as exc:  # noqa: BLE001 - a model that cannot be built is reported
            problems.append(f"model {spec!r} cannot be used: {exc}")
            console.print(f"[red]model check failed:[/] {escape(problems[-1])}")
            continue
        async with services.llm_slot(spec):
            problem = await check_structured_output(model, spec, method, context.llm_timeout_s)
        if problem:
            problems.append(problem)
            console.print(f"[red]model check failed:[/] {escape(problem)}")
        else:
            console.print(f"model {spec}: structured output ({method}) answers")
    return problems
