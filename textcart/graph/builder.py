"""The whole conversation graph on one page.

load_context -> compliance_gate ─┬─> classify_intent ──────┐
│           ├─> score_buy_likelihood ─┼─> retrieve_products
│           └─> pick_tone ────────────┘          │
│                                     ┌─────────┴──────────┐
│                                assess_fit           find_answer  (what was asked,
│                                     └─────────┬──────────┘        from evidence)
│                                   choose_next_message  (LLM-decided edge)
│        ┌──────────┬──────────┬─────────┬───────┼──────┬─────────┬────────┐
│     answer  recommend  send_offer  nudge  order_help handoff clarify no_reply
│        │          │          │         │       │   human_review  │        │
│        └──────────┴──────────┴────┬────┴───────┴──────┴─────────┴────────┘
│                              guard_outbound
└──(STOP / HELP / opted out)──> send_and_log -> END
"""

from __future__ import annotations

from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from textcart.graph import nodes
from textcart.graph.context import Context
from textcart.graph.state import TurnInput, TurnState
from textcart.vocabulary.labels import MESSAGE_TYPES


def build_graph() -> StateGraph[TurnState, Context, TurnInput, TurnState]:
    """Wire the nodes; compile with a checkpointer and store (or let the server do it)."""
    graph = StateGraph(TurnState, context_schema=Context, input_schema=TurnInput)
    graph.add_node("load_context", nodes.load_context)
    graph.add_node("compliance_gate", nodes.compliance_gate)
    graph.add_node("classify_intent", nodes.classify_intent)
    graph.add_node("score_buy_likelihood", nodes.score_buy_likelihood)
    graph.add_node("pick_tone", nodes.pick_tone)
    graph.add_node("retrieve_products", nodes.retrieve_products)
    graph.add_node("assess_fit", nodes.assess_fit)
    graph.add_node("find_answer", nodes.find_answer)
    graph.add_node("choose_next_message", nodes.choose_next_message)
    for message_type in MESSAGE_TYPES:
        graph.add_node(message_type, getattr(nodes, message_type))
    graph.add_node("human_review", nodes.human_review)
    graph.add_node("guard_outbound", nodes.guard_outbound)
    graph.add_node("send_and_log", nodes.send_and_log)

    graph.add_edge(START, "load_context")
    graph.add_edge("load_context", "compliance_gate")
    # compliance_gate routes itself (Command): to the three classifiers, or straight out.
    graph.add_edge(["classify_intent", "score_buy_likelihood", "pick_tone"], "retrieve_products")
    # The fit judgment and the answer both read the products found; neither needs the other.
    graph.add_edge("retrieve_products", "assess_fit")
    graph.add_edge("retrieve_products", "find_answer")
    graph.add_edge(["assess_fit", "find_answer"], "choose_next_message")
    # choose_next_message routes itself (Command) to one message node.
    for message_type in MESSAGE_TYPES:
        if message_type != "handoff_to_human":
            graph.add_edge(message_type, "guard_outbound")
    # A person may review the hand-off reply first (an interrupt, when the context asks).
    graph.add_edge("handoff_to_human", "human_review")
    graph.add_edge("human_review", "guard_outbound")
    graph.add_edge("guard_outbound", "send_and_log")
    graph.add_edge("send_and_log", END)
    return graph


def compile_graph(**kwargs: Any) -> CompiledStateGraph[TurnState, Context, TurnInput, TurnState]:
    """Compile with a name Studio shows; kwargs go to `compile` (checkpointer, store)."""
    return build_graph().compile(name="textcart", **kwargs)


# What `langgraph.json` serves: the server supplies the checkpointer and the store.
graph = compile_graph()
