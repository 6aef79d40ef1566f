"""`textcart eval intents`: accuracy, macro-F1 and confusions of an intent decider."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import typer
from rich import box
from rich.table import Table

from textcart.deciders.intent import IntentContext, llm_intent
from textcart.evaluation import cli_output
from textcart.evaluation.intents import (
    FAILED,
    IntentDataError,
    IntentScores,
    LabelledTexts,
    classic_predictions,
    fit_classifier,
    llm_predictions,
    read_labelled,
    score,
)
from textcart.progress import progress_bar
from textcart.tools.embeddings import get_embedder
from textcart.tools.llm import chat_model, llm_timeout_s, structured_method
from textcart.vocabulary.outputs import IntentResult

_console, _out, _fail = cli_output.console, cli_output.out, cli_output.fail


Predict = Callable[[LabelledTexts], tuple[list[str], list[str]]]


def _classic(fit: Path | None) -> tuple[Predict, str]:
    """The classic decider, built once for every file: (predict, description)."""
    embedder = get_embedder()
    classifier = None
    description = "classic (prompt examples)"
    if fit is not None:
        training = read_labelled(fit)
        classifier = fit_classifier(embedder, training)
        description = f"classic (logreg fit on {len(training.texts)} texts)"

    def predict(data: LabelledTexts) -> tuple[list[str], list[str]]:
        return classic_predictions(embedder, data.texts, classifier, data.contexts()), []

    return predict, description


def _llm(spec: str, timeout_s: float) -> Predict:
    model = chat_model(spec, timeout_s=timeout_s)
    method = structured_method(spec)

    async def decide(text: str, context: IntentContext) -> IntentResult:
        return await llm_intent(
            model, method=method, timeout_s=timeout_s, text=text, recent_lines=[], context=context
        )

    def predict(data: LabelledTexts) -> tuple[list[str], list[str]]:
        with progress_bar(_console) as bar:
            task = bar.add_task("asking the model", total=len(data.texts))
            return asyncio.run(
                llm_predictions(
                    decide, data.texts, lambda: bar.advance(task), contexts=data.contexts()
                )
            )

    return predict


def _heading(columns: list[str], label: str) -> str:
    """A short column heading: the label's number in the rows (or "fail")."""
    return "fail" if label == FAILED else str(columns.index(label) + 1)


def _tables(scores: IntentScores, decider: str) -> list[Table]:
    per_label = Table(
        title=f"intent: {decider} — n {scores.n}, accuracy {scores.accuracy:.3f}, "
        f"macro-F1 {scores.macro_f1:.3f}, failures {scores.failures}"
    )
    per_label.add_column("intent")
    for heading in ("precision", "recall", "F1", "support"):
        per_label.add_column(heading, justify="right")
    for label, s in sorted(scores.per_label.items(), key=lambda item: item[1].f1):
        per_label.add_row(
            label, f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.f1:.3f}", str(s.support)
        )

    extra = [
        f"{_heading(scores.confusion_columns, label)} = {label}"
        for label in scores.confusion_columns[len(scores.confusion_rows) :]
        if label != FAILED
    ]
    matrix = Table(
        title="confusions (rows: gold, columns: predicted)",
        caption=f"predicted but not in the gold labels: {', '.join(extra)}" if extra else None,
        box=box.SIMPLE_HEAD,
        padding=(0, 0, 0, 1),
    )
    # Counts must never be cut short; on a narrow terminal the gold names give way instead.
    matrix.add_column("gold", no_wrap=True, overflow="ellipsis")
    for j, column in enumerate(scores.confusion_columns):
        heading = _heading(scores.confusion_columns, column)
        widest = max(len(str(row[j])) for row in scores.confusion)
        matrix.add_column(heading, justify="right", min_width=max(widest, len(heading)))
    for i, row in enumerate(scores.confusion_rows):
        cells = []
        for j, count in enumerate(scores.confusion[i]):
            if count == 0:
                cells.append("[dim]·[/]")
            elif scores.confusion_columns[j] == row:
                cells.append(f"[green]{count}[/]")
            else:
                cells.append(f"[red]{count}[/]")
        matrix.add_row(f"{i + 1} {row}", *cells)
    return [per_label, matrix]


def intents(
    data: Annotated[
        list[Path],
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Labelled texts CSV: text,label[,after] (others ignored). Repeat the option "
            "to score several files: each file's figures, then their average.",
        ),
    ],
    decider: Annotated[
        Literal["classic", "llm"], typer.Option(help="Which intent decider to evaluate.")
    ] = "classic",
    fit: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Classic only: fit logistic regression on this text,label CSV instead of "
            "using the prompt's examples.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    model: Annotated[
        str | None,
        typer.Option(
            help="LLM only: 'provider:model' or 'local'. Default: $TEXTCART_MODEL.",
        ),
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Evaluate only the first N texts.")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            min=0.1,
            help="LLM only: seconds per text. Default: $TEXTCART_LLM_TIMEOUT_S, else 60 for "
            "'local' and 20 otherwise.",
        ),
    ] = None,
) -> None:
    """Score an intent decider on labelled texts: accuracy, macro-F1, per-intent F1, confusions.

    Macro-F1 averages over the intents present in the gold labels.
    With the LLM decider, texts whose call fails count as wrong and are listed as failures.
    """
    try:
        files = [(path, read_labelled(path).first(limit)) for path in data]
    except IntentDataError as exc:
        raise _fail(str(exc)) from exc
    if decider == "classic":
        if model is not None:
            raise _fail("--model is for --decider llm; the classic decider uses no chat model")
        try:
            predict, description = _classic(fit)
        except IntentDataError as exc:
            raise _fail(str(exc)) from exc
    else:
        if fit is not None:
            raise _fail("--fit is for --decider classic; the LLM decider is not trained")
        spec = cli_output.required_model(model)
        timeout_s = llm_timeout_s(spec, timeout)
        try:
            predict = _llm(spec, timeout_s)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
        description = f"llm ({spec})"

    scored: list[tuple[Path, IntentScores]] = []
    for path, labelled in files:
        try:
            predicted, failures = predict(labelled)
        except ValueError as exc:
            raise _fail(str(exc)) from exc
        cli_output.report_failures(failures, f"text(s) of {path}")
        scored.append((path, score(labelled.labels, predicted)))

    if len(scored) == 1:
        scores = scored[0][1]
        if as_json:
            print(json.dumps({"decider": description, **scores.summary()}))
        else:
            for table in _tables(scores, description):
                _out.print(table)
        return
    average = average_scores([s for _, s in scored])
    if as_json:
        report = {
            "decider": description,
            "files": {str(path): s.summary() for path, s in scored},
            "average": average,
        }
        print(json.dumps(report))
        return
    for path, scores in scored:
        _out.print(f"[bold]{path}[/]")
        for table in _tables(scores, description):
            _out.print(table)
    _out.print(_average_table(scored, average, description))


def average_scores(scores: list[IntentScores]) -> dict[str, float]:
    """The unweighted mean over files of accuracy and macro-F1 (each file counts once)."""
    return {
        "accuracy": round(sum(s.accuracy for s in scores) / len(scores), 4),
        "macro_f1": round(sum(s.macro_f1 for s in scores) / len(scores), 4),
        "files": len(scores),
    }


def _average_table(
    scored: list[tuple[Path, IntentScores]], average: dict[str, float], decider: str
) -> Table:
    table = Table(title=f"intent: {decider} — {len(scored)} files")
    table.add_column("file")
    for heading in ("n", "accuracy", "macro-F1"):
        table.add_column(heading, justify="right")
    for path, s in scored:
        table.add_row(str(path), str(s.n), f"{s.accuracy:.3f}", f"{s.macro_f1:.3f}")
    table.add_row(
        "average (each file counts once)",
        "",
        f"{average['accuracy']:.3f}",
        f"{average['macro_f1']:.3f}",
    )
    return table


def register(app: typer.Typer) -> None:
    """Add the `intents` command to `app` (mounted as `textcart eval intents`)."""
    app.command("intents")(intents)
