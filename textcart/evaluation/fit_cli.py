"""`textcart fit intent|buy-likelihood`: fit a classic decider on real data for the live graph.

The file is what the graph's classic decider loads from then on (restart a running server);
`textcart eval ... --fit` scores the same fit without writing anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from textcart.deciders.intent import prompt_examples
from textcart.deciders.model_files import Decision, model_path, save_model
from textcart.evaluation import cli_output
from textcart.evaluation.buy_likelihood import SessionDataError, fit_model, read_sessions
from textcart.evaluation.intents import (
    IntentDataError,
    LabelledTexts,
    fit_classifier,
    read_labelled,
)
from textcart.tools.embeddings import get_embedder

_out, _fail = cli_output.out, cli_output.fail

OutOption = Annotated[
    Path | None,
    typer.Option(
        dir_okay=False,
        help="Where to write the model (default: where the graph loads it, in the data dir).",
    ),
]


def _written(decision: Decision, out: Path, fit_on: str) -> None:
    _out.print(
        f"fit the {decision} decider on {fit_on}; wrote {out} "
        "(the classic decider uses it from the next start)"
    )


def intent(
    data: Annotated[
        Path,
        typer.Option(exists=True, dir_okay=False, help="Labelled texts CSV: text,label."),
    ],
    examples: Annotated[
        bool,
        typer.Option(
            help="Also train on the prompt's examples, so intents the data lacks stay known."
        ),
    ] = True,
    out: OutOption = None,
) -> None:
    """Fit the intent decider (logistic regression on MiniLM embeddings) on labelled texts.

    Customer-service logs rarely hold every intent an SMS shopper has (product questions,
    opt-outs...): by default the prompt's examples join the data, and the intents only they
    cover are named.
    """
    try:
        training = read_labelled(data)
    except IntentDataError as exc:
        raise _fail(str(exc)) from exc
    fit_on = f"{len(training.texts)} rows of {data}"
    if examples:
        texts, labels = prompt_examples()
        only_examples = sorted(set(labels) - set(training.labels))
        training = LabelledTexts(training.texts + texts, training.labels + labels)
        fit_on += f" and the prompt's {len(texts)} examples"
        if only_examples:
            _out.print(f"only the prompt's examples cover: {', '.join(only_examples)}")
    classifier = fit_classifier(get_embedder(), training)
    path = out or model_path("intent")
    save_model(path, "intent", classifier, data.name, len(training.texts))
    _written("intent", path, fit_on)


def buy_likelihood(
    data: Annotated[
        Path,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="Sessions CSV with the UCI Online Shoppers columns; Revenue is the label.",
        ),
    ],
    page_values: Annotated[
        bool, typer.Option(help="Read PageValues as cart and checkout activity.")
    ] = True,
    out: OutOption = None,
) -> None:
    """Fit the buy-likelihood decider (logistic regression on behaviour) on labelled sessions."""
    try:
        training = read_sessions(data)
    except SessionDataError as exc:
        raise _fail(str(exc)) from exc
    pipeline = fit_model(training, page_values=page_values)
    path = out or model_path("buy_likelihood")
    save_model(path, "buy_likelihood", pipeline, data.name, len(training.bought))
    _written("buy_likelihood", path, f"{len(training.bought)} sessions of {data}")


def register(app: typer.Typer) -> None:
    """Add `textcart fit intent` and `textcart fit buy-likelihood`."""
    fit_app = typer.Typer(
        help="Fit a classic decider on real data; the live graph uses it instead of the "
        "prompt's examples.",
        no_args_is_help=True,
    )
    fit_app.command("intent")(intent)
    fit_app.command("buy-likelihood")(buy_likelihood)
    app.add_typer(fit_app, name="fit")
