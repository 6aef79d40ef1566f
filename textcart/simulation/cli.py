"""`textcart simulate` and `textcart policy`: run simulations, learn the next-message policy."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table

from textcart import settings
from textcart.deciders.next_message import prior_examples
from textcart.deciders.next_message_policy import LearnedPolicy, policy_path
from textcart.demo_store.loader import load_scripts
from textcart.evaluation.cli_output import with_interval
from textcart.graph.context import Context
from textcart.graph.services import close_default_services, default_services
from textcart.model_check import check_models
from textcart.paths import data_dir
from textcart.progress import progress_bar
from textcart.simulation import replay_cli
from textcart.simulation.catalog import ensure_demo_catalog
from textcart.simulation.effects import compare_on_effects, effects_line
from textcart.simulation.llm_shopper import LlmShopper
from textcart.simulation.personas import RuleBasedShopper, make_population
from textcart.simulation.policy_fit import fit_policy
from textcart.simulation.population import (
    POLICIES,
    ConversationResult,
    PolicyName,
    Shopper,
    check_unique_phones,
    next_message_policy,
    policy_context,
    run_population,
)
from textcart.simulation.scripted import (
    ScriptResult,
    run_scripts,
    simulation_context,
    summarise,
)
from textcart.simulation.stats import paired_difference, policy_row
from textcart.tools.llm import chat_model, llm_timeout_s, structured_method

# Progress and notes go to stderr so that `--json` leaves exactly one JSON document on stdout.
_console = Console(stderr=True)
_out = Console()
T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    _console.print(f"[red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
    return typer.Exit(2)


def _use_data_dir(data: Path | None) -> Path:
    if data is not None:
        settings.configure(data_dir=data)
    return data_dir()


def _in_workdir(
    main: Callable[[Path], Coroutine[Any, Any, T]], keep: Path | None, prefix: str
) -> T:
    """Run `main` in `keep`, else in a temporary folder; the catalog connection is closed."""

    async def closing(workdir: Path) -> T:
        try:
            return await main(workdir)
        finally:
            await close_default_services()

    if keep is not None:
        return asyncio.run(closing(keep))
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        return asyncio.run(closing(Path(tmp)))


def _learned_policy(policy_file: Path | None, policies: list[PolicyName]) -> LearnedPolicy | None:
    """The policy file's learned policy (None without one, which 'learned' then says)."""
    path = policy_file or policy_path()
    learned = LearnedPolicy.load(path, prior_examples()) if path.exists() else None
    if "learned" in policies and learned is None:
        _console.print(f"[yellow]no policy file at {path}: 'learned' uses the prompt prior[/]")
    return learned


def _print_scripts(results: list[ScriptResult]) -> None:
    for result in results:
        mark = "[green]PASS[/]" if result.passed else "[red]FAIL[/]"
        _out.print(f"{mark} [bold]{result.name}[/] [dim]{escape(result.description)}[/]")
        if result.error:
            _out.print(f"  [red]error: {escape(result.error)}[/]")
        for n, turn in enumerate(result.turns, 1):
            said = escape(turn.said) if turn.said is not None else f"(proactive: {turn.trigger})"
            ok = "[green]ok[/]  " if not turn.failed_expectations else "[red]FAIL[/]"
            got = f"{turn.intent or '-'} -> {turn.next_message or '-'}"
            _out.print(f"  {ok} turn {n}: {said[:60]}  [dim]{got}[/]", highlight=False)
            for failure in turn.failed_expectations:
                _out.print(f"         [red]{escape(failure)}[/]", highlight=False)
                if turn.reply:
                    _out.print(f"         [dim]reply: {escape(turn.reply[:150])}[/]")


def _run_scripts(
    paths: list[Path],
    model: str | None,
    concurrency: int,
    as_json: bool,
    keep: Path | None,
    policy_file: Path | None,
) -> bool:
    try:
        conversations = load_scripts(paths)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    context = simulation_context(model)
    total = sum(len(c.turns) for c in conversations)

    async def main(workdir: Path) -> list[ScriptResult]:
        await check_models(context, _console)
        await ensure_demo_catalog(context.catalog_collection)
        services = await default_services()
        await services.start(context)  # the model's server is up before the first turn
        # Scripts state the prompt's policy: they run on it unless a policy file is named.
        learned = LearnedPolicy.load(policy_file, prior_examples()) if policy_file else None
        async with next_message_policy(services, "learned", 0, learned, explore=False):
            with progress_bar(_console, disable=as_json) as bar:
                task = bar.add_task(f"{len(conversations)} scripts", total=total)
                return await run_scripts(
                    conversations,
                    context,
                    workdir,
                    concurrency=concurrency,
                    on_turn=lambda _: bar.advance(task),
                    services=services,
                )

    results = _in_workdir(main, keep, "textcart-scripts-")
    summary = summarise(results)
    if as_json:
        doc = {"summary": summary.__dict__, "scripts": [r.as_json() for r in results]}
        print(json.dumps(doc, default=str))
    else:
        _print_scripts(results)
        colour = "green" if summary.passed else "red"
        _out.print(
            f"[{colour}]{summary.scripts_passed}/{summary.scripts} scripts passed; "
            f"{summary.turns_passed}/{summary.turns} turns passed; "
            f"{summary.checks} checks, {summary.failures} failed[/]"
        )
    return summary.passed


def _policies(raw: list[str]) -> list[PolicyName]:
    names = [n.strip() for item in raw for n in item.split(",") if n.strip()]
    unknown = [n for n in names if n not in POLICIES]
    if unknown or not names:
        raise _fail(f"--policy takes {', '.join(POLICIES)}; got {', '.join(unknown) or 'none'}")
    return list(dict.fromkeys(names))  # type: ignore[arg-type]


def _shoppers(
    n: int, seed: int, personas: str, model: str | None, timeout_s: float
) -> list[Shopper]:
    people = make_population(n, seed)
    if personas == "rule":
        return [RuleBasedShopper(p, seed) for p in people]
    if not model:
        raise _fail("--personas llm needs --model")
    chat, method = chat_model(model, timeout_s=timeout_s), structured_method(model)
    slot = asyncio.Semaphore(1 if model == "local" else 4)
    return [LlmShopper(p, chat, method, timeout_s, seed, slot=slot) for p in people]


def _print_policies(rows: list[dict[str, Any]]) -> None:
    table = Table(title="next-message policies on the same simulated shoppers (95% CI)")
    for column in ("policy", "n", "conversion", "reply rate", "opt-out", "msgs / conversion"):
        table.add_column(column, justify="left" if column == "policy" else "right")

    def rate(row: dict[str, Any], key: str, ci: str) -> str:
        return with_interval(row[key], row[ci], ".3f")

    for row in rows:
        mpc, ci = row["messages_per_conversion"], row["messages_per_conversion_ci"]
        table.add_row(
            row["policy"],
            str(row["conversations"]),
            rate(row, "conversion_rate", "conversion_ci"),
            rate(row, "reply_rate", "reply_ci"),
            rate(row, "opt_out_rate", "opt_out_ci"),
            "-" if mpc is None else with_interval(mpc, ci or None, ".2f"),
        )
    _out.print(table)

    def diff(paired: dict[str, Any], key: str) -> str:
        return with_interval(paired[f"{key}_diff"], paired[f"{key}_diff_ci"] or None, "+.3f")

    for row in rows:
        if row.get("sent"):
            kinds = ", ".join(f"{kind} {n}" for kind, n in row["sent"].items())
            _out.print(f"{row['policy']} sent: {kinds}")
        if "decider_model" in row:
            asked = row["decider_model"]
            _out.print(
                f"{row['policy']}: the model made {asked['answered']} decisions; "
                f"{asked['fell_back']} fell back to the classic decider (timeout or bad answer)"
            )
        if "shopper_model" in row:
            moves = row["shopper_model"]
            _out.print(
                f"{row['policy']}: the model played {moves['answered']} shopper moves; "
                f"{moves['failed']} failed and {moves['out_of_character']} were out of character "
                "(a purchase the persona would not make), so the rules played those"
            )
        if "paired" in row:
            paired = row["paired"]
            _out.print(
                f"{paired['first']} minus {row['policy']}, shopper by shopper "
                f"({paired['shoppers']}): conversion {diff(paired, 'conversion')}, "
                f"opt-out {diff(paired, 'opt_out')}"
            )


def _run_population(
    n: int,
    policies: list[PolicyName],
    seed: int,
    personas: str,
    model: str | None,
    explore: bool,
    policy_file: Path | None,
    log_dir: Path | None,
    concurrency: int,
    quiet: bool,
) -> list[dict[str, Any]]:
    learned = _learned_policy(policy_file, policies)

    async def main(root: Path) -> list[dict[str, Any]]:
        if "llm" in policies:
            await check_models(policy_context("llm", model), _console)
        await ensure_demo_catalog(Context().catalog_collection)
        if "llm" in policies:
            # The model's server is up before the first turn, not started by it.
            await (await default_services()).start(policy_context("llm", model))
        rows: list[dict[str, Any]] = []
        runs: list[list[ConversationResult]] = []
        with progress_bar(_console, disable=quiet) as bar:

            def advance(task: TaskID) -> Callable[[ConversationResult], None]:
                return lambda _: bar.advance(task)

            for name in policies:
                shoppers = _shoppers(n, seed, personas, model, llm_timeout_s(model or "", None))
                check_unique_phones(shoppers)
                task = bar.add_task(f"policy {name}", total=n)
                results = await run_population(
                    shoppers,
                    name,
                    root / name,
                    seed=seed,
                    learned=learned,
                    explore=explore,
                    model=model,
                    concurrency=concurrency,
                    on_done=advance(task),
                )
                rows.append(policy_row(name, results, seed))
                runs.append(results)
                # What the policy sent, most used first: why its figures are what they are.
                rows[-1]["sent"] = dict(Counter(t for r in results for t in r.sent).most_common())
                asked = sum(r.model_answered + r.model_fell_back for r in results)
                if asked:
                    # How many of the decisions asked of the model it made in time.
                    rows[-1]["decider_model"] = {
                        "answered": sum(r.model_answered for r in results),
                        "fell_back": sum(r.model_fell_back for r in results),
                    }
                played = [s for s in shoppers if isinstance(s, LlmShopper)]
                if played:
                    # How much of the run the model really played.
                    rows[-1]["shopper_model"] = {
                        "answered": sum(s.answered for s in played),
                        "failed": sum(s.fallbacks for s in played),
                        "out_of_character": sum(s.out_of_character for s in played),
                    }
        # Every policy after the first, compared with the first shopper by shopper.
        for row, results in zip(rows[1:], runs[1:], strict=True):
            row["paired"] = {"first": rows[0]["policy"]} | paired_difference(runs[0], results, seed)
        return rows

    try:
        return _in_workdir(main, log_dir, "textcart-shoppers-")
    except ValueError as exc:
        raise _fail(str(exc)) from exc


def _run_effects(
    n: int,
    policies: list[PolicyName],
    seed: int,
    share: float,
    explore: bool,
    policy_file: Path | None,
    log_dir: Path | None,
    concurrency: int,
) -> list[dict[str, Any]]:
    if "llm" in policies:
        raise _fail("--behaviour effects compares learned, fixed and random policies")
    learned = _learned_policy(policy_file, policies)

    async def main(root: Path) -> list[dict[str, Any]]:
        await ensure_demo_catalog(Context().catalog_collection)
        return await compare_on_effects(
            n, policies, root, seed=seed, holdout_share=share, learned=learned,
            explore=explore, concurrency=concurrency,
        )  # fmt: skip

    try:
        return _in_workdir(main, log_dir, "textcart-effects-")
    except ValueError as exc:
        raise _fail(str(exc)) from exc


def simulate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Script files or folders of scripts (*.yaml) to run."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option(help="Run the deciders on this model ('provider:model' or 'local')."),
    ] = None,
    shoppers: Annotated[
        int, typer.Option(help="Simulate this many shoppers per policy instead of scripts.")
    ] = 0,
    policy: Annotated[
        list[str] | None,
        typer.Option(help="Policies to compare: learned, random, fixed, llm (repeat or a,b)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the population and every draw.")] = 0,
    personas: Annotated[
        str, typer.Option(help="Who plays the shoppers: 'rule' (seeded rules) or 'llm'.")
    ] = "rule",
    explore: Annotated[
        bool, typer.Option(help="Learned policy samples (Thompson) instead of exploiting.")
    ] = False,
    policy_file: Annotated[
        Path | None, typer.Option(help="Learned policy file (default: the data dir's).")
    ] = None,
    log_dir: Annotated[
        Path | None,
        typer.Option(help="Keep each policy's message log in LOG_DIR/<policy> (for policy fit)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option(help="Also write the policy comparison JSON to this file.")
    ] = None,
    behaviour: Annotated[
        str,
        typer.Option(
            help="Simulated shoppers' behaviour: 'rules' (conversations; buy only after a "
            "nudge) or 'effects' (one proactive trigger each, a baseline to buy anyway and "
            "hidden per-persona effects per message type, with the holdout on)."
        ),
    ] = "rules",
    holdout: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Holdout share under --behaviour effects.")
    ] = 0.5,
    concurrency: Annotated[int, typer.Option(help="Conversations run at once.")] = 4,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    keep: Annotated[
        Path | None,
        typer.Option(help="Keep each script's conversation store in this folder."),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data dir of the embedded Weaviate (default ./var)."),
    ] = None,
) -> None:
    """Run scripted conversations, or compare policies on simulated shoppers.

    With PATHs: every script through the real graph, a pass/fail line per turn, exit code
    1 when any expectation fails. With --shoppers N: the same seeded population under each
    --policy, with conversion, reply rate, opt-out rate and messages per conversion.
    """
    _use_data_dir(data)
    if shoppers > 0 and behaviour == "effects":
        rows = _run_effects(
            shoppers, _policies(policy or ["learned", "fixed", "random"]), seed, holdout,
            explore, policy_file, log_dir, concurrency,
        )  # fmt: skip
        if json_out is not None:
            json_out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        if as_json:
            print(json.dumps(rows))
        else:
            for row in rows:
                _out.print(effects_line(row), highlight=False, soft_wrap=True)
        return
    if behaviour != "rules":
        raise _fail("--behaviour is 'rules' or 'effects'")
    if shoppers > 0:
        if personas not in ("rule", "llm"):
            raise _fail("--personas is 'rule' or 'llm'")
        rows = _run_population(
            shoppers,
            _policies(policy or ["learned", "random"]),
            seed,
            personas,
            model,
            explore,
            policy_file,
            log_dir,
            concurrency,
            as_json,
        )
        if json_out is not None:
            json_out.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
        if as_json:
            print(json.dumps(rows))
        else:
            _print_policies(rows)
        if not paths:
            return
    if not paths:
        raise _fail("name script files or folders, or --shoppers N")
    if not _run_scripts(paths, model, concurrency, as_json, keep, policy_file):
        raise typer.Exit(1)


def policy_fit(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", help="Data dir whose message log to learn from (default ./var)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Where to write the policy (default: where the agent loads it)."),
    ] = None,
    offer_bands: Annotated[
        str | None, typer.Option(help="Bands allowed an offer (default: the context's).")
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Write the policy even if it replays worse than the current one.")
    ] = False,
) -> None:
    """Learn the next-message policy from the message log; adopt it if it replays better."""
    directory = _use_data_dir(data)
    bands = offer_bands or Context().offer_bands
    band_set = frozenset(b.strip() for b in bands.split(",") if b.strip())
    try:
        report = asyncio.run(fit_policy(directory, out or policy_path(), band_set, force=force))
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    _out.print(
        f"learned from {report.decisions} logged replies ({report.states} distinct states, "
        f"mean reward {report.base_rate:.3f})"
    )
    if report.candidate is not None and report.current is not None:
        for name, est in (("new", report.candidate), ("current", report.current)):
            _out.print(
                f"replay on {est.decisions} held-out decisions, {name} policy: doubly robust "
                f"{with_interval(est.dr, est.dr_ci, '.3f')}, inverse propensity "
                f"{with_interval(est.ips, est.ips_ci, '.3f')}"
            )
    c = report.comparison
    if c is not None and c.dr_difference is not None and c.dr_difference_ci is not None:
        low, high = c.dr_difference_ci
        _out.print(f"new minus current, paired: {c.dr_difference:+.3f} [{low:+.3f}, {high:+.3f}]")
    if report.note:
        _out.print(report.note)
    _out.print(
        f"wrote {report.path}" if report.adopted
        else f"kept {report.path}: the new policy does not replay better (--force writes it)"
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add `simulate` and the `policy` commands to the command line."""
    app.command("simulate")(simulate)
    policy_app = typer.Typer(
        help="The next-message policy learned from logs.", no_args_is_help=True
    )
    policy_app.command("fit")(policy_fit)
    replay_cli.register(policy_app)
    app.add_typer(policy_app, name="policy")
