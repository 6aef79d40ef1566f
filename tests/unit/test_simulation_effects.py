"""Shoppers who can disagree: a baseline to buy anyway, and hidden effects, some negative."""

from __future__ import annotations

from textcart.simulation.effects import MEAN_EFFECT, HiddenResponse
from textcart.simulation.personas import make_population


def test_hidden_responses_are_seeded_and_can_hurt() -> None:
    people = make_population(300, seed=5)
    drawn = [HiddenResponse.of(p, 5) for p in people]
    assert drawn == [HiddenResponse.of(p, 5) for p in people]
    assert drawn != [HiddenResponse.of(p, 6) for p in people]
    # Everyone might buy without a text, and every texted type hurts someone.
    assert all(0 < h.baseline < 1 for h in drawn)
    for message_type in MEAN_EFFECT:
        effects = [h.effects[message_type] for h in drawn]
        if message_type == "no_reply":
            assert set(effects) == {0.0}
        else:
            assert min(effects) < 0 < max(effects), message_type
    # A cart makes buying anyway likelier, and a nudge helps carts more than browsers.
    carts = [h for p, h in zip(people, drawn, strict=True) if p.in_cart]
    browsers = [h for p, h in zip(people, drawn, strict=True) if not p.in_cart]
    mean = lambda xs: sum(xs) / len(xs)  # noqa: E731
    assert mean([h.baseline for h in carts]) > mean([h.baseline for h in browsers])
    assert mean([h.effects["nudge_checkout"] for h in carts]) > mean(
        [h.effects["nudge_checkout"] for h in browsers]
    )


def test_buy_probability_stays_a_probability() -> None:
    hidden = HiddenResponse(0.05, {"nudge_checkout": -0.2, "send_offer": 2.0})
    assert hidden.buy_probability(None) == 0.05
    assert hidden.buy_probability("nudge_checkout") == 0.0
    assert hidden.buy_probability("send_offer") == 1.0
    assert hidden.buy_probability("ask_clarifying") == 0.05
