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
│                              guard_outbound ──(draft refused)──> rewrite_draft
│                                    │              (the model's one retry, else the template)
│                                    ▼                                   │
└──(STOP / HELP / opted out)──> send_and_log <──────────────────────────┘
                                     │
                                    END
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from textcart.graph import nodes
from textcart.graph.context import Context
from textcart.graph.services import Services, default_services
from textcart.graph.state import TurnInput, TurnState
from textcart.vocabulary.labels import MESSAGE_TYPES

# Where a graph's nodes get their services: the ones it was built with, or a provider (the
# served graph's `default_services`, built when the server starts rather than on import).
ServicesSource = Services | Callable[[], Awaitable[Services]]


def _given(services: ServicesSource, node: Callable[..., Any]) -> Any:
    """`node` with its `services` argument supplied, if it takes one: nodes never fetch them.

    `functools.wraps` keeps the node's name, signature and return type, from which LangGraph
    injects `runtime` and draws a `Command` node's edges in Studio.
    """
    if "services" not in inspect.signature(node).parameters:
        return node

    @functools.wraps(node)
    async def step(state: TurnState, **injected: Any) -> Any:
        given = services if isinstance(services, Services) else await services()
        return await node(state, services=given, **injected)

    return step


def build_graph(services: ServicesSource) -> StateGraph[TurnState, Context, TurnInput, TurnState]:
    """Wire the nodes over `services`; compile with a checkpointer and a store (or serve)."""
    graph = StateGraph(TurnState, context_schema=Context, input_schema=TurnInput)

    def add(name: str, node: Callable[..., Any]) -> None:
        graph.add_node(name, _given(services, node))

    add("load_context", nodes.load_context)
    add("compliance_gate", nodes.compliance_gate)
    add("classify_intent", nodes.classify_intent)
    add("score_buy_likelihood", nodes.score_buy_likelihood)
    add("pick_tone", nodes.pick_tone)
    add("retrieve_products", nodes.retrieve_products)
    add("assess_fit", nodes.assess_fit)
    add("find_answer", nodes.find_answer)
    add("choose_next_message", nodes.choose_next_message)
    for message_type in MESSAGE_TYPES:
        add(message_type, getattr(nodes, message_type))
    add("human_review", nodes.human_review)
    add("guard_outbound", nodes.guard_outbound)
    add("rewrite_draft", nodes.rewrite_draft)
    add("send_and_log", nodes.send_and_log)

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
    # guard_outbound routes itself (Command): a refused draft to rewrite_draft, else out.
    graph.add_edge("rewrite_draft", "send_and_log")
    graph.add_edge("send_and_log", END)
    return graph


def compile_graph(
    services: ServicesSource, **kwargs: Any
) -> CompiledStateGraph[TurnState, Context, TurnInput, TurnState]:
    """Compile with a name Studio shows; kwargs go to `compile` (checkpointer, store)."""
    return build_graph(services).compile(name="textcart", **kwargs)


# What `langgraph.json` serves: the server supplies the checkpointer and the store, and its
# lifespan builds the default services (and starts Weaviate and the models) before a turn.
graph = compile_graph(default_services)
