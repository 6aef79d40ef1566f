"""Replies that answer, on the real graph: Weaviate, MiniLM, the knowledge base, SQLite.

The shipped cases run through `textcart eval answers`'s own runner with classic deciders and
must stay above the floor the issue sets; bad input gets a clear reply, never a crash and
never an invented fact.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from textcart.agent import Agent
from textcart.answers.turn import EMPTY_CATALOG, NO_KIDS, NOT_SOLD, OTHER_LANGUAGE
from textcart.conversations import pinned_clock
from textcart.demo_store.loader import catalog_path
from textcart.evaluation.answers import (
    AnswerCase,
    read_cases,
    read_catalog_rows,
    run_cases,
    summarise,
    unbacked_claims,
)
from textcart.evaluation.answers_cli import DEFAULT_CASES
from textcart.graph.context import Context
from textcart.graph.services import default_services

pytestmark = pytest.mark.usefixtures("demo_catalog")
CLASSIC = Context(model=None)


async def test_shipped_cases_are_answered_and_grounded(tmp_path: Path) -> None:
    services = await default_services()
    cases = read_cases(DEFAULT_CASES)
    assert len(cases) >= 80
    results = await run_cases(
        cases,
        CLASSIC,
        tmp_path,
        read_catalog_rows(catalog_path()),
        services.knowledge,
        services.orders,
    )
    report = summarise(results)
    assert report["answered"] >= 0.95, report["failures"]
    assert report["grounded"] == 1.0, report["failures"]
    assert {"availability", "fit", "spec", "policy", "order", "bad_input"} <= set(report["by_kind"])


async def _reply(tmp_path: Path, text: str, context: Context = CLASSIC) -> dict:
    async with Agent.open(tmp_path, context) as agent:
        state = await agent.receive("+14155550188", text, at=pinned_clock(None))
    return dict(state)


@pytest.mark.parametrize(
    "text,says",
    [
        ("do you sell kayaks?", "Sorry, we don't carry kayaks."),
        ("do you carry the zephyr 3000?", NOT_SOLD),
        ("need a bike helmet what do u have", "Sorry, we don't carry bike helmets."),
        ("any climbing harnesses? going to the gym", "Sorry, we don't carry climbing harnesses."),
        ("need a sleeping bag good down to 20 degrees", "Sorry, we don't carry sleeping bags."),
        ("anything for kids?? my 8 yr old needs hiking boots", NO_KIDS),
        ("hola, tienen estas zapatillas en talla 40?", OTHER_LANGUAGE),
    ],
)
async def test_unanswerable_texts_say_so_plainly(tmp_path: Path, text: str, says: str) -> None:
    state = await _reply(tmp_path, text)
    assert state["outbound"]["text"] == says
    assert state["next_message"]["value"] == "answer_question"


async def test_emoji_only_gets_a_clear_reply_without_facts(tmp_path: Path) -> None:
    state = await _reply(tmp_path, "👀🤔")
    reply = state["outbound"]["text"] if state["outbound"] else None
    assert reply is None or not any(ch.isdigit() for ch in reply)


async def test_a_1600_character_question_is_answered(tmp_path: Path) -> None:
    ask = " do the womens ridgeline trail runners come in an 8.5?"
    text = ("so i have been looking at trail shoes for a while now " * 40)[: 1600 - len(ask)] + ask
    assert len(text) == 1600
    state = await _reply(tmp_path, text)
    reply = state["outbound"]["text"]
    assert "Women's Ridgeline Trail Runner" in reply and "8.5" in reply
    assert unbacked_claims(reply, str(state["products"]) + str(state["answer"]), text) == []


async def test_an_empty_catalog_is_reported_not_answered_around(tmp_path: Path) -> None:
    services = await default_services()
    empty = await services.catalog("EmptyShop")
    await empty.ensure_collection()
    context = Context(model=None, catalog_collection="EmptyShop")
    state = await _reply(tmp_path, "is the ridgeline trail runner waterproof?", context)
    assert state["outbound"]["text"] == EMPTY_CATALOG
    assert "catalog is empty" in (state["retrieval_note"] or "")


async def test_a_case_file_runs_through_the_eval_runner(tmp_path: Path) -> None:
    services = await default_services()
    case = AnswerCase(
        id="x", kind="price", text="how much is the mens tempo road racer", says=[r"\$170"]
    )
    (result,) = await run_cases(
        [case],
        CLASSIC,
        tmp_path,
        read_catalog_rows(catalog_path()),
        services.knowledge,
        services.orders,
    )
    assert result.answered and result.grounded and result.answer_kind == "price"
