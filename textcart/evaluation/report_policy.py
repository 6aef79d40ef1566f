"""The report's next-message part: policies on simulated shoppers, and on the real log.

The simulated comparison is read from what `textcart simulate --json` prints; the log part
replays a candidate policy against the one in place on the message log, as a refit does.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from textcart.deciders.next_message_fit import last_refit, read_comparison
from textcart.deciders.next_message_policy import OUTCOME_REWARD
from textcart.evaluation.cli_output import with_interval
from textcart.evaluation.plots import (
    PolicyBar,
    policy_png,
)
from textcart.evaluation.report_sections import Gap, Section
from textcart.persistence import open_persistence


class PolicyResultsError(ValueError):
    """The policy results file is not the list `textcart simulate --json` prints."""


# --- Next-message policy ----------------------------------------------------------------


@dataclass(frozen=True)
class PolicyResult:
    """One policy's outcomes over a simulated population (rates are shares, 0..1)."""

    policy: str
    conversations: int
    conversions: int
    conversion_rate: float
    conversion_ci: tuple[float, float]
    reply_rate: float
    reply_ci: tuple[float, float]
    opt_out_rate: float
    opt_out_ci: tuple[float, float]
    messages: int
    messages_per_conversion: float | None
    messages_per_conversion_ci: tuple[float, float] | None
    paired: PairedDifference | None = None


@dataclass(frozen=True)
class PairedDifference:
    """The first policy of the run minus this one, shopper by shopper (shares, 0..1)."""

    first: str
    shoppers: int
    conversion_diff: float
    conversion_diff_ci: tuple[float, float]
    opt_out_diff: float
    opt_out_diff_ci: tuple[float, float]


POLICY_KEYS = tuple(f.name for f in fields(PolicyResult) if f.name != "paired")


def _paired(value: Any, where: str) -> PairedDifference | None:
    """The optional `paired` entry `textcart simulate` adds to every policy after the first."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise PolicyResultsError(f"{where}: paired must be an object")
    return PairedDifference(
        first=str(value["first"]),
        shoppers=int(value["shoppers"]),
        conversion_diff=float(value["conversion_diff"]),
        conversion_diff_ci=_interval(value["conversion_diff_ci"], "conversion_diff_ci", where),
        opt_out_diff=float(value["opt_out_diff"]),
        opt_out_diff_ci=_interval(value["opt_out_diff_ci"], "opt_out_diff_ci", where),
    )


def _interval(value: Any, key: str, where: str) -> tuple[float, float]:
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise PolicyResultsError(f"{where}: {key} must be [low, high], not {value!r}")
    return float(value[0]), float(value[1])


def read_policy_results(path: Path) -> list[PolicyResult]:
    """Read and check the JSON list of per-policy outcomes."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PolicyResultsError(f"{path}: not readable JSON ({exc})") from exc
    if not isinstance(raw, list) or not raw:
        raise PolicyResultsError(f"{path}: expected a non-empty JSON list of policy results")
    results = []
    for i, item in enumerate(raw):
        where = f"{path}, item {i + 1}"
        if not isinstance(item, dict):
            raise PolicyResultsError(f"{where}: expected an object")
        missing = [k for k in POLICY_KEYS if k not in item]
        if missing:
            raise PolicyResultsError(f"{where} lacks {', '.join(missing)}")
        try:
            result = PolicyResult(
                policy=str(item["policy"]),
                conversations=int(item["conversations"]),
                conversions=int(item["conversions"]),
                conversion_rate=float(item["conversion_rate"]),
                conversion_ci=_interval(item["conversion_ci"], "conversion_ci", where),
                reply_rate=float(item["reply_rate"]),
                reply_ci=_interval(item["reply_ci"], "reply_ci", where),
                opt_out_rate=float(item["opt_out_rate"]),
                opt_out_ci=_interval(item["opt_out_ci"], "opt_out_ci", where),
                messages=int(item["messages"]),
                messages_per_conversion=None
                if item["messages_per_conversion"] is None
                else float(item["messages_per_conversion"]),
                messages_per_conversion_ci=None
                if item["messages_per_conversion_ci"] is None
                else _interval(
                    item["messages_per_conversion_ci"], "messages_per_conversion_ci", where
                ),
                paired=_paired(item.get("paired"), where),
            )
        except PolicyResultsError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyResultsError(f"{where}: {exc}") from exc
        results.append(result)
    return results


def _rate(value: float, ci: tuple[float, float]) -> str:
    return with_interval(value, ci, ".1%")


def _points(value: float, ci: tuple[float, float]) -> str:
    return with_interval(value * 100, (ci[0] * 100, ci[1] * 100), "+.1f", " points")


def _bars(results: Sequence[PolicyResult], value: str, ci: str, scale: float) -> list[PolicyBar]:
    bars = []
    for r in results:
        v: float | None = getattr(r, value)
        interval: tuple[float, float] | None = getattr(r, ci)
        bars.append(
            PolicyBar(
                r.policy,
                None if v is None else v * scale,
                None if interval is None else interval[0] * scale,
                None if interval is None else interval[1] * scale,
            )
        )
    return bars


def policy_section(path: Path | None, out: Path, reproduce: str) -> Section:
    """The policy comparison table and chart, or how to produce the results it needs."""
    lines = ["## Next message: policies compared on simulated shoppers", ""]
    if path is None:
        lines += [
            "Not included: no `--policy-results` file was given. Run the policy comparison "
            "on a seeded simulated population (`textcart simulate --shoppers N --policy "
            "llm|learned|random|fixed --json`), save the JSON list it prints for the "
            "policies to a file, and run:",
            "",
            f"    {reproduce} --policy-results POLICY_RESULTS.json",
            "",
        ]
        return Section(lines, Gap("next message", "conversion", "", "not run", "", ""))
    results = read_policy_results(path)
    policy_png(
        out / "policy_comparison.png",
        f"policies on one seeded population ({results[0].conversations} shoppers each)",
        {
            "conversion %": _bars(results, "conversion_rate", "conversion_ci", 100),
            "reply %": _bars(results, "reply_rate", "reply_ci", 100),
            "opt-out %": _bars(results, "opt_out_rate", "opt_out_ci", 100),
            "messages per conversion": _bars(
                results, "messages_per_conversion", "messages_per_conversion_ci", 1
            ),
        },
    )
    lines += [
        f"From `{path}`. Brackets are the confidence intervals the simulation reports.",
        "",
        "| policy | shoppers | conversion | reply rate | opt-out | messages | "
        "messages per conversion |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        per = (
            "n/a"
            if r.messages_per_conversion is None
            else f"{r.messages_per_conversion:.1f}"
            + (
                f" [{r.messages_per_conversion_ci[0]:.1f}, {r.messages_per_conversion_ci[1]:.1f}]"
                if r.messages_per_conversion_ci
                else ""
            )
        )
        lines.append(
            f"| {r.policy} | {r.conversations} | {_rate(r.conversion_rate, r.conversion_ci)} "
            f"| {_rate(r.reply_rate, r.reply_ci)} | {_rate(r.opt_out_rate, r.opt_out_ci)} | "
            f"{r.messages} | {per} |"
        )
    lines += ["", "![policy comparison](policy_comparison.png)", ""]
    paired = [(r.policy, r.paired) for r in results if r.paired is not None]
    if paired:
        lines += [
            "Shopper by shopper (every policy met the same seeded shoppers), with bootstrap "
            "intervals; a difference whose interval leaves out 0 is one this population shows:",
            "",
        ]
        for name, d in paired:
            lines.append(
                f"- {d.first} minus {name} ({d.shoppers} shoppers): conversion "
                f"{_points(d.conversion_diff, d.conversion_diff_ci)}, opt-out "
                f"{_points(d.opt_out_diff, d.opt_out_diff_ci)}"
            )
        lines.append("")
    by_name = {r.policy: r for r in results}
    llm, learned = by_name.get("llm"), by_name.get("learned")
    if llm is None or learned is None:
        lines += ["The results hold no `llm` and `learned` pair to compare.", ""]
        return Section(lines, Gap("next message", "conversion", "", "not run", "", ""))
    overlap = llm.conversion_ci[0] <= learned.conversion_ci[1] and (
        learned.conversion_ci[0] <= llm.conversion_ci[1]
    )
    lines += [
        f"The LLM policy converts {llm.conversion_rate:.1%} of shoppers, the policy learned "
        f"from logs {learned.conversion_rate:.1%}: "
        + (
            "the intervals overlap, so this population does not tell them apart."
            if overlap
            else "the intervals do not overlap."
        ),
        "",
    ]
    gap = Gap(
        "next message",
        "conversion",
        f"{learned.conversion_rate:.1%}",
        f"{llm.conversion_rate:.1%}",
        f"{(llm.conversion_rate - learned.conversion_rate) * 100:+.1f} points",
        f"{llm.conversations} simulated shoppers",
    )
    return Section(lines, gap)


# --- The refit's replay on the real log ---------------------------------------------------


async def read_log_replay(directory: Path, policy_file: Path) -> dict[str, Any] | None:
    """What the next refit would compare on the log in `directory`, and the last refit.

    None when the log holds no reply to learn from.
    """
    async with open_persistence(directory) as (_, store):
        try:
            comparison = await read_comparison(store, policy_file)
        except ValueError:
            return None
        return {"comparison": comparison.as_json(), "last_refit": await last_refit(store)}


def _estimate_row(name: str, estimate: dict[str, Any]) -> str:
    ips, dr = estimate["ips_ci95"], estimate["dr_ci95"]
    return (
        f"| {name} | {estimate['matched']} of {estimate['decisions']} | "
        f"{estimate['ips']:.3f} [{ips[0]:.3f}, {ips[1]:.3f}] | "
        f"{estimate['dr']:.3f} [{dr[0]:.3f}, {dr[1]:.3f}] |"
    )


def log_replay_lines(found: dict[str, Any] | None) -> list[str]:
    """The candidate policy against the one in place, replayed on the real message log."""
    lines = ["## Next message: a new policy against the one in place, replayed on the log", ""]
    if found is None:
        return [*lines, "Not included: no logged reply in the data dir to replay.", ""]
    c = found["comparison"]
    rewards = ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in OUTCOME_REWARD.items())
    lines += [
        f"From the message log: {c['decisions']} learnable decisions. As the server's refit "
        "does (`TEXTCART_POLICY_REFIT_H`, `textcart policy fit`), a candidate policy is fit "
        f"on 70% of the shoppers and replayed, with the policy in place ({c['current_from']}), "
        f"on the other 30% ({c['replayed_decisions']} decisions), weighing each logged "
        f"decision by the chance the logging policy had of making it. Mean reward per "
        f"decision ({rewards}), 95% intervals:",
        "",
    ]
    candidate, current = c["candidate"], c["current"]
    if candidate is None or current is None:
        lines += [f"Not replayed: {c['note'].removeprefix('not replayed: ')}", ""]
    else:
        diff, ci = c["dr_difference"], c["dr_difference_ci95"]
        lines += [
            "| policy | decisions it agrees with | inverse propensity | doubly robust |",
            "|---|---|---|---|",
            _estimate_row("candidate (fit on 70%)", candidate),
            _estimate_row("in place", current),
            "",
            f"Candidate minus in place, doubly robust, decision by decision: {diff:+.3f} "
            f"[{ci[0]:+.3f}, {ci[1]:+.3f}]. A refit now would "
            + (
                "adopt the candidate (its doubly robust estimate is at least the current one's)."
                if c["candidate_wins"]
                else "keep the policy in place (the candidate replays worse)."
            )
            + " The policy in place may have learned from these shoppers and the candidate "
            "has not, so the comparison leans towards keeping what is there.",
            "",
        ]
        if candidate["without_propensity"]:
            lines += [
                f"{candidate['without_propensity']} replayed decisions carry no logged "
                "propensity (an LLM decided them) and are left out.",
                "",
            ]
    last = found["last_refit"]
    if last is not None:
        verdict = "adopted its candidate" + (" (forced)" if last.get("forced") else "")
        lines += [
            f"The last refit ({last['at']}, on {last['decisions']} decisions) "
            + (verdict if last["adopted"] else "kept the policy in place")
            + ".",
            "",
        ]
    return lines
