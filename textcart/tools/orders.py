"""Order lookups: the store's order system, behind one small interface.

The file book reads a store folder's orders file (the demo's); a real store's orders come
from Shopify (`textcart.tools.shopify`: webhooks and the Admin API), looked up first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

from textcart.tools.shopper_store import shopper_id_for_phone


@dataclass(frozen=True)
class Order:
    """One order as the agent may talk about it."""

    order_id: str
    shopper_id: str
    status: str
    item_ids: tuple[str, ...]
    carrier: str | None
    tracking: str | None
    eta_days: int | None
    delivered_days_ago: int | None = None

    def status_line(self) -> str:
        """One sentence about where the order is, built only from order data."""
        line = f"Order {self.order_id} is {self.status}"
        if self.status == "delivered" and self.delivered_days_ago is not None:
            ago = self.delivered_days_ago
            line = f"Order {self.order_id} was delivered {ago} day{'s' if ago != 1 else ''} ago"
        if self.status == "shipped" and self.carrier:
            line += f" with {self.carrier}"
            if self.tracking:
                line += f" (tracking {self.tracking})"
        if self.status in ("processing", "shipped") and self.eta_days is not None:
            line += f", expected in {self.eta_days} day{'s' if self.eta_days != 1 else ''}"
        return line + "."


class OrderBook(Protocol):
    """What the agent needs from an order system."""

    def latest_for(self, shopper_id: str) -> Order | None:
        """The shopper's most recent order, or None."""
        ...

    def orders_for(self, shopper_id: str) -> list[Order]:
        """Every order of the shopper on file, the most recent first."""
        ...


class FileOrderBook:
    """Orders read from a YAML file (the demo store's `orders.yaml`)."""

    def __init__(self, path: Path) -> None:
        """Load and index the orders in `path`."""
        raw = yaml.safe_load(path.read_text()) or []
        rows = raw.get("orders", raw) if isinstance(raw, dict) else raw
        self._by_shopper: dict[str, list[tuple[int, Order]]] = {}
        for row in rows:
            order = Order(
                order_id=str(row["order_id"]),
                shopper_id=shopper_id_for_phone(str(row["phone"])),
                status=str(row["status"]),
                item_ids=tuple(str(i["product_id"]) for i in row.get("items", [])),
                carrier=row.get("carrier"),
                tracking=row.get("tracking"),
                eta_days=row.get("eta_days"),
                delivered_days_ago=row.get("delivered_days_ago"),
            )
            age = int(row.get("placed_days_ago", 0))
            self._by_shopper.setdefault(order.shopper_id, []).append((age, order))

    def latest_for(self, shopper_id: str) -> Order | None:
        """The shopper's most recently placed order, or None."""
        orders = self._by_shopper.get(shopper_id)
        return min(orders, key=lambda pair: pair[0])[1] if orders else None

    def orders_for(self, shopper_id: str) -> list[Order]:
        """Every order of the shopper, the most recently placed first."""
        orders = self._by_shopper.get(shopper_id, [])
        return [order for _, order in sorted(orders, key=lambda pair: pair[0])]


class OneOrder:
    """Orders already looked up (asynchronously) for one shopper, as an `OrderBook`.

    `order` is their latest; `earlier` their other orders on file, the most recent first
    ("can i swap the boots i got last month?" may be about one of those).
    """

    def __init__(self, shopper_id: str, order: Order | None, earlier: Sequence[Order] = ()) -> None:
        """Answer `order` (and `earlier`) for `shopper_id`, nothing for anyone else."""
        self.shopper_id, self.order = shopper_id, order
        self.earlier = tuple(o for o in earlier if order is None or o.order_id != order.order_id)

    def latest_for(self, shopper_id: str) -> Order | None:
        """The order looked up, if it is this shopper's."""
        return self.order if shopper_id == self.shopper_id else None

    def orders_for(self, shopper_id: str) -> list[Order]:
        """The latest order, then the earlier ones, if they are this shopper's."""
        if shopper_id != self.shopper_id:
            return []
        return [*([self.order] if self.order is not None else []), *self.earlier]


class NoOrders:
    """A store folder without an order book: every lookup finds nothing."""

    def latest_for(self, shopper_id: str) -> Order | None:
        """Always None."""
        return None

    def orders_for(self, shopper_id: str) -> list[Order]:
        """Always empty."""
        return []
