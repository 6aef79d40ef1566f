"""`textcart eval buy-likelihood`: ROC AUC, Brier score and calibration of a decider."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.table import Table

from textcart.deciders.buy_likelihood import llm_buy_likelihood
from textcart.evaluation import cli_output
from textcart.evaluation.buy_likelihood import (
    BuyLikelihoodScores,
    LabelledSessions,
    SessionDataError,
    behaviours,
    classic_probabilities,
    cross_validated_probabilities,
    fit_model,
    llm_probabilities,
    read_sessions,
    score,
)
from textcart.progress import progress_bar
from textcart.tools.llm import chat_model, llm_timeout_s, structured_method
from textcart.tools.local_llm import LocalModelError
from textcart.vocabulary.outputs import BuyLikelihoodResult
from textcart.vocabulary.records import Behaviour

_console, _out, _fail = cli_output.console, cli_output.out, cli_output.fail


def classic_run(
    data: LabelledSessions, data_path: Path, fit: Path | None, folds: int, page_values: bool
) -> tuple[list[float], str]:
    """Probabilities from the classic decider and a description of how it was fit."""
    if fit is None:
        return classic_probabilities(data, page_values=page_values), "classic (prompt examples)"
    if fit.resolve() == data_path.resolve():
        return (
            cross_validated_probabilities(data, folds=folds, page_values=page_values),
            f"classic (logreg, {folds}-fold cross-validation on the evaluated sessions)",
        )
    training = read_sessions(fit)
    model = fit_model(training, page_values=page_values)
    return (
        classic_probabilities(data, model, page_values=page_values),
        f"classic (logreg fit on {len(training.bought)} sessions)",
    )


def llm_run(
    sessions: list[Behaviour], spec: str, timeout_s: float, console: Console
) -> tuple[list[float], list[str]]:
    """Ask the model about each session in turn, with a progress bar on `console`."""
    model = chat_model(spec, timeout_s=timeout_s)
    method = structured_method(spec)

    async def decide(behaviour: Behaviour) -> BuyLikelihoodResult:
        return await llm_buy_likelihood(
            model, method=method, timeout_s=timeout_s, behaviour=behaviour, text=None
        )

    with progress_bar(console) as bar:
        task = bar.add_task("asking the model", total=len(sessions))
        return asyncio.run(llm_probabilities(decide, sessions, lambda: bar.advance(task)))


def _tables(scores: BuyLikelihoodScores, decider: str) -> list[Table]:
    summary = Table(title=f"buy-likelihood: {decider}")
    for heading in ("sessions", "buyers", "ROC AUC", "Brier", "failures"):
        summary.add_column(heading, justify="right")
    summary.add_row(
        str(scores.n),
        f"{scores.buyers} ({scores.buyers / scores.n:.1%})",
        f"{scores.roc_auc:.3f}",
        f"{scores.brier:.4f}",
        str(scores.failures),
    )
    calibration = Table(title="calibration (predicted vs observed buying rate)")
    for heading in ("predicted", "sessions", "mean predicted", "observed"):
        calibration.add_column(heading, justify="right")
    for b in scores.calibration:
        calibration.add_row(
            f"{b.low:.1f}-{b.high:.1f}",
            str(b.n),
            f"{b.mean_predicted:.3f}" if b.mean_predicted is not None else "[dim]·[/]",
            f"{b.observed_rate:.3f}" if b.observed_rate is not None else "[dim]·[/]",
        )
    return [summary, calibration]


def buy_likelihood(
    data: Annotated[
        Path,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Sessions CSV with the UCI Online Shoppers columns; Revenue is the label.",
        ),
    ],
    decider: Annotated[
        Literal["classic", "llm"], typer.Option(help="Which buy-likelihood decider to evaluate.")
    ] = "classic",
    fit: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Classic only: fit on these labelled sessions instead of the prompt's "
            "examples. The same file as --data means cross-validation on it.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    model: Annotated[
        str | None,
        typer.Option(help="LLM only: 'provider:model' or 'local'. Default: $TEXTCART_MODEL."),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Evaluate only the first N sessions.")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="LLM only: seconds per session. Default: $TEXTCART_LLM_TIMEOUT_S, else 60 "
            "for 'local' and 20 otherwise.",
        ),
    ] = None,
    page_values: Annotated[
        bool,
        typer.Option(
            help="Read PageValues as evidence of cart adds and checkout (a proxy: the live "
            "graph has no page values); --no-page-values maps only what it observes.",
        ),
    ] = True,
    folds: Annotated[
        int, typer.Option(min=2, help="Cross-validation folds when --fit is the --data file.")
    ] = 5,
) -> None:
    """Score a buy-likelihood decider on web sessions: ROC AUC, Brier score, calibration.

    Each session is first mapped into the shopper behaviour the live graph computes
    (product views, cart adds, checkout, visits); see textcart/evaluation/buy_likelihood.py.
    With the LLM decider, sessions whose call fails are scored 0.5 and listed as failures.
    """
    try:
        sessions = read_sessions(data).first(limit)
    except SessionDataError as exc:
        raise _fail(str(exc)) from exc
    if sessions.blank_rows:
        _console.print(f"[yellow]{sessions.blank_rows} session(s) had blank counts, read as 0[/]")
    failures: list[str] = []
    try:
        if decider == "classic":
            if model is not None:
                raise _fail("--model is for --decider llm; the classic decider uses no chat model")
            probabilities, description = classic_run(sessions, data, fit, folds, page_values)
        else:
            if fit is not None:
                raise _fail("--fit is for --decider classic; the LLM decider is not trained")
            spec = cli_output.required_model(model)
            mapped = behaviours(sessions, page_values=page_values)
            try:
                probabilities, failures = llm_run(
                    mapped, spec, llm_timeout_s(spec, timeout), _console
                )
            except (ValueError, LocalModelError) as exc:
                raise _fail(str(exc)) from exc
            description = f"llm ({spec})"
        scores = score(sessions.bought, probabilities, len(failures))
    except SessionDataError as exc:
        raise _fail(str(exc)) from exc

    cli_output.report_failures(failures, "session(s)")
    if as_json:
        mapping = "page values as cart/checkout proxy" if page_values else "observed columns only"
        print(json.dumps({"decider": description, "mapping": mapping, **scores.summary()}))
    else:
        for table in _tables(scores, description):
            _out.print(table)


def register(app: typer.Typer) -> None:
    """Add the `buy-likelihood` command to `app` (mounted as `textcart eval buy-likelihood`)."""
    app.command("buy-likelihood")(buy_likelihood)
