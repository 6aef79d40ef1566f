"""The next-message policy learned from the message log, backed by the prompt's examples.

State: what the shopper wants (intent), their buy-likelihood band, the type of our last
message, how many turns the conversation has had (bucketed), and whether we found products.
For each state and message type the log gives an outcome rate: the mean reward of the
messages of that type sent in that state (a purchase is worth most, a click or a reply less,
and an opt-out costs as much as a purchase earns). Rates are smoothed through coarser and
coarser states down to a prior taken from the labelled examples in
`prompts/next_message.yaml`, so an unseen state answers as the examples do, and a well-seen
one answers as the log says.

With exploration off the policy sends the type with the best smoothed rate
(deterministic); with exploration on it draws each rate from its Beta posterior (on the
reward range rescaled to [0, 1]) and sends the best draw (Thompson sampling, seeded), so
types with little evidence still get tried.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from textcart import settings
from textcart.paths import data_dir
from textcart.vocabulary.labels import MESSAGE_TYPES

# What each logged outcome is worth; a message keeps the best of its own outcomes, except
# that an opt-out outweighs anything else the message earned. The opt-out's cost is a
# business judgment, not a fitted number: a lost subscriber can never be texted again, and
# that future is taken to be worth about one sale, so an opt-out costs what a purchase earns.
OUTCOME_REWARD: dict[str, float] = {
    "purchased": 1.0,
    "clicked": 0.4,
    "replied": 0.2,
    "no_response": 0.05,
    "opted_out": -1.0,
}
# The range rewards live in, for drawing them from a Beta posterior on [0, 1].
REWARD_LOW, REWARD_HIGH = min(OUTCOME_REWARD.values()), max(OUTCOME_REWARD.values())
# A purchase also credits the messages that led up to it, halving per message back; an
# opt-out blames them the same way.
PURCHASE_CREDIT_DECAY = 0.5
OPT_OUT_BLAME_DECAY = 0.5
# Pseudo-observations each coarser estimate is worth when smoothing a finer one.
SMOOTHING = 4.0
# Without a log, the share of the examples' votes moves the prior rate between these
# multiples of the base rate.
PRIOR_LOW, PRIOR_HIGH = 0.5, 1.5
DEFAULT_BASE_RATE = 0.2
EXAMPLES_PER_STATE = 3

# A conversation may bring its own random generator (simulations run many at once and
# want each one's draws to depend only on its own seed, not on which turn ran first).
conversation_rng: ContextVar[random.Random | None] = ContextVar("conversation_rng", default=None)

LEVELS: tuple[str, ...] = (
    "full",  # intent, band, last message, turns bucket, products found
    "last_band",  # intent, band, last message, products found
    "last",  # intent, last message
    "band",  # intent, band, products found
    "products",  # intent, products found
    "intent",
    "all",
)


def turns_bucket(turns_so_far: int) -> str:
    """Turns so far in buckets: the first few turns each count, later ones less."""
    if turns_so_far <= 2:
        return str(max(turns_so_far, 0))
    return "3-4" if turns_so_far <= 4 else "5+"


def state_keys(case: Mapping[str, Any]) -> list[str]:
    """The case's state at every level, finest first, as strings (JSON keys)."""
    intent, band = str(case["intent"]), str(case["buy_likelihood_band"])
    last = str(case.get("last_message_type") or "none")
    products = "products" if case.get("has_products") else "no_products"
    bucket = turns_bucket(int(case.get("turns_so_far") or 0))
    parts = {
        "full": (intent, band, last, bucket, products),
        "last_band": (intent, band, last, products),
        "last": (intent, last),
        "band": (intent, band, products),
        "products": (intent, products),
        "intent": (intent,),
        "all": (),
    }
    return [f"{level}:" + "|".join(parts[level]) for level in LEVELS]


def allowed_types(case: Mapping[str, Any], offer_bands: frozenset[str]) -> list[str]:
    """Message types the rules allow in this case, in the vocabulary's order.

    The same rules the prompt states and the graph enforces: complaints and requests for
    a person are handed off; a shopper who declined gets one acknowledgement or nothing;
    no products means nothing to recommend or check out; offers only at an allowed band
    to a price-sensitive shopper, never twice in a row.
    """
    intent = case["intent"]
    if intent in ("complaint", "human_agent"):
        return ["handoff_to_human"]
    if intent == "not_interested":
        return ["answer_question", "no_reply"]
    allowed = list(MESSAGE_TYPES)
    if not case.get("has_products"):
        allowed = [t for t in allowed if t not in ("recommend_products", "nudge_checkout")]
    offer_ok = (
        intent == "price_or_discount"
        and case["buy_likelihood_band"] in offer_bands
        and case.get("last_message_type") != "send_offer"
    )
    if not offer_ok:
        allowed.remove("send_offer")
    return allowed


@dataclass(frozen=True)
class LoggedDecision:
    """One message we sent, the state it was sent in, and what it earned."""

    case: dict[str, Any]
    message_type: str
    reward: float
    said: str | None = None
    outcome: str = "no_response"
    # The chance the policy that sent it had of sending this type (None: not known, e.g.
    # an LLM decided): what an offline replay weighs the decision by.
    propensity: float | None = None


@dataclass(frozen=True)
class Choice:
    """A policy's answer: the type, the smoothed rates behind it, and why."""

    message_type: str
    rates: dict[str, float]
    rationale: str


class NextMessagePolicy(Protocol):
    """Anything that picks a message type for a state (learned, fixed, random)."""

    def choose(self, case: Mapping[str, Any], rng: random.Random | None = None) -> Choice:
        """The type to send; `rng` asks for exploration where the policy has any."""
        ...


class RandomPolicy:
    """A uniformly random type among those the rules allow: the baseline to beat."""

    def __init__(self, seed: int = 0, offer_bands: frozenset[str] = frozenset({"medium"})):
        """Draw from a generator seeded with `seed`."""
        self._rng = random.Random(seed)
        self.offer_bands = offer_bands

    def choose(self, case: Mapping[str, Any], rng: random.Random | None = None) -> Choice:
        """Any allowed type, each as likely as the others."""
        allowed = allowed_types(case, self.offer_bands)
        pick = (rng or self._rng).choice(allowed)
        return Choice(pick, {}, f"random among {len(allowed)} allowed types")


@dataclass
class LearnedPolicy:
    """Outcome rates per state and message type, smoothed down to the prompt's examples."""

    prior_rows: list[dict[str, Any]]
    stats: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    base_rate: float = DEFAULT_BASE_RATE
    decisions_seen: int = 0
    offer_bands: frozenset[str] = frozenset({"medium"})

    def __post_init__(self) -> None:
        """Count the examples' votes per state once."""
        self._votes: dict[str, Counter[str]] = {}
        for row in self.prior_rows:
            for key in state_keys(row):
                self._votes.setdefault(key, Counter())[row["label"]] += 1

    # --- learning ---------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        prior_rows: list[dict[str, Any]],
        decisions: Iterable[LoggedDecision],
        offer_bands: frozenset[str] = frozenset({"medium"}),
    ) -> LearnedPolicy:
        """Count rewards per state level and message type from logged decisions."""
        stats: dict[str, dict[str, list[float]]] = {}
        examples: dict[str, list[dict[str, Any]]] = {}
        total, n = 0.0, 0
        for d in decisions:
            total, n = total + d.reward, n + 1
            keys = state_keys(d.case)
            # Rates are learned per intent at the coarsest: what works for one intent says
            # little about another, where the examples' prior knows better.
            for key in keys[:-1]:
                cell = stats.setdefault(key, {}).setdefault(d.message_type, [0.0, 0.0])
                cell[0] += d.reward
                cell[1] += 1
            # A few worked examples per (intent, band) for the LLM decider's prompt.
            shown = examples.setdefault(keys[LEVELS.index("band")], [])
            if d.said and len(shown) < EXAMPLES_PER_STATE and d.reward >= OUTCOME_REWARD["clicked"]:
                shown.append(
                    {"shopper_said": d.said[:120], "we_sent": d.message_type, "outcome": d.outcome}
                )
        base = total / n if n else DEFAULT_BASE_RATE
        return cls(prior_rows, stats, examples, max(base, 0.01), n, offer_bands)

    # --- deciding ---------------------------------------------------------------------

    def _prior(self, keys: list[str], allowed: list[str]) -> dict[str, float]:
        """Prior rate per type from the examples' votes at the finest level that has any."""
        votes: Counter[str] = Counter()
        for key in keys:
            found = self._votes.get(key)
            if found and any(found[t] for t in allowed):
                votes = found
                break
        total = sum(votes[t] for t in allowed) or 1
        return {
            t: self.base_rate * (PRIOR_LOW + (PRIOR_HIGH - PRIOR_LOW) * votes[t] / total)
            for t in allowed
        }

    def posterior(self, case: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
        """Smoothed rate and effective number of observations per allowed type."""
        keys = state_keys(case)
        allowed = allowed_types(case, self.offer_bands)
        prior = self._prior(keys, allowed)
        result: dict[str, tuple[float, float]] = {}
        for t in allowed:
            mean, weight, coarser_n = prior[t], SMOOTHING, 0.0
            # From the coarsest state to the finest: each level's data pull the estimate
            # from the coarser one, which counts as SMOOTHING observations. A finer level
            # holding the same observations as the coarser one adds nothing and is skipped,
            # so one observation is never counted once per level.
            for key in reversed(keys):
                reward, n = self.stats.get(key, {}).get(t, (0.0, 0.0))
                if n and n != coarser_n:
                    mean = (reward + SMOOTHING * mean) / (n + SMOOTHING)
                    weight, coarser_n = n + SMOOTHING, n
            result[t] = (mean, weight)
        return result

    def choose(self, case: Mapping[str, Any], rng: random.Random | None = None) -> Choice:
        """The best type by smoothed rate, or by a Thompson draw when `rng` is given."""
        post = self.posterior(case)
        rates = {t: round(m, 4) for t, (m, _) in post.items()}
        if rng is None:
            scores = dict(rates)
            how = "best smoothed outcome rate"
        else:
            scores = {}
            for t, (m, w) in post.items():
                # Rewards can be negative (opt-outs): draw on the range mapped onto [0, 1];
                # the map keeps the order, and only the order of the draws matters.
                unit = (m - REWARD_LOW) / (REWARD_HIGH - REWARD_LOW)
                scores[t] = rng.betavariate(max(unit * w, 1e-3), max((1 - unit) * w, 1e-3))
            how = "Thompson draw"
        # Ties go to the vocabulary's order, so the answer never depends on dict order.
        best = max(post, key=lambda t: (scores[t], -MESSAGE_TYPES.index(t)))
        seen = self.stats.get(state_keys(case)[0], {}).get(best, (0.0, 0.0))[1]
        why = f"{how}: {best} {rates[best]:.2f} ({int(seen)} logged in this state)"
        return Choice(best, rates, why)

    def evidence(self, case: Mapping[str, Any]) -> dict[str, Any]:
        """What worked before for similar shoppers: rates, counts and a few logged examples."""
        keys = state_keys(case)
        rates = {}
        for t, (mean, _) in sorted(self.posterior(case).items(), key=lambda kv: -kv[1][0]):
            logged = next((self.stats[k][t][1] for k in keys if t in self.stats.get(k, {})), 0)
            rates[t] = {"outcome_rate": round(mean, 3), "logged": int(logged)}
        return {
            "outcome_rates": rates,
            "examples": self.examples.get(keys[LEVELS.index("band")], []),
            "decisions_in_log": self.decisions_seen,
        }

    # --- files ------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The learned part as JSON (the prior comes from the prompt file when loading)."""
        return {
            "version": 1,
            "outcome_reward": OUTCOME_REWARD,
            "base_rate": self.base_rate,
            "decisions_seen": self.decisions_seen,
            "offer_bands": sorted(self.offer_bands),
            "stats": self.stats,
            "examples": self.examples,
        }

    def save(self, path: Path) -> None:
        """Write the policy file (atomically: a server may be reading the old one)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, prior_rows: list[dict[str, Any]]) -> LearnedPolicy:
        """Read a policy file written by `save`."""
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("version") != 1:
            raise ValueError(f"{path}: unknown policy file version {raw.get('version')!r}")
        return cls(
            prior_rows,
            stats={k: {t: list(v) for t, v in cell.items()} for k, cell in raw["stats"].items()},
            examples=raw.get("examples", {}),
            base_rate=float(raw["base_rate"]),
            decisions_seen=int(raw["decisions_seen"]),
            offer_bands=frozenset(raw.get("offer_bands", ["medium"])),
        )


def policy_path() -> Path:
    """Where the policy file lives: `$TEXTCART_NEXT_MESSAGE_POLICY`, else in the data dir."""
    return settings.current().next_message_policy or data_dir() / "policy" / "next_message.json"


PROPENSITY_DRAWS = 400


def choice_probabilities(
    policy: NextMessagePolicy, case: Mapping[str, Any], explore_rate: float
) -> dict[str, float]:
    """How likely `policy` is to send each type in `case` at this exploration rate.

    Exploiting is deterministic; a Thompson draw's chances are estimated from a fixed
    number of seeded draws (the same case always gets the same estimate). The logged
    probability of what was sent is what an offline replay divides by.
    """
    greedy = policy.choose(case, None).message_type
    if explore_rate <= 0:
        return {greedy: 1.0}
    rng = random.Random("|".join(state_keys(case)))
    drawn = Counter(policy.choose(case, rng).message_type for _ in range(PROPENSITY_DRAWS))
    chances = {t: explore_rate * n / PROPENSITY_DRAWS for t, n in drawn.items()}
    chances[greedy] = chances.get(greedy, 0.0) + (1 - explore_rate)
    return chances
