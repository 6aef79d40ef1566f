"""Answers about a shopper's orders, around the answer rules.

Which orders a turn can see, how an order answer is sent, and what the evaluation holds
it to.
"""

from __future__ import annotations

from dataclasses import replace

from langgraph.store.memory import InMemoryStore

from textcart.demo_store.loader import demo_dir
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
