"""`textcart report`: how far each LLM stand-in is from the trained model, in one folder.

The report (`report.md` plus PNG plots) measures every decision that has labelled data,
on data the trained model never saw:

- intent: the intents file is split in two halves, each label evenly (seeded); the
  classic decider is scored on the held-out half from its prompt examples alone and fit
  on the other half, and the LLM on the first `--limit` held-out texts.
- buy-likelihood: the classic decider from its prompt examples, and fit with 5-fold
  cross-validation (each session scored by a model fit on the other folds), on every
  session; the LLM on the first `--limit` sessions.
- next message: the policies' outcomes on one seeded simulated population, read from
  `--policy-results` (what `textcart simulate --json` prints).
- outcomes: what `textcart attribution` prints, from the real message log in the data
  dir (or `TEXTCART_DATABASE_URL`), when there is one; and, from the same log, a new
  next-message policy against the one in place in offline replay (inverse propensity and
  doubly robust, from the logged decision probabilities), as the server's refit compares.

Where the LLM ran, the trained model is also scored on exactly its texts or sessions, so
the gap the report states compares like with like. Tone, fit and wording have no
labelled data yet, and the report says so rather than guess.
"""

from __future__ import annotations

import asyncio
import random
import shlex
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from textcart import settings
from textcart.deciders.buy_likelihood import llm_buy_likelihood
from textcart.deciders.intent import IntentContext, llm_intent
from textcart.deciders.next_message_policy import policy_path
from textcart.evaluation.attribution_cli import read_attribution, summary_lines
from textcart.evaluation.buy_likelihood import (
    behaviours,
    classic_probabilities,
    cross_validated_probabilities,
    llm_probabilities,
    read_sessions,
)
from textcart.evaluation.buy_likelihood import score as score_sessions
from textcart.evaluation.intents import (
    IntentScores,
    LabelledTexts,
    classic_predictions,
    fit_classifier,
    llm_predictions,
    read_labelled,
)
from textcart.evaluation.intents import score as score_intents
from textcart.evaluation.plots import (
    ScoredSessions,
    calibration_png,
    confusion_png,
    roc_png,
)
from textcart.evaluation.report_policy import log_replay_lines, policy_section, read_log_replay
from textcart.evaluation.report_sections import Gap, ModelChoice, Section
from textcart.paths import data_dir
from textcart.progress import progress_bar
from textcart.tools.embeddings import get_embedder
from textcart.tools.llm import chat_model, llm_timeout_s, structured_method
from textcart.tools.local_llm import LocalModelError
from textcart.vocabulary.outputs import BuyLikelihoodResult, IntentResult
from textcart.vocabulary.records import Behaviour

DEFAULT_INTENTS = Path("../shared/data/intents/dev.csv")
DEFAULT_SESSIONS = Path("../shared/data/sessions/online_shoppers_train.csv")
DEFAULT_LIMIT = 50
FOLDS = 5
SPLIT_SEED = 0
_console = Console(stderr=True)


# --- Intent -----------------------------------------------------------------------------


def intent_halves(
    data: LabelledTexts, seed: int = SPLIT_SEED
) -> tuple[LabelledTexts, LabelledTexts]:
    """(fit half, held-out half): every label split evenly at random, file order kept."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(data.labels):
        by_label[label].append(i)
    rng = random.Random(seed)
    held_out: set[int] = set()
    for label in sorted(by_label):
        members = by_label[label][:]
        rng.shuffle(members)
        held_out.update(members[: len(members) // 2])

    def pick(indices: Sequence[int]) -> LabelledTexts:
        return LabelledTexts([data.texts[i] for i in indices], [data.labels[i] for i in indices])

    return (
        pick([i for i in range(len(data.texts)) if i not in held_out]),
        pick(sorted(held_out)),
    )


def _intent_llm(held_out: LabelledTexts, llm: ModelChoice) -> tuple[list[str], list[str]]:
    async def decide(text: str, context: IntentContext) -> IntentResult:
        return await llm_intent(
            llm.chat,
            method=llm.method,
            timeout_s=llm.timeout_s,
            text=text,
            recent_lines=[],
            context=context,
        )

    with progress_bar(_console) as bar:
        task = bar.add_task(f"intent: asking {llm.spec}", total=len(held_out.texts))
        return asyncio.run(llm_predictions(decide, held_out.texts, lambda: bar.advance(task)))


def _intent_row(name: str, scores: IntentScores, plot: str) -> str:
    return (
        f"| {name} | {scores.n} | {scores.accuracy:.3f} | {scores.macro_f1:.3f} | "
        f"{scores.failures} | [plot]({plot}) |"
    )


def intent_section(path: Path, out: Path, llm: ModelChoice | None, limit: int) -> Section:
    """Confusions and F1 of the intent deciders on the held-out half of `path`."""
    fit_half, held_out = intent_halves(read_labelled(path))
    embedder = get_embedder()
    _console.print("intent: classic deciders (embedding the texts)")
    prompt_only = classic_predictions(embedder, held_out.texts)
    classifier = fit_classifier(embedder, fit_half)
    fitted = classic_predictions(embedder, held_out.texts, classifier)
    runs = [
        ("classic, prompt examples only", "intent_classic_prompt.png", held_out, prompt_only),
        (
            f"classic, fit on the other half ({len(fit_half.texts)} texts)",
            "intent_classic_fit.png",
            held_out,
            fitted,
        ),
    ]
    subset = held_out.first(limit)
    if llm is not None:
        predicted, _ = _intent_llm(subset, llm)
        runs.append((f"LLM {llm.spec}", "intent_llm.png", subset, predicted))
    lines = [
        "## Intent",
        "",
        f"Held-out half of `{path}`: {len(held_out.texts)} texts, "
        f"{len(set(held_out.labels))} intents (each intent split evenly, seed {SPLIT_SEED}; "
        "the other half is the training data). Macro-F1 averages over the intents present.",
        "",
        "| decider | texts | accuracy | macro-F1 | failures | confusions |",
        "|---|---|---|---|---|---|",
    ]
    scored = {}
    for name, plot, data, predicted in runs:
        scores = score_intents(data.labels, predicted)
        scored[plot] = scores
        confusion_png(
            out / plot,
            f"intent: {name}\nmacro-F1 {scores.macro_f1:.3f}, n {scores.n}",
            scores.confusion_rows,
            scores.confusion_columns,
            scores.confusion,
        )
        lines.append(_intent_row(name, scores, plot))
    lines.append("")
    lines += [f"![{name}]({plot})" for name, plot, _, _ in runs]
    lines.append("")
    if llm is None:
        return Section(lines, Gap("intent", "macro-F1", "", "not run", "", ""))
    trained = score_intents(subset.labels, fitted[: len(subset.texts)])
    model = scored["intent_llm.png"]
    lines.append(
        f"On the same {model.n} texts, the fit classic decider scores macro-F1 "
        f"{trained.macro_f1:.3f} (accuracy {trained.accuracy:.3f}); the LLM stand-in "
        f"{model.macro_f1:.3f} ({model.accuracy:.3f}), {model.failures} without an answer. "
        f"With {model.n} texts over {len(set(subset.labels))} intents, each per-intent F1 "
        "rests on a handful of texts: read the gap, not the third decimal."
    )
    lines.append("")
    gap = Gap(
        "intent",
        "macro-F1",
        f"{trained.macro_f1:.3f}",
        f"{model.macro_f1:.3f}",
        f"{model.macro_f1 - trained.macro_f1:+.3f}",
        f"first {model.n} held-out texts",
    )
    return Section(lines, gap)


# --- Buy-likelihood ---------------------------------------------------------------------


def _sessions_llm(sessions: list[Behaviour], llm: ModelChoice) -> tuple[list[float], list[str]]:
    async def decide(behaviour: Behaviour) -> BuyLikelihoodResult:
        return await llm_buy_likelihood(
            llm.chat, method=llm.method, timeout_s=llm.timeout_s, behaviour=behaviour, text=None
        )

    with progress_bar(_console) as bar:
        task = bar.add_task(f"buy-likelihood: asking {llm.spec}", total=len(sessions))
        return asyncio.run(llm_probabilities(decide, sessions, lambda: bar.advance(task)))


def buy_likelihood_section(path: Path, out: Path, llm: ModelChoice | None, limit: int) -> Section:
    """ROC and calibration of the buy-likelihood deciders on the sessions in `path`."""
    data = read_sessions(path)
    _console.print("buy-likelihood: classic deciders")
    runs = [
        ScoredSessions("classic, prompt examples only", data.bought, classic_probabilities(data)),
        ScoredSessions(
            f"classic, fit ({FOLDS}-fold cross-validation)",
            data.bought,
            cross_validated_probabilities(data, folds=FOLDS),
        ),
        ScoredSessions(
            "classic, fit, observed columns only (no page values)",
            data.bought,
            cross_validated_probabilities(data, folds=FOLDS, page_values=False),
        ),
    ]
    subset = data.first(limit)
    notes: list[str] = []
    llm_run: ScoredSessions | None = None
    llm_failures = 0
    if llm is not None:
        probabilities, failures = _sessions_llm(behaviours(subset), llm)
        llm_failures = len(failures)
        llm_run = ScoredSessions(f"LLM {llm.spec}", subset.bought, probabilities)
        if len(set(subset.bought)) < 2:
            notes.append(
                f"The first {len(subset.bought)} sessions hold only one outcome, so the LLM's "
                "ROC AUC is undefined: raise `--limit`."
            )
            llm_run = None
        else:
            runs.append(llm_run)
    roc_png(out / "buy_likelihood_roc.png", "buy-likelihood: ROC", runs)
    calibration_png(out / "buy_likelihood_calibration.png", "buy-likelihood: calibration", runs)
    lines = [
        "## Buy-likelihood",
        "",
        f"`{path}`: {len(data.bought)} web sessions, {sum(data.bought)} ended in a purchase "
        f"({sum(data.bought) / len(data.bought):.1%}). Each session is mapped into the "
        "shopper behaviour the live graph computes; `PageValues` stands in for cart and "
        "checkout events, which the public data lacks (see "
        "`textcart/evaluation/buy_likelihood.py`). The third row leaves it out: what the "
        "columns the live graph observes directly are worth.",
        "",
        "| decider | sessions | ROC AUC | Brier | failures |",
        "|---|---|---|---|---|",
    ]
    for run in runs:
        scores = score_sessions(
            run.bought, run.probabilities, llm_failures if run is llm_run else 0
        )
        lines.append(
            f"| {run.label} | {scores.n} | {scores.roc_auc:.3f} | {scores.brier:.4f} | "
            f"{scores.failures} |"
        )
    lines += [
        "",
        "![ROC curves](buy_likelihood_roc.png) ![calibration](buy_likelihood_calibration.png)",
        "",
        *notes,
    ]
    if llm_run is None:
        return Section(lines, Gap("buy-likelihood", "ROC AUC", "", "not run", "", ""))
    trained = score_sessions(subset.bought, runs[1].probabilities[: len(subset.bought)])
    model = score_sessions(llm_run.bought, llm_run.probabilities, llm_failures)
    lines += [
        f"On the same {model.n} sessions ({model.buyers} buyers), the fit classic decider "
        f"scores ROC AUC {trained.roc_auc:.3f} and Brier {trained.brier:.4f}; the LLM "
        f"stand-in {model.roc_auc:.3f} and {model.brier:.4f}, {model.failures} without an "
        "answer (scored 0.5).",
        "",
    ]
    gap = Gap(
        "buy-likelihood",
        "ROC AUC",
        f"{trained.roc_auc:.3f}",
        f"{model.roc_auc:.3f}",
        f"{model.roc_auc - trained.roc_auc:+.3f}",
        f"first {model.n} sessions",
    )
    return Section(lines, gap)


# --- The whole report -------------------------------------------------------------------


def _commands(
    reproduce: str, intents: Path, sessions: Path, spec: str | None, limit: int
) -> list[str]:
    model = shlex.quote(spec or "MODEL")
    s, i = shlex.quote(str(sessions)), shlex.quote(str(intents))
    return [
        "## Reproduce",
        "",
        "This report, with the same or any other configured model:",
        "",
        f"    {reproduce}",
        "",
        "The buy-likelihood figures, one decider at a time (add `--json` for scripts):",
        "",
        f"    textcart eval buy-likelihood --data {s}",
        f"    textcart eval buy-likelihood --data {s} --fit {s}",
        f"    textcart eval buy-likelihood --data {s} --fit {s} --no-page-values",
        f"    textcart eval buy-likelihood --data {s} --decider llm --model {model} "
        f"--limit {limit}",
        "",
        "The intent deciders on a whole file (the report's halves come from `textcart "
        "report`; `--fit` takes any other labelled file):",
        "",
        f"    textcart eval intents --data {i}",
        f"    textcart eval intents --data {i} --decider llm --model {model} --limit {limit}",
        "",
    ]


def write_report(
    out: Path,
    *,
    intents: Path,
    sessions: Path,
    llm: ModelChoice | None,
    policy_results: Path | None,
    limit: int,
    reproduce: str,
    outcomes: dict[str, Any] | None = None,
    log_replay: dict[str, Any] | None = None,
) -> Path:
    """Measure everything, draw the plots into `out` and write `out/report.md`."""
    out.mkdir(parents=True, exist_ok=True)
    sections = [
        intent_section(intents, out, llm, limit),
        buy_likelihood_section(sessions, out, llm, limit),
        policy_section(policy_results, out, reproduce),
    ]
    who = f"`{llm.spec}`" if llm else "no model (pass `--model` to add the LLM stand-ins)"
    lines = [
        "# textcart: LLM stand-ins against trained models",
        "",
        f"LLM: {who}. Classic deciders: from the prompt files' examples, and fit on labelled "
        "data they are not scored on. Tone, fit and wording have no labelled data yet: not "
        "measured.",
        "",
        "| decision | metric | trained model | LLM stand-in | LLM minus trained | on |",
        "|---|---|---|---|---|---|",
    ]
    for section in sections:
        g = section.gap
        lines.append(f"| {g.decision} | {g.metric} | {g.trained} | {g.llm} | {g.gap} | {g.on} |")
    lines.append("")
    for section in sections:
        lines += section.lines
    lines += outcomes_lines(outcomes)
    lines += log_replay_lines(log_replay)
    lines += _commands(reproduce, intents, sessions, llm.spec if llm else None, limit)
    path = out / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def outcomes_lines(summary: dict[str, Any] | None) -> list[str]:
    """The report's part on real outcomes: the same numbers as `textcart attribution`."""
    lines = ["## Outcomes: attribution and the holdout, from the message log", ""]
    if summary is None:
        return [*lines, "Not included: no message log in the data dir (`textcart "
                "attribution` reads the same store).", ""]  # fmt: skip
    return [*lines, *summary_lines(summary), "",
            "The holdout rows are the incremental figure; attributed revenue credits texts "
            "with purchases that may have happened anyway.", ""]  # fmt: skip


def _has_log(directory: Path) -> bool:
    return bool(settings.current().database_url) or (directory / "shoppers.sqlite").exists()


def _outcomes(directory: Path) -> dict[str, Any] | None:
    """The attribution summary of the data dir's store, or None when there is none."""
    return asyncio.run(read_attribution(directory)) if _has_log(directory) else None


def _log_replay(directory: Path) -> dict[str, Any] | None:
    """The refit's replay on the data dir's log, or None when there is nothing to replay."""
    return asyncio.run(read_log_replay(directory, policy_path())) if _has_log(directory) else None


def report(
    out: Annotated[Path, typer.Option(file_okay=False, help="Folder for report.md and plots.")],
    model: Annotated[
        str | None,
        typer.Option(
            help="'provider:model' or 'local' for the LLM stand-ins. Default: "
            "$TEXTCART_MODEL; none means classic deciders only."
        ),
    ] = None,
    policy_results: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="JSON list of per-policy outcomes, as `textcart simulate --json` prints.",
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option(min=1, help="Texts and sessions to ask the LLM about, each.")
    ] = DEFAULT_LIMIT,
    intents: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="Labelled texts: text,label.")
    ] = DEFAULT_INTENTS,
    sessions: Annotated[
        Path,
        typer.Option(exists=True, dir_okay=False, help="UCI Online Shoppers sessions CSV."),
    ] = DEFAULT_SESSIONS,
    timeout: Annotated[
        float | None, typer.Option(min=0.1, help="LLM seconds per call (see eval commands).")
    ] = None,
) -> None:
    """Write a Markdown report with plots: every LLM stand-in against its trained model."""
    spec = (model or settings.current().model).strip()
    command = ["textcart", "report", "--out", str(out)]
    if spec:
        command += ["--model", spec]
    command += ["--limit", str(limit)]
    if policy_results is not None:
        command += ["--policy-results", str(policy_results)]
    if intents != DEFAULT_INTENTS:
        command += ["--intents", str(intents)]
    if sessions != DEFAULT_SESSIONS:
        command += ["--sessions", str(sessions)]
    try:
        llm = None
        if spec:
            timeout_s = llm_timeout_s(spec, timeout)
            llm = ModelChoice(
                spec, chat_model(spec, timeout_s=timeout_s), structured_method(spec), timeout_s
            )
        path = write_report(
            out,
            intents=intents,
            sessions=sessions,
            llm=llm,
            policy_results=policy_results,
            limit=limit,
            reproduce=shlex.join(command),
            outcomes=_outcomes(data_dir()),
            log_replay=_log_replay(data_dir()),
        )
    # The data, policy and model errors are all ValueErrors or LocalModelError.
    except (ValueError, LocalModelError) as exc:
        _console.print(f"[red]error:[/] {escape(str(exc))}", soft_wrap=True, highlight=False)
        raise typer.Exit(2) from exc
    _console.print(f"wrote {path} and its plots")


def register(app: typer.Typer) -> None:
    """Add the `report` command to `app` (mounted as `textcart report`)."""
    app.command("report")(report)
