"""Write the Trailhead Outfitters demo catalog: ``textcart/demo_store/catalog.jsonl``.

Trailhead Outfitters is the fictional US running, hiking and outdoor shop that the demo and
the tests use. Its product lines (name, brand, category, price, selling points, description,
colourways) are written by hand in ``textcart/demo_store/catalog_lines.yaml``. Each line
becomes one product per colourway, with the line's size run; a line with ``men:`` and
``women:`` is two lines ("Men's ..." and "Women's ...") that share copy and price. Per-size
stock, markdowns, ratings and review counts come from a seeded ``random.Random(7)``, so
every run writes the same bytes. A few products that the scripted conversations talk about
are pinned (stock and price) so the stories stay true.

Run from the repository root:

    .venv/bin/python scripts/make_demo_catalog.py                  # rewrite the committed file
    .venv/bin/python scripts/make_demo_catalog.py --out /tmp/c.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SEED = 7
URL_PREFIX = "https://trailhead.example/products/"
DEMO_STORE = Path(__file__).resolve().parent.parent / "textcart" / "demo_store"
DEFAULT_OUT = DEMO_STORE / "catalog.jsonl"
LINES_FILE = DEMO_STORE / "catalog_lines.yaml"
SOLD_OUT_SHARE = 0.08
MARKDOWN_SHARE = 0.16
NEW_COLOURWAY_SHARE = 0.06


@dataclass(frozen=True)
class Line:
    """One hand-written product line (a model); each colourway becomes a product."""

    code: str
    name: str
    brand: str
    category: str
    fit: str  # "men", "women" or "unisex"
    sizes: tuple[str, ...]
    price: float
    rating: float
    colourways: tuple[str, ...]
    points: tuple[str, ...]
    description: str
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Pin:
    """Fixed stock and price for a product a scripted conversation depends on."""

    sold_out: tuple[str, ...] = ()
    markdown: float | None = None


def _sizes(value: str | list[str], runs: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return runs[value] if isinstance(value, str) else tuple(value)


def read_lines(raw: dict[str, Any]) -> list[Line]:
    """The lines in file order (the order the seeded draws depend on).

    A line with ``men:`` and ``women:`` becomes the men's then the women's line: footwear
    takes the men's or women's shoe run, anything else its ``sizes`` (default apparel).
    """
    runs = {name: tuple(sizes) for name, sizes in raw["size_runs"].items()}
    lines: list[Line] = []
    for entry in raw["lines"]:
        shared = {
            "brand": entry["brand"],
            "category": entry["category"],
            "price": float(entry["price"]),
            "rating": float(entry["rating"]),
            "description": entry["description"],
            "tags": tuple(entry["tags"]),
        }
        if "men" not in entry:
            lines.append(
                Line(
                    code=entry["code"],
                    name=entry["name"],
                    fit=entry["fit"],
                    sizes=_sizes(entry["sizes"], runs),
                    colourways=tuple(entry["colourways"]),
                    points=tuple(entry["points"]),
                    **shared,
                )
            )
            continue
        is_shoe = entry["category"].startswith("footwear/")
        for fit, label in (("men", "Men's"), ("women", "Women's")):
            sizes = runs[f"{fit}_shoe"] if is_shoe else _sizes(entry.get("sizes", "apparel"), runs)
            lines.append(
                Line(
                    code=f"{entry['code']}-{fit[0].upper()}",
                    name=f"{label} {entry['name']}",
                    fit=fit,
                    sizes=sizes,
                    colourways=tuple(entry[fit]["colourways"]),
                    points=(*entry["points"], entry[fit]["point"]),
                    **shared,
                )
            )
    return lines


RAW = yaml.safe_load(LINES_FILE.read_text(encoding="utf-8"))
PALETTE: dict[str, tuple[str, tuple[str, ...]]] = {
    name: (colour["code"], tuple(colour["colours"])) for name, colour in RAW["palette"].items()
}
LINES = read_lines(RAW)
PINNED: dict[str, Pin] = {
    product_id: Pin(sold_out=tuple(pin.get("sold_out", ())), markdown=pin.get("markdown"))
    for product_id, pin in RAW["pinned"].items()
}


def sale_price(price: float, markdown: float) -> float:
    """Return the marked-down price, ending in .95 as the store prices its sales."""
    return round(round(price * (1 - markdown)) - 0.05, 2)


def in_stock_sizes(sizes: tuple[str, ...], rng: random.Random) -> list[str]:
    """Draw which sizes are still on the shelf; the extreme sizes sell out more often."""
    if len(sizes) == 1:
        return list(sizes)
    edge = 2 if len(sizes) > 4 else 0
    kept = [
        size
        for i, size in enumerate(sizes)
        if rng.random() >= (0.3 if i < edge or i >= len(sizes) - edge else 0.08)
    ]
    return kept or [sizes[len(sizes) // 2]]


def make_product(line: Line, colourway: str, rng: random.Random) -> dict[str, Any]:
    """Expand one line and one colourway into a catalog record with drawn stock and price."""
    colour_code, colour_words = PALETTE[colourway]
    product_id = f"TH-{line.code}-{colour_code}"
    is_new = rng.random() < NEW_COLOURWAY_SHARE
    markdown = rng.choice((0.2, 0.25, 0.3, 0.4)) if rng.random() < MARKDOWN_SHARE else None
    if is_new:
        markdown = None
    jitter = rng.uniform(-0.15, 0.15)
    rating = None if is_new else min(4.9, max(3.6, round(line.rating + jitter, 1)))
    reviews = 0 if is_new else rng.randint(6, 480)
    tags = [*line.tags, line.fit]
    if is_new:
        tags.append("new")
    return {
        "id": product_id,
        "title": f"{line.name} — {colourway}",
        "brand": line.brand,
        "category": line.category,
        "description": line.description,
        "price": line.price,
        "currency": "USD",
        "compare_at_price": None,
        "colors": list(colour_words),
        "sizes": list(line.sizes),
        "sizes_in_stock": in_stock_sizes(line.sizes, rng),
        "in_stock": True,
        "rating": rating,
        "review_count": reviews,
        "selling_points": list(line.points),
        "url": URL_PREFIX + product_id,
        "tags": tags,
        "_markdown": markdown,
    }


def apply_markdown(product: dict[str, Any], markdown: float | None) -> None:
    """Set the product's price and compare-at price for a markdown (None: full price)."""
    full_price = product["compare_at_price"] or product["price"]
    tags = [tag for tag in product["tags"] if tag != "sale"]
    if markdown is None:
        product.update(price=full_price, compare_at_price=None, tags=tags)
    else:
        product.update(
            price=sale_price(full_price, markdown),
            compare_at_price=full_price,
            tags=[*tags, "sale"],
        )


def build_catalog(seed: int = SEED) -> list[dict[str, Any]]:
    """Expand every line into products, then sell some out and pin the story products."""
    rng = random.Random(seed)
    products = [make_product(line, colour, rng) for line in LINES for colour in line.colourways]
    for product in products:
        apply_markdown(product, product.pop("_markdown"))
    candidates = [p for p in products if p["id"] not in PINNED]
    for product in rng.sample(candidates, round(len(products) * SOLD_OUT_SHARE)):
        product["sizes_in_stock"] = []
    by_id = {p["id"]: p for p in products}
    for product_id, pin in PINNED.items():
        product = by_id[product_id]
        product["sizes_in_stock"] = [s for s in product["sizes"] if s not in pin.sold_out]
        apply_markdown(product, pin.markdown)
    for product in products:
        product["in_stock"] = bool(product["sizes_in_stock"])
    return products


def check(products: list[dict[str, Any]]) -> None:
    """Fail loudly on mistakes in the hand-written lines (duplicate SKUs, bad pins)."""
    ids = [p["id"] for p in products]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise SystemExit(f"duplicate product ids: {duplicates}")
    sizes_by_id = {p["id"]: set(p["sizes"]) for p in products}
    for product_id, pin in PINNED.items():
        unknown = set(pin.sold_out) - sizes_by_id[product_id]
        if unknown:
            raise SystemExit(f"{product_id}: pinned sizes {sorted(unknown)} are not in its run")
    for line in LINES:
        if not 3 <= len(line.points) <= 5:
            raise SystemExit(f"{line.code}: needs 3-5 selling points, has {len(line.points)}")


def write_catalog(products: list[dict[str, Any]], out: Path) -> None:
    """Write one JSON object per line, UTF-8, with a stable field order."""
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in products)
    out.write_text(text, encoding="utf-8", newline="\n")


def main() -> None:
    """Parse arguments, build the catalog and write it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the JSONL")
    args = parser.parse_args()
    products = build_catalog()
    check(products)
    write_catalog(products, args.out)
    categories = {p["category"] for p in products}
    sold_out = sum(not p["in_stock"] for p in products)
    print(
        f"wrote {len(products)} products from {len(LINES)} lines in {len(categories)} "
        f"categories ({sold_out} sold out) to {args.out}"
    )


if __name__ == "__main__":
    main()
