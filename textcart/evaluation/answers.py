"""Does the reply answer what the shopper asked, and is every claim in it backed?

A case is a shopper's text (optionally from a demo shopper, after earlier texts) with
checks on the reply the shopper reads: regular expressions it must and must not match,
and facts it must state. Each case runs through the real graph on a fresh shopper store.

Two scores:

* **answered**: the share of cases whose reply passes all of the case's checks.
* **grounded**: the share of cases whose reply makes no claim that the evidence the turn
  used does not back. This is checked here, independently of the live output guard:
  every price, number, size, colour and policy term in the reply must appear in the full
  catalog entries of the products the turn used, the knowledge-base sections its answer
  quoted, the shopper's order, or the shopper's own text (a size they said may be
  repeated back to them).
"""

from __future__ import annotations

import json
import re
import statistics
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from textcart.agent import Agent, InvalidInput
from textcart.answers.knowledge import KnowledgeBase
from textcart.answers.question import COLOUR_WORDS
from textcart.conversations import pinned_clock, seed_demo_shoppers
from textcart.demo_store.loader import load_shoppers
from textcart.graph.context import Context
from textcart.graph.state import TurnState, decisions_of
from textcart.tools.orders import OrderBook
from textcart.vocabulary.money import MONEY_PATTERN, amount_of

# Terms that state a store policy: a reply may use one only when the evidence does.
POLICY_TERMS = (
    "free",
    "refund",
    "prepaid",
    "label",
    "exchange",
    "warranty",
    "business days",
    "express",
    "overnight",
    "original box",
    "tags",
    "unworn",
    "return window",
    "price match",
    "installments",
    "klarna",
    "paypal",
    "apple pay",
    "gift card",
    "canada",
    "same day",
    "tumble dry",
    "machine wash",
    "dryer",
)
_MONEY = MONEY_PATTERN
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)?(?![\w])")
_SIZE = re.compile(
    r"\b(?:size|sizes|in an?|in)\s+(\d{1,2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl)\b"
    r"|\b(\d{1,2}(?:\.5)?|xxs|xs|s|m|l|xl|xxl) is (?:in stock|sold out)\b",
    re.IGNORECASE,
)
_COLOUR = re.compile(r"\b(" + "|".join(COLOUR_WORDS) + r")\b", re.IGNORECASE)
_URL = re.compile(r"https?://\S+|\b[\w.-]+\.example(?:/\S*)?")


class CaseError(ValueError):
    """A case file that cannot be used; the message names the file and the case."""


class AnswerCase(BaseModel):
    """One question and what its reply must (not) say."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    kind: str = Field(min_length=1, description="What is asked: availability, fit, policy...")
    text: str
    shopper: str | None = Field(default=None, description="A demo shopper's key (e.g. maya).")
    before: list[str] = Field(default_factory=list, description="Earlier texts, in order.")
    says: list[str] = Field(default_factory=list, description="Regexes the reply must match.")
    not_says: list[str] = Field(default_factory=list)
    facts: list[str] = Field(default_factory=list, description="Texts the reply must contain.")
    no_reply: bool = False

    @field_validator("says", "not_says")
    @classmethod
    def _patterns(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            re.compile(pattern)
        return patterns


def read_cases(path: Path) -> list[AnswerCase]:
    """Cases from a YAML file (a list) or every `*.yaml` file in a folder."""
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    if not files:
        raise CaseError(f"{path}: no case files")
    shoppers = load_shoppers()
    cases: list[AnswerCase] = []
    for file in files:
        try:
            raw = yaml.safe_load(file.read_text(encoding="utf-8")) or []
        except yaml.YAMLError as err:
            raise CaseError(f"{file}: not valid YAML: {err}") from err
        if not isinstance(raw, list):
            raise CaseError(f"{file}: expected a list of cases")
        for i, row in enumerate(raw):
            try:
                case = AnswerCase.model_validate(row)
            except (ValidationError, re.error) as err:
                raise CaseError(f"{file}: case {i + 1}: {err}") from err
            if case.shopper is not None and case.shopper not in shoppers:
                raise CaseError(f"{file}: case {case.id}: unknown demo shopper {case.shopper!r}")
            cases.append(case)
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        raise CaseError(f"{path}: case ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
    return cases


def spread(cases: Sequence[AnswerCase], limit: int | None) -> list[AnswerCase]:
    """`limit` cases taken at even steps through the list (all of them without a limit)."""
    if limit is None or limit >= len(cases):
        return list(cases)
    step = len(cases) / limit
    return [cases[int(i * step)] for i in range(limit)]


@dataclass
class CaseResult:
    """What one case produced and which checks it failed."""

    case: AnswerCase
    reply: str | None
    failed: list[str]
    unbacked: list[str]
    latency_ms: float
    answer_kind: str | None = None
    llm_decisions: int = 0
    fell_back: int = 0

    @property
    def answered(self) -> bool:
        """All of the case's checks passed."""
        return not self.failed

    @property
    def grounded(self) -> bool:
        """No claim in the reply lacks evidence."""
        return not self.unbacked


@dataclass
class Evidence:
    """Everything a turn's reply may rest on, as lower-case text."""

    parts: list[str] = field(default_factory=list)

    def text(self) -> str:
        """All of it, joined."""
        return " \n ".join(self.parts).lower()


def check_reply(case: AnswerCase, reply: str | None) -> list[str]:
    """The case's checks the reply fails."""
    text = reply or ""
    if case.no_reply:
        return ["a reply was sent"] if text else []
    failed = [] if text else ["no reply"]
    failed += [f"does not say /{p}/" for p in case.says if not re.search(p, text, re.I)]
    failed += [f"says /{p}/" for p in case.not_says if re.search(p, text, re.I)]
    failed += [f"does not state {f!r}" for f in case.facts if f.lower() not in text.lower()]
    return failed


def unbacked_claims(reply: str | None, evidence: str, said: str) -> list[str]:
    """Claims in the reply that neither the evidence nor the shopper's own text contains."""
    if not reply:
        return []
    text = _URL.sub(" ", reply)
    backing = f"{evidence} \n {said}".lower()
    tokens = set(re.findall(r"\d+(?:\.\d+)?|[a-z]+", backing))
    problems: list[str] = []
    for money in _MONEY.findall(text):
        amount = amount_of(money)
        if amount not in backing and amount.removesuffix(".00") not in backing:
            problems.append(f"price {money}")
    for number in _NUMBER.findall(_MONEY.sub(" ", text)):
        if number.replace(",", "") not in tokens and number not in backing:
            problems.append(f"number {number}")
    for match in _SIZE.finditer(text):
        size = (match.group(1) or match.group(2)).lower()
        if size not in tokens:
            problems.append(f"size {size.upper()}")
    for colour in {c.lower() for c in _COLOUR.findall(text)}:
        if colour not in tokens:
            problems.append(f"colour {colour}")
    lowered = text.lower()
    for term in POLICY_TERMS:
        if re.search(rf"\b{re.escape(term)}\b", lowered) and term not in backing:
            problems.append(f"policy term {term!r}")
    return problems


def turn_evidence(
    state: TurnState,
    catalog_rows: dict[str, dict[str, Any]],
    knowledge: KnowledgeBase,
    orders: OrderBook,
    store_name: str,
) -> Evidence:
    """The full catalog entries, knowledge sections and order the turn used."""
    evidence = Evidence([store_name])
    shopper = state.get("shopper")
    if shopper and shopper.get("first_name"):
        evidence.parts.append(str(shopper["first_name"]))
    answer = state.get("answer")
    ids = [p["id"] for p in state.get("products") or []]
    sources = answer["sources"] if answer else []
    ids += [s.split(":", 1)[1] for s in sources if s.startswith("product:")]
    for product_id in dict.fromkeys(ids):
        row = catalog_rows.get(product_id)
        if row is not None:
            evidence.parts.append(json.dumps(row, ensure_ascii=False))
    for source in sources:
        if source.startswith("knowledge:"):
            chunk = knowledge.by_id(source.split(":", 1)[1])
            if chunk is not None:
                evidence.parts.append(f"{chunk.heading}. {chunk.text}")
    latest = orders.latest_for(state["shopper_id"])
    cited = {s.split(":", 1)[1] for s in sources if s.startswith("order:")}
    # The orders the answer cites (an earlier one when the text named its product), and
    # the latest one when the reply is order help.
    used = [o for o in orders.orders_for(state["shopper_id"]) if o.order_id in cited]
    if latest is not None and (cited or _order_reply(state)) and latest not in used:
        used.append(latest)
    window = knowledge.policies.return_window_days
    for order in used:
        evidence.parts.append(json.dumps(order.__dict__, default=str))
        evidence.parts.append(order.status_line())
        if order.delivered_days_ago is not None and order.delivered_days_ago < window:
            # Derived from the two figures above, not taken from the reply.
            evidence.parts.append(f"{window - order.delivered_days_ago} days left to return")
        for item in order.item_ids:
            if item in catalog_rows:
                evidence.parts.append(str(catalog_rows[item]["title"]))
    if used:
        evidence.parts.append(
            f"return window {knowledge.policies.return_window_days} days; "
            f"{knowledge.policies.returns_url}"
        )
    outbound = state.get("outbound")
    if outbound and outbound["message_type"] == "handoff_to_human":
        evidence.parts.append(knowledge.policies.contact)
    return evidence


def _order_reply(state: TurnState) -> bool:
    outbound = state.get("outbound")
    return bool(outbound and outbound["message_type"] == "order_help")


def read_catalog_rows(path: Path) -> dict[str, dict[str, Any]]:
    """Catalog rows by id, from the JSONL file the store was loaded from."""
    rows = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows[str(row["id"])] = row
    return rows


async def run_cases(
    cases: Sequence[AnswerCase],
    context: Context,
    workdir: Path,
    catalog_rows: dict[str, dict[str, Any]],
    knowledge: KnowledgeBase,
    orders: OrderBook,
    on_case: Any = None,
) -> list[CaseResult]:
    """Run every case on a fresh shopper store (a new folder per case) at the pinned clock."""
    shoppers = load_shoppers()
    results = []
    for n, case in enumerate(cases):
        with tempfile.TemporaryDirectory(prefix="case-", dir=workdir) as folder:
            async with Agent.open(Path(folder), context) as agent:
                if case.shopper is not None:
                    demo = shoppers[case.shopper]
                    await seed_demo_shoppers(agent, {case.shopper: demo}, pinned=True)
                    phone, zone = demo.phone, demo.timezone
                else:
                    # A number of the fiction range (555-01xx): a new shopper per case.
                    phone, zone = f"+141555501{n % 100:02d}", None
                clock = pinned_clock(zone)
                for i, earlier in enumerate(case.before):
                    await agent.receive(phone, earlier, f"{case.id}-before-{i}", at=clock)
                    clock += timedelta(minutes=2)
                started = time.perf_counter()
                try:
                    state = await agent.receive(phone, case.text, f"{case.id}-ask", at=clock)
                except InvalidInput as exc:
                    results.append(_rejected(case, str(exc)))
                    continue
                latency = (time.perf_counter() - started) * 1000
        outbound = state.get("outbound")
        reply = outbound["text"] if outbound else None
        evidence = turn_evidence(state, catalog_rows, knowledge, orders, context.store_name)
        answer = state.get("answer")
        taken = decisions_of(state).values()
        result = CaseResult(
            case=case,
            reply=reply,
            failed=check_reply(case, reply),
            unbacked=unbacked_claims(reply, evidence.text(), case.text),
            latency_ms=latency,
            answer_kind=answer["kind"] if answer else None,
            llm_decisions=sum(d["decider"] == "llm" for d in taken),
            fell_back=sum(bool(d["fallback_reason"]) for d in taken),
        )
        results.append(result)
        if on_case is not None:
            on_case(result)
    return results


def _rejected(case: AnswerCase, why: str) -> CaseResult:
    return CaseResult(
        case=case, reply=None, failed=[f"text refused: {why}"], unbacked=[], latency_ms=0
    )


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summarise(results: Iterable[CaseResult]) -> dict[str, Any]:
    """The report: answered, grounded, n, by_kind, latency percentiles and the failures."""
    results = list(results)
    n = len(results)
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in sorted({r.case.kind for r in results}):
        of_kind = [r for r in results if r.case.kind == kind]
        by_kind[kind] = {
            "n": len(of_kind),
            "answered": round(sum(r.answered for r in of_kind) / len(of_kind), 3),
            "grounded": round(sum(r.grounded for r in of_kind) / len(of_kind), 3),
        }
    latencies = [r.latency_ms for r in results]
    return {
        "answered": round(sum(r.answered for r in results) / n, 3) if n else 0.0,
        "grounded": round(sum(r.grounded for r in results) / n, 3) if n else 0.0,
        "n": n,
        "by_kind": by_kind,
        # With --model: how many decisions the model made, and how many fell back to classic.
        "llm_decisions": sum(r.llm_decisions for r in results),
        "llm_fell_back": sum(r.fell_back for r in results),
        "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else 0.0,
        "latency_ms_p95": round(_percentile(latencies, 0.95), 1),
        "failures": [
            {
                "id": r.case.id,
                "text": r.case.text,
                "reply": r.reply,
                "failed": r.failed,
                "unbacked": r.unbacked,
            }
            for r in results
            if r.failed or r.unbacked
        ],
    }
