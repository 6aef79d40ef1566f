"""Which shoppers are held out of proactive texts, and which wording variant each one gets.

Both are deterministic draws per shopper.

The draw hashes the shopper with the experiment's name, so a shopper stays in the same
arm for every trigger of one experiment (their outcomes are not split between arms) and a
new experiment draws afresh. It is made only for triggers that passed consent, the send
window and the cap, so both arms hold only texts that could have been sent.
"""

from __future__ import annotations

import hashlib


def holdout_draw(shopper_id: str, experiment: str) -> float:
    """The shopper's uniform draw in [0, 1) for this experiment."""
    digest = hashlib.sha256(f"holdout:{experiment}:{shopper_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_held_out(shopper_id: str, experiment: str, share: float) -> bool:
    """True when the shopper falls in the held-out share of this experiment."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the holdout share must be between 0 and 1, not {share}")
    return holdout_draw(shopper_id, experiment) < share


VARIANTS: tuple[str, ...] = ("A", "B")


def wording_variant(shopper_id: str, message_type: str) -> str:
    """The wording variant (A or B) a shopper gets for one message type, always the same."""
    draw = holdout_draw(shopper_id, f"wording:{message_type}")
    return VARIANTS[int(draw * len(VARIANTS))]
