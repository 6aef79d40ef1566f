"""Shopify's products CSV export, read into textcart products with their variants.

Shopify writes one row per variant (a combination of up to three options such as Color and
Size), the product's own fields on its first row, and image-only rows; rows of one product
share its `Handle`. textcart's product is one colourway of a model, so the variants of a
handle are grouped by their colour option: each colour becomes a product ("<Title> —
<Colour>", id "<handle>-<colour>", model id the handle) whose variants are its sizes, each
with its own price, compare-at price, SKU and stock. A variant is in stock when its
inventory is above zero, or untracked, or allowed to oversell. A product without a colour
option is one product (id = handle). Drafts, archived and unpublished products are skipped
with the reason, as are colours without any priced variant.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from textcart.vocabulary.products import Product, Variant

SHOPIFY_COLUMNS = frozenset({"Handle", "Title", "Variant Price"})
_COLOUR_OPTIONS = {"color", "colour", "colorway", "colourway"}
_TAG = re.compile(r"<[^>]+>")


class ShopifyRowError(ValueError):
    """A product of the export that cannot become a textcart product."""


@dataclass
class _Handle:
    """Everything the rows of one handle say."""

    handle: str
    first_line: int
    fields: dict[str, str] = field(default_factory=dict)
    variants: list[dict[str, str]] = field(default_factory=list)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _plain(body_html: str) -> str:
    """The description as text: tags out, paragraphs ended as sentences."""
    text = re.sub(r"</p>|<br\s*/?>", "\n", body_html, flags=re.IGNORECASE)
    lines = [" ".join(html.unescape(_TAG.sub(" ", line)).split()) for line in text.split("\n")]
    return " ".join(
        line if line.endswith((".", "!", "?")) else f"{line}." for line in lines if line
    )


def _number(value: str, what: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value.replace(",", ""))
    except ValueError as exc:
        raise ShopifyRowError(f"{what} {value!r} is not a number") from exc


def group_rows(rows: Iterator[tuple[int, dict[str, str]]]) -> list[_Handle]:
    """The export's rows by handle, in file order; image-only rows add nothing."""
    handles: dict[str, _Handle] = {}
    for line, row in rows:
        handle = row.get("Handle", "").strip()
        if not handle:
            continue
        group = handles.setdefault(handle, _Handle(handle, line))
        if row.get("Title") and not group.fields:
            group.fields = row
        if row.get("Variant Price", "").strip() or row.get("Option1 Value", "").strip():
            group.variants.append(row)
    return list(handles.values())


def _option_positions(fields: dict[str, str]) -> tuple[int | None, int | None]:
    colour = size = None
    for n in (1, 2, 3):
        name = fields.get(f"Option{n} Name", "").strip().lower()
        if name in _COLOUR_OPTIONS:
            colour = n
        elif "size" in name:
            size = n
    return colour, size


def _in_stock(variant: dict[str, str]) -> bool:
    tracker = variant.get("Variant Inventory Tracker", "").strip()
    policy = variant.get("Variant Inventory Policy", "").strip().lower()
    quantity = variant.get("Variant Inventory Qty", "").strip()
    if not tracker or policy == "continue" or not quantity:
        return True
    return (_number(quantity, "Variant Inventory Qty") or 0) > 0


def handle_products(group: _Handle, currency: str) -> list[Product]:
    """The textcart products of one Shopify product (one per colour option value)."""
    fields = group.fields
    if not fields:
        raise ShopifyRowError("no row with the product's Title")
    status = fields.get("Status", "").strip().lower()
    if status and status != "active":
        raise ShopifyRowError(f"status is {status}, not active")
    if fields.get("Published", "").strip().lower() == "false":
        raise ShopifyRowError("not published")
    if not group.variants:
        raise ShopifyRowError("no variant with a price")
    colour_at, size_at = _option_positions(fields)
    by_colour: dict[str, list[dict[str, str]]] = {}
    for variant in group.variants:
        colour = variant.get(f"Option{colour_at} Value", "").strip() if colour_at else ""
        by_colour.setdefault(colour, []).append(variant)
    title = " ".join(fields["Title"].split())
    category = fields.get("Product Category", "").strip() or fields.get("Type", "").strip()
    tags = [t.strip().lower() for t in fields.get("Tags", "").split(",") if t.strip()]
    products = []
    for colour, rows in by_colour.items():
        product_id = f"{group.handle}-{_slug(colour)}" if colour else group.handle
        variants = [v for row in rows if (v := _variant(row, product_id, colour, size_at))]
        if not variants:
            raise ShopifyRowError(f"no Variant Price for {colour or 'any variant'}")
        compare = [v.compare_at_price for v in variants if v.compare_at_price]
        lowest = min(v.price for v in variants)
        products.append(
            Product(
                id=product_id,
                title=f"{title} — {colour}" if colour and len(by_colour) > 1 else title,
                brand=fields.get("Vendor", "").strip(),
                category=" / ".join(p.strip() for p in category.split(">")) or "other",
                description=_plain(fields.get("Body (HTML)", "")),
                price=lowest,
                currency=currency,
                compare_at_price=max(compare) if compare and max(compare) > lowest else None,
                colors=[colour.lower()] if colour else [],
                tags=tags,
                model_id=group.handle,
                variants=variants,
            )
        )
    return products


def _variant(
    row: dict[str, str], product_id: str, colour: str, size_at: int | None
) -> Variant | None:
    """One row's variant, or None when the row has no price (Shopify requires one)."""
    price = _number(row.get("Variant Price", ""), "Variant Price")
    if price is None:
        return None
    size = row.get(f"Option{size_at} Value", "").strip() if size_at else ""
    sku = row.get("Variant SKU", "").strip()
    return Variant(
        id=sku or (f"{product_id}-{_slug(size)}" if size else product_id),
        sku=sku or None,
        colour=colour or None,
        size=size or None,
        price=price,
        compare_at_price=_number(
            row.get("Variant Compare At Price", ""), "Variant Compare At Price"
        ),
        in_stock=_in_stock(row),
    )
