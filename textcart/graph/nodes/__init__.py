"""The nodes of the conversation graph, one module per stage of a turn.

* `gate`: load the shopper, then the deterministic compliance gate.
* `understand`: intent, buy-likelihood and tone (run in parallel).
* `products`: retrieval, fit and the answer from evidence.
* `messages`: the LLM-decided edge and one writer per message type, and the human review.
* `deliver`: the output guard, the rewrite of a draft it refused, and sending.

Each node is a thin step: the rules it applies live in `textcart.rules` (consent, grounding,
offers, references, needs), the decisions in `textcart.deciders`. `graph/builder.py` wires
the names below.
"""

from textcart.graph.nodes.deliver import guard_outbound, rewrite_draft, send_and_log
from textcart.graph.nodes.gate import compliance_gate, load_context
from textcart.graph.nodes.messages import (
    answer_question,
    ask_clarifying,
    choose_next_message,
    handoff_to_human,
    human_review,
    no_reply,
    nudge_checkout,
    order_help,
    recommend_products,
    send_offer,
)
from textcart.graph.nodes.products import assess_fit, find_answer, retrieve_products
from textcart.graph.nodes.understand import classify_intent, pick_tone, score_buy_likelihood

__all__ = [
    "load_context",
    "compliance_gate",
    "classify_intent",
    "score_buy_likelihood",
    "pick_tone",
    "retrieve_products",
    "assess_fit",
    "find_answer",
    "choose_next_message",
    "answer_question",
    "recommend_products",
    "send_offer",
    "nudge_checkout",
    "order_help",
    "handoff_to_human",
    "human_review",
    "ask_clarifying",
    "no_reply",
    "guard_outbound",
    "rewrite_draft",
    "send_and_log",
]
