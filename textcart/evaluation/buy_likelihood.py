"""Buy-likelihood evaluation on web sessions: map each into `Behaviour`, score, measure.

The sessions are rows of the UCI Online Shoppers Purchasing Intention columns, with
`Revenue` (the session ended in a purchase) as the label. The deciders only ever see a
`Behaviour`, the features the live graph computes from a shopper's events
(`behaviour_features` in `textcart/tools/shopper_store.py`), so each session is mapped
into one first. How each UCI column is used:

- `ProductRelated` → `product_views_7d`: product pages seen, as the live store counts
  `viewed` events; also `distinct_products_viewed_7d`, an upper bound (UCI does not say
  which products).
- `PageValues` → `cart_adds_7d` = 1 when above 0, and `checkout_started_7d` when at least
  20: a proxy, see below.
- `VisitorType` → `sessions_7d`: 2 for `Returning_Visitor` (this visit and an earlier
  one), else 1.
- `Month` → `month`, `Weekend` → `weekend`: the live graph reads both off the turn's
  clock (`now` in `behaviour_features`; the turn's `received_at`). Sessions without a
  month (a blank, or a file without the column) leave `month` out.
- `SpecialDay` → `gift_holiday_closeness`, as is: UCI's closeness (0 to 1) of the visit to
  a gift holiday, peaking about a delivery time before it. The live graph computes the
  same from the turn's date and a fixed calendar of the two holidays this data marks,
  Valentine's Day and Mother's Day (`gift_holiday_closeness` in
  `textcart/tools/shopper_store.py`).
- nothing → `minutes_since_last_activity` = 0 (a session is scored as it ends),
  `purchases_90d` = 0 and `returning_customer` = False (UCI does not say who bought
  before: a returning visitor is not a returning customer).

`PageValues` is Google Analytics' average value of the pages a session saw, where a page
earns value by being seen before purchases; the pages seen before nearly every purchase
are the cart and checkout steps, so a session with page value reached the purchase funnel
and a high one spent its time deep in it. The live graph has no page values, but it does
see the funnel itself (cart adds, checkout started), so the mapping reads page value as
evidence of those two events. That is an assumption about what the number means, not an
observation: `page_values=False` (`--no-page-values`) leaves both at zero and shows what
the columns the live graph observes directly are worth on their own.

The calendar columns add about 0.03 to 0.04 ROC AUC here (cross-validated). They are seasonality
learnt from one shop's single year (the file has no January or April sessions, whose
month the model then treats as unknown), so a shop with another calendar should refit.

Not used: the durations, which the live store could measure from the gaps between a
shopper's view events, but which add nothing here (changes under 0.002 ROC AUC, with or
without the calendar) once views and the funnel are known, so `Behaviour` does not carry
them; and, because the live graph has nothing like them,
`Administrative`/`Informational` pages (the store logs product views only),
`BounceRates`/`ExitRates` (site-wide statistics of the pages) and the browser, operating
system, region and traffic-source codes (an SMS shopper has none).

Blank counts are read as 0 (the public file has a few such rows); anything else that is
not a number is an error. A session whose LLM call failed is scored 0.5: it ranks in the
middle and costs a quarter in the Brier score, so a failing model cannot look good.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from textcart.deciders.buy_likelihood import ClassicBuyLikelihood
from textcart.vocabulary.outputs import BuyLikelihoodResult
from textcart.vocabulary.records import Behaviour

REQUIRED_COLUMNS = ("ProductRelated", "PageValues", "VisitorType", "Revenue")
# Above this page value a session is taken to have started checkout: the cart and checkout
# pages carry the highest values. Round, and in the flat part of the curve (10 to 30 give
# the same ROC AUC within 0.002 on the public file).
CHECKOUT_PAGE_VALUE = 20.0
FAILED_PROBABILITY = 0.5
CALIBRATION_BINS = 10
# UCI spells June out in full and the other months in three letters; accept either.
_MONTHS = {
    name: number
    for number, month in enumerate(
        ("jan", "feb", "mar", "apr", "may", "june", "july", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
    for name in {month, month[:3]}
}
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no"}


class SessionDataError(ValueError):
    """The sessions file cannot be evaluated as it is."""


@dataclass(frozen=True)
class Session:
    """The UCI columns the mapping reads, for one session."""

    product_pages: int
    page_value: float
    returning_visitor: bool
    month: int | None = None
    weekend: bool = False
    special_day: float = 0.0


@dataclass(frozen=True)
class LabelledSessions:
    """Sessions with whether each ended in a purchase, in file order."""

    sessions: list[Session]
    bought: list[bool]
    blank_rows: int = 0

    def first(self, n: int | None) -> LabelledSessions:
        """The first `n` sessions (all of them when `n` is None)."""
        if n is None:
            return self
        return LabelledSessions(self.sessions[:n], self.bought[:n], self.blank_rows)


def _number(raw: str | None, column: str, line: int, path: Path) -> float:
    text = (raw or "").strip()
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise SessionDataError(
            f"{path}, line {line}: {column} must be a number, not {text[:40]!r}"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise SessionDataError(
            f"{path}, line {line}: {column} must be a number ≥ 0, not {text[:40]!r}"
        )
    return value


def _bought(raw: str | None, line: int, path: Path) -> bool:
    text = (raw or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SessionDataError(
        f"{path}, line {line}: Revenue must be True or False, not {(raw or '')[:40]!r}"
    )


def _month(raw: str | None, line: int, path: Path) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    if text.lower() not in _MONTHS:
        raise SessionDataError(f"{path}, line {line}: Month must be a month, not {text[:40]!r}")
    return _MONTHS[text.lower()]


def read_sessions(path: Path) -> LabelledSessions:
    """Read a CSV with the UCI Online Shoppers columns (those not mapped are ignored)."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SessionDataError(
                f"{path} lacks the column(s) {', '.join(missing)}; expected the UCI Online "
                f"Shoppers columns, at least {', '.join(REQUIRED_COLUMNS)}"
            )
        sessions, bought, blank_rows = [], [], 0
        # Line 1 is the header, so the first session is on line 2.
        for line, row in enumerate(reader, start=2):
            pages = _number(row["ProductRelated"], "ProductRelated", line, path)
            value = _number(row["PageValues"], "PageValues", line, path)
            blank_rows += any(not (row[c] or "").strip() for c in ("ProductRelated", "PageValues"))
            sessions.append(
                Session(
                    product_pages=round(pages),
                    page_value=value,
                    returning_visitor=(row["VisitorType"] or "").strip() == "Returning_Visitor",
                    month=_month(row.get("Month"), line, path),
                    weekend=(row.get("Weekend") or "").strip().lower() in _TRUE,
                    special_day=min(_number(row.get("SpecialDay"), "SpecialDay", line, path), 1),
                )
            )
            bought.append(_bought(row["Revenue"], line, path))
    if not sessions:
        raise SessionDataError(f"{path} has no sessions")
    return LabelledSessions(sessions, bought, blank_rows)


def session_behaviour(session: Session, *, page_values: bool = True) -> Behaviour:
    """The `Behaviour` the live graph would have computed for this session (see above)."""
    funnel = page_values and session.page_value > 0
    behaviour = Behaviour(
        product_views_7d=session.product_pages,
        distinct_products_viewed_7d=session.product_pages,
        cart_adds_7d=1 if funnel else 0,
        checkout_started_7d=page_values and session.page_value >= CHECKOUT_PAGE_VALUE,
        purchases_90d=0,
        sessions_7d=2 if session.returning_visitor else 1,
        minutes_since_last_activity=0.0,
        returning_customer=False,
        weekend=session.weekend,
        gift_holiday_closeness=session.special_day,
    )
    if session.month is not None:
        behaviour["month"] = session.month
    return behaviour


def behaviours(data: LabelledSessions, *, page_values: bool = True) -> list[Behaviour]:
    """Every session mapped into `Behaviour`."""
    return [session_behaviour(s, page_values=page_values) for s in data.sessions]


# --- Metrics ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CalibrationBin:
    """Sessions whose predicted probability fell in [low, high): predicted vs observed."""

    low: float
    high: float
    n: int
    mean_predicted: float | None
    observed_rate: float | None


def _check(bought: Sequence[bool], probabilities: Sequence[float]) -> None:
    if len(bought) != len(probabilities) or not bought:
        raise ValueError("need the same, non-zero number of labels and probabilities")


def roc_auc(bought: Sequence[bool], probabilities: Sequence[float]) -> float:
    """Chance that a random buyer is scored above a random non-buyer (ties count half)."""
    _check(bought, probabilities)
    if len(set(bought)) < 2:
        raise SessionDataError(
            f"ROC AUC needs buyers and non-buyers; all {len(bought)} sessions evaluated are "
            f"{'buyers' if bought[0] else 'non-buyers'} (evaluate more sessions)"
        )
    return float(roc_auc_score(np.array(bought, dtype=int), np.array(probabilities)))


def brier(bought: Sequence[bool], probabilities: Sequence[float]) -> float:
    """Mean squared difference between the probability and the outcome (0 is perfect)."""
    _check(bought, probabilities)
    return float(brier_score_loss(np.array(bought, dtype=int), np.array(probabilities)))


def calibration_table(
    bought: Sequence[bool], probabilities: Sequence[float], bins: int = CALIBRATION_BINS
) -> list[CalibrationBin]:
    """Equal-width probability bins (the last one includes 1.0), empty bins included."""
    _check(bought, probabilities)
    p = np.clip(np.array(probabilities, dtype=float), 0.0, 1.0)
    y = np.array(bought, dtype=float)
    index = np.minimum((p * bins).astype(int), bins - 1)
    table = []
    for i in range(bins):
        members = index == i
        n = int(members.sum())
        table.append(
            CalibrationBin(
                low=round(i / bins, 6),
                high=round((i + 1) / bins, 6),
                n=n,
                mean_predicted=float(p[members].mean()) if n else None,
                observed_rate=float(y[members].mean()) if n else None,
            )
        )
    return table


@dataclass(frozen=True)
class BuyLikelihoodScores:
    """Everything the report shows about one decider's probabilities."""

    n: int
    buyers: int
    roc_auc: float
    brier: float
    failures: int
    calibration: list[CalibrationBin]

    def summary(self) -> dict[str, object]:
        """The scores as plain JSON-ready data."""
        return {
            "n": self.n,
            "buyers": self.buyers,
            "base_rate": round(self.buyers / self.n, 4),
            "roc_auc": round(self.roc_auc, 4),
            "brier": round(self.brier, 4),
            "failures": self.failures,
            "calibration": [
                {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(b).items()}
                for b in self.calibration
            ],
        }


def score(
    bought: Sequence[bool], probabilities: Sequence[float], failures: int = 0
) -> BuyLikelihoodScores:
    """All metrics of the probabilities against what the sessions did."""
    return BuyLikelihoodScores(
        n=len(bought),
        buyers=sum(bought),
        roc_auc=roc_auc(bought, probabilities),
        brier=brier(bought, probabilities),
        failures=failures,
        calibration=calibration_table(bought, probabilities),
    )


# --- Deciders ---------------------------------------------------------------------------


def fit_model(data: LabelledSessions, *, page_values: bool = True) -> Pipeline:
    """The classic decider's pipeline fit on labelled sessions (the "real model")."""
    return ClassicBuyLikelihood.fit(behaviours(data, page_values=page_values), data.bought)


def classic_probabilities(
    data: LabelledSessions, model: Pipeline | None = None, *, page_values: bool = True
) -> list[float]:
    """Probabilities from `ClassicBuyLikelihood`: its prompt-example fit unless one is given.

    Scored as one batch rather than through `decide`, one at a time; the model, and so
    each probability, is the same.
    """
    decider = ClassicBuyLikelihood(model)
    x = np.array([decider.features(b) for b in behaviours(data, page_values=page_values)])
    return [float(p) for p in decider.model.predict_proba(x)[:, 1]]


def cross_validated_probabilities(
    data: LabelledSessions, *, folds: int = 5, seed: int = 0, page_values: bool = True
) -> list[float]:
    """Each session scored by a model fit on the other folds (stratified, seeded).

    This is how to measure a fit when there is one labelled file: no session is scored
    by a model that saw it.
    """
    if min(sum(data.bought), len(data.bought) - sum(data.bought)) < folds:
        raise SessionDataError(
            f"{folds}-fold cross-validation needs at least {folds} buyers and {folds} "
            f"non-buyers; the data has {sum(data.bought)} and "
            f"{len(data.bought) - sum(data.bought)}"
        )
    mapped = behaviours(data, page_values=page_values)
    y = np.array(data.bought, dtype=bool)
    probabilities = np.zeros(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(mapped, y):
        decider = ClassicBuyLikelihood(
            ClassicBuyLikelihood.fit([mapped[i] for i in train], y[train].tolist())
        )
        x = np.array([decider.features(mapped[i]) for i in test])
        probabilities[test] = decider.model.predict_proba(x)[:, 1]
    return [float(p) for p in probabilities]


BuyLikelihoodCall = Callable[[Behaviour], Awaitable[BuyLikelihoodResult]]


async def llm_probabilities(
    decide: BuyLikelihoodCall,
    sessions: Sequence[Behaviour],
    on_session: Callable[[], None] = lambda: None,
) -> tuple[list[float], list[str]]:
    """Ask `decide` about each session in turn: (probabilities, one line per failure).

    Calls are sequential so that a single local model server is not queued up and the
    per-call time budget measures the model, not the queue. A call that raises gives
    `FAILED_PROBABILITY`.
    """
    probabilities: list[float] = []
    failures: list[str] = []
    for i, behaviour in enumerate(sessions):
        try:
            probabilities.append((await decide(behaviour)).probability)
        except Exception as exc:  # noqa: BLE001 - any failure of the model is a wrong answer
            probabilities.append(FAILED_PROBABILITY)
            failures.append(f"session {i + 1}: {type(exc).__name__}: {str(exc)[:200]}")
        on_session()
    return probabilities, failures
