"""Answers about a shopper's orders, around the answer rules.

Which orders a turn can see, how an order answer is sent, and what the evaluation holds
it to.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from langgraph.store.memory import InMemoryStore

from textcart.demo_store.loader import demo_dir
from textcart.evaluation.answers import turn_evidence, unbacked_claims
from textcart.graph.context import Context
from textcart.graph.nodes.messages import _policy_check
from textcart.graph.services import Services
from textcart.tools.orders import FileOrderBook, NoOrders, OneOrder
from textcart.tools.shopify import WebhookOrders
from textcart.tools.shopper_store import shopper_id_for_phone

LUIS = shopper_id_for_phone("+12065550156")


def test_the_order_file_keeps_every_order_of_a_shopper_newest_first() -> None:
    book = FileOrderBook(demo_dir() / "orders.yaml")
    assert [o.order_id for o in book.orders_for(LUIS)] == ["TO-100517", "TO-100388"]
    latest = book.latest_for(LUIS)
    assert latest is not None and latest.order_id == "TO-100517"
    assert NoOrders().orders_for(LUIS) == []
    one = OneOrder(LUIS, latest, book.orders_for(LUIS))
    assert [o.order_id for o in one.orders_for(LUIS)] == ["TO-100517", "TO-100388"]
    assert one.orders_for("someone else") == []


async def test_a_turn_sees_earlier_orders_from_the_webhooks_and_the_file(
    services: Services,
) -> None:
    store = InMemoryStore()
    kept = {"order_id": "#9", "status": "processing", "placed_at": "2026-11-30T10:00:00+00:00"}
    older = {**kept, "order_id": "#8", "status": "delivered", "placed_at": "2026-10-01"}
    await WebhookOrders(store).save(LUIS, older)
    await WebhookOrders(store).save(LUIS, kept)
    book = replace(services, orders=FileOrderBook(demo_dir() / "orders.yaml"))
    latest, earlier = await book.orders_for(store, LUIS)
    assert latest is not None and latest.order_id == "#9"
    assert [o.order_id for o in earlier] == ["#8", "TO-100517", "TO-100388"]
    # The latest is the same one `order_for` finds.
    found = await book.order_for(store, LUIS)
    assert found is not None and found.order_id == "#9"
    latest, earlier = await book.orders_for(None, LUIS)
    assert latest is not None and latest.order_id == "TO-100517"
    assert [o.order_id for o in earlier] == ["TO-100388"]


def _answer(kind: str, status: str = "info") -> dict[str, Any]:
    return {
        "kind": kind,
        "status": status,
        "text": "Order TO-1 has shipped.",
        "product_id": None,
        "product_title": None,
        "price": None,
        "link": None,
        "sources": ["order:TO-1"],
        "facts": [],
        "scarcity": None,
    }


def test_an_answer_about_their_order_is_sent_as_order_help() -> None:
    products = [{"id": "P", "title": "Shorts"}]
    for choice in ("nudge_checkout", "recommend_products", "send_offer"):
        state: Any = {"answer": _answer("order_status"), "products": products}
        sent, why = _policy_check(choice, state, Context())
        assert sent == "order_help" and why is not None and "order" in why
    # A hand-off or a plain answer stays as chosen; so does a product answer.
    state = {"answer": _answer("order_return"), "products": products}
    assert _policy_check("handoff_to_human", state, Context())[0] == "handoff_to_human"
    state = {"answer": _answer("availability"), "products": products}
    assert _policy_check("nudge_checkout", state, Context())[0] == "nudge_checkout"


def test_the_evaluation_holds_an_answer_to_the_order_it_cites(services: Services) -> None:
    """The boots bought last month are in an earlier order: its days and id back the reply."""
    book = FileOrderBook(demo_dir() / "orders.yaml")
    state: Any = {
        "shopper_id": LUIS,
        "answer": {**_answer("order_return"), "sources": ["order:TO-100388"]},
        "outbound": {"message_type": "order_help"},
    }
    evidence = turn_evidence(state, {}, services.knowledge, book, "Trailhead").text()
    reply = "Yes: order TO-100388 was delivered 36 days ago, so it's inside our 60-day window."
    assert unbacked_claims(reply, evidence, "") == []
    assert "100388" in evidence and "100517" in evidence
    # An order the answer does not cite backs nothing.
    state["answer"]["sources"] = []
    state["outbound"] = None
    assert "100388" not in turn_evidence(state, {}, services.knowledge, book, "T").text()
