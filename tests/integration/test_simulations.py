"""The scripted suite and a seeded simulated-shopper run, through the real graph on the
embedded Weaviate, held to the floors recorded in simulation_floors.yaml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from scripted_model import SPEC, ScriptedModel, install, uninstall

from textcart.deciders.next_message import prior_examples
from textcart.deciders.next_message_policy import LearnedPolicy
from textcart.demo_store.loader import load_scripts
from textcart.persistence import open_sqlite
from textcart.simulation.personas import RuleBasedShopper, make_population
from textcart.simulation.policy_fit import fit_policy
from textcart.simulation.population import Shopper, run_population
from textcart.simulation.scripted import run_scripts, simulation_context, summarise
from textcart.simulation.stats import policy_row
from textcart.tools.shopper_store import ShopperStore, shopper_id_for_phone

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "textcart" / "simulation" / "scripts"
FLOORS: dict[str, Any] = yaml.safe_load(
    (Path(__file__).with_name("simulation_floors.yaml")).read_text("utf-8")
)


async def test_scripted_suite_passes_on_the_real_graph(demo_catalog: int, tmp_path: Path) -> None:
    scripts = load_scripts([SCRIPTS])
    results = await run_scripts(scripts, simulation_context(), tmp_path, concurrency=4)
    failures = [
        f"{r.name} turn {n}: {f}"
        for r in results
        for n, t in enumerate(r.turns, 1)
        for f in t.failed_expectations
    ] + [f"{r.name}: {r.error}" for r in results if r.error]
    summary = summarise(results)
    print(f"scripts {summary.scripts_passed}/{summary.scripts}, turns {summary.turns}, "
          f"checks {summary.checks}")  # fmt: skip
    assert not failures, "\n".join(failures)
    assert summary.scripts >= FLOORS["scripts"]["min_scripts"]
    assert summary.checks >= FLOORS["scripts"]["min_checks"]
    # Every turn ran on the classic deciders: the suite is deterministic.
    assert all("llm" not in d for r in results for t in r.turns for d in t.deciders.values())


def _shoppers(n: int, seed: int) -> list[Shopper]:
    return [RuleBasedShopper(p, seed) for p in make_population(n, seed)]


@pytest.fixture(scope="module")
async def comparison(demo_catalog: int, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Learn from an exploring run on one population, then compare on another."""
    run = FLOORS["shoppers"]
    root = tmp_path_factory.mktemp("shoppers")
    train = _shoppers(run["train_shoppers"], run["train_seed"])
    await run_population(train, "learned", root / "train", seed=run["train_seed"], explore=True)
    # The comparison below is this policy's test; the replay gate (which may keep the
    # prompt prior) is tested on its own in tests/unit/test_policy_replay.py.
    report = await fit_policy(root / "train", root / "policy.json", force=True)
    learned = LearnedPolicy.load(report.path, prior_examples())
    rows = {}
    for name in ("learned", "random"):
        shoppers = _shoppers(run["shoppers"], run["seed"])
        results = await run_population(
            shoppers,
            name,
            root / name,
            seed=run["seed"],
            learned=learned,  # type: ignore[arg-type]
        )
        rows[name] = policy_row(name, results, run["seed"])
    print(rows)
    return root, report, rows


async def test_learned_policy_beats_random_above_the_floors(comparison: Any) -> None:
    _, report, rows = comparison
    floors = FLOORS["shoppers"]
    learned, random = rows["learned"], rows["random"]
    assert report.decisions >= floors["min_logged_decisions"]
    assert learned["conversion_rate"] >= floors["learned_conversion_min"], learned
    assert learned["opt_out_rate"] <= floors["learned_opt_out_max"], learned
    assert random["conversion_rate"] <= floors["random_conversion_max"], random
    margin = learned["conversion_rate"] - random["conversion_rate"]
    assert margin >= floors["conversion_margin_min"], (learned, random)


async def test_outcomes_are_written_into_the_message_log(comparison: Any) -> None:
    root, _, rows = comparison
    run = FLOORS["shoppers"]
    outcomes: dict[str, int] = {}
    async with open_sqlite(root / "learned") as (_, store):
        shoppers = ShopperStore(store)
        for persona in make_population(run["shoppers"], run["seed"]):
            log = await shoppers.messages(shopper_id_for_phone(persona.phone))
            for entry in log:
                for outcome in entry.get("outcomes", []):
                    outcomes[outcome["outcome"]] = outcomes.get(outcome["outcome"], 0) + 1
    assert outcomes.get("purchased", 0) == rows["learned"]["conversions"]
    assert outcomes.get("replied", 0) > 0 and outcomes.get("clicked", 0) > 0


async def test_the_llm_policy_run_counts_what_the_model_decided(
    demo_catalog: int, tmp_path: Path
) -> None:
    """Every next message is asked of the model; a bad answer falls back and is counted."""
    answers = iter(range(10_000))

    def answer(title: str, prompt: str) -> str:
        # Calls run one at a time: two good answers, then two bad ones (a decision's try
        # and its retry), so every third decision falls back.
        if next(answers) % 4 >= 2:
            return "not json"
        return json.dumps({"message_type": "answer_question", "rationale": "scripted"})

    await install(ScriptedModel(answer=answer, calls=[]))
    try:
        results = await run_population(
            _shoppers(6, 4), "llm", tmp_path / "llm", seed=4, model=SPEC, concurrency=1
        )
    finally:
        await uninstall()
    answered = sum(r.model_answered for r in results)
    fell_back = sum(r.model_fell_back for r in results)
    turns = sum(r.turns for r in results)
    assert answered > 0 and fell_back > 0
    assert abs(answered - 2 * fell_back) <= 2, (answered, fell_back)
    # Every text sent is listed with its type; the model's answer is among them.
    assert sum(len(r.sent) for r in results) == sum(r.messages for r in results)
    assert "answer_question" in {t for r in results for t in r.sent}
    # Only the next message is asked of the model; a compliance reply asks nothing.
    assert answered + fell_back <= turns
