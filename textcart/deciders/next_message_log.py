"""Turn the message log into decisions to learn from: state, message type, reward.

Each outbound reply in a shopper's log carries the decisions behind it (intent,
buy-likelihood, next message) and the outcomes recorded later. The state the decider saw
is rebuilt from the log as the graph builds it: the type of the message sent before it,
and how many texts the shopper had sent before the one it answers.
"""

from __future__ import annotations

from typing import Any

from langgraph.store.base import BaseStore

from textcart.deciders.next_message_policy import (
    OPT_OUT_BLAME_DECAY,
    OUTCOME_REWARD,
    PURCHASE_CREDIT_DECAY,
    LoggedDecision,
)
from textcart.tools.outcomes import shopper_ids
from textcart.tools.shopper_store import ShopperStore
from textcart.vocabulary.labels import MESSAGE_TYPES, likelihood_band


def _best_outcome(entry: dict[str, Any]) -> str:
    found = [o.get("outcome") for o in entry.get("outcomes", [])]
    known = [o for o in found if o in OUTCOME_REWARD]
    if "opted_out" in known:
        return "opted_out"
    return max(known, key=lambda o: OUTCOME_REWARD[o], default="no_response")


def decisions_from_log(log: list[dict[str, Any]]) -> list[LoggedDecision]:
    """The next-message decisions in one shopper's log (oldest first), with rewards.

    Compliance replies and proactive sends the rules chose are left out; proactive sends
    the policy chose (`policy_decided`) are kept.
    A purchase credits the message it answered in full and earlier replies in the same
    conversation by half per step back; the message a shopper opted out after costs what a
    purchase earns, and the replies before it share the blame, halving per step back:
    shoppers rarely leave over one text, they leave over the pushing that built up.
    """
    texts = {m["message_id"]: m.get("text") for m in log if m.get("direction") == "inbound"}
    inbound_seen, last_type = 0, None
    rows: list[tuple[dict[str, Any], str, str | None, str, float | None]] = []
    for entry in log:
        if entry.get("direction") == "inbound":
            inbound_seen += 1
            continue
        if entry.get("direction") != "outbound":
            continue
        message_type = entry.get("message_type")
        deciders = entry.get("deciders") or {}
        if (
            message_type in MESSAGE_TYPES
            and (not entry.get("proactive") or entry.get("policy_decided"))
            and "intent" in deciders
            and "buy_likelihood" in deciders
        ):
            case = {
                "intent": deciders["intent"]["value"],
                "buy_likelihood_band": likelihood_band(float(deciders["buy_likelihood"]["value"])),
                "last_message_type": last_type,
                # The inbound text this answers was logged before its reply.
                "turns_so_far": max(inbound_seen - 1, 0),
                "has_products": bool(entry.get("product_ids")),
            }
            said = texts.get(entry.get("in_reply_to") or "")
            logged = deciders.get("next_message", {}).get("propensity")
            rows.append((case, message_type, said, _best_outcome(entry), logged))
        last_type = message_type
    rewards = [OUTCOME_REWARD[row[3]] for row in rows]
    bought = [i for i, row in enumerate(rows) if row[3] == "purchased"]
    left = [i for i, row in enumerate(rows) if row[3] == "opted_out"]
    for i in range(len(rows)):
        later = [j - i for j in bought if j > i]
        if later:
            rewards[i] = max(rewards[i], PURCHASE_CREDIT_DECAY ** min(later))
        before_leaving = [j - i for j in left if j > i]
        if before_leaving:
            rewards[i] += OUTCOME_REWARD["opted_out"] * OPT_OUT_BLAME_DECAY ** min(before_leaving)
    return [
        LoggedDecision(case, message_type, reward, said, outcome, propensity)
        for (case, message_type, said, outcome, propensity), reward in zip(
            rows, rewards, strict=True
        )
    ]


async def read_decisions_by_shopper(store: BaseStore) -> dict[str, list[LoggedDecision]]:
    """Every learnable next-message decision in the store's message logs, per shopper."""
    shoppers = ShopperStore(store)
    return {
        shopper_id: decisions_from_log(await shoppers.messages(shopper_id, limit=10_000))
        for shopper_id in await shopper_ids(store)
    }


async def read_decisions(store: BaseStore) -> list[LoggedDecision]:
    """Every learnable next-message decision in the store's message logs."""
    by_shopper = await read_decisions_by_shopper(store)
    return [d for decisions in by_shopper.values() for d in decisions]
