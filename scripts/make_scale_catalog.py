"""Write large product catalogs (1k, 10k, 50k, ...) for scale tests, from real products.

The base products are real: the 1,002 Flipkart products
(`../shared/data/catalog/flipkart_products.csv`, read as `textcart catalog load` reads it)
and the 9,913 CrowdFlower products (`../shared/data/relevance/crowdflower/products.csv`,
HTML stripped). Nothing from those files is copied into the repository: the catalogs are
written under `var/scale/` (or `--out`), which git ignores.

How a catalog of N products is made, with `random.Random(seed)` (default seed 7) so that
the same N and seed always give the same bytes:

* N up to the number of real products: a random sample of N of them.
* Larger N: every real product once, then colourway variants of randomly chosen real
  products until there are N: the same title and description with " — <Colour>" added,
  the SKU suffixed with the colour and a counter, the price moved by up to ±15 %.
* Every product gets store fields the sources lack, drawn from the seeded generator:
  prices in USD (Flipkart's INR divided by 83; CrowdFlower has none, so a log-normal
  draw with a median of $35), a size run by kind (shoe sizes for footwear, letter sizes
  for clothing, none otherwise) with a random part of it in stock, about 8 % sold out,
  about 20 % marked down (a "compare at" price up to 40 % higher), a rating when the
  source has none. CrowdFlower products have no category; they are filed under
  "marketplace".

The output is JSONL in textcart's own fields, the format `textcart catalog load` and
`textcart.tools.catalog_files.read_products` read.

    .venv/bin/python scripts/make_scale_catalog.py --sizes 1000,10000,50000
    .venv/bin/python scripts/make_scale_catalog.py --sizes 2000 --seed 3 --out /tmp/scale
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
FLIPKART = SHARED / "catalog" / "flipkart_products.csv"
CROWDFLOWER = SHARED / "relevance" / "crowdflower" / "products.csv"
DEFAULT_OUT = ROOT / "var" / "scale"
SEED = 7
INR_PER_USD = 83.0
SOLD_OUT_SHARE = 0.08
MARKDOWN_SHARE = 0.20
PRICE_JITTER = 0.15
SHOE_SIZES = tuple(f"{n / 2:g}" for n in range(10, 27))  # 5 .. 13 in half sizes
LETTER_SIZES = ("XS", "S", "M", "L", "XL", "XXL")
COLOURS = (
    "Black", "White", "Navy", "Grey", "Red", "Blue", "Green", "Olive", "Teal", "Pink",
    "Purple", "Orange", "Yellow", "Brown", "Beige", "Charcoal",
)  # fmt: skip

sys.path.insert(0, str(ROOT))

from textcart.evaluation.retrieval import read_products as read_crowdflower  # noqa: E402
from textcart.tools.catalog import Product  # noqa: E402
from textcart.tools.catalog_files import read_products  # noqa: E402


def real_products() -> list[Product]:
    """The real base products: Flipkart (prices in INR) then CrowdFlower (no prices)."""
    missing = [p for p in (FLIPKART, CROWDFLOWER) if not p.exists()]
    if missing:
        raise FileNotFoundError(
            f"the real product files are not there: {', '.join(map(str, missing))} "
            "(they live in ../shared/data, outside the repository)"
        )
    products = list(read_products(FLIPKART))
    known = {p.id for p in products}
    products += [p for p in read_crowdflower(CROWDFLOWER) if p.id not in known]
    return products


def _size_run(category: str) -> tuple[str, ...]:
    path = category.lower()
    if "footwear" in path or "shoe" in path:
        return SHOE_SIZES
    if "clothing" in path or "apparel" in path:
        return LETTER_SIZES
    return ()


def _store_fields(base: Product, rng: random.Random, price_factor: float = 1.0) -> Product:
    """Give a real product the price, stock, sizes and rating a store would have."""
    if base.currency == "INR":
        price = base.price / INR_PER_USD
    else:
        price = rng.lognormvariate(3.55, 0.8)  # median about $35
    price = max(round(price * price_factor, 2), 0.99)
    sizes = list(_size_run(base.category))
    in_stock = rng.random() >= SOLD_OUT_SHARE
    if sizes and in_stock:
        sizes_in_stock = sorted(rng.sample(sizes, rng.randint(1, len(sizes))), key=sizes.index)
    else:
        sizes_in_stock = []
    compare_at = round(price * rng.uniform(1.1, 1.4), 2) if rng.random() < MARKDOWN_SHARE else None
    rating = base.rating if base.rating is not None else round(rng.uniform(3.2, 5.0), 1)
    return base.model_copy(
        update={
            "price": price,
            "currency": "USD",
            "compare_at_price": compare_at,
            "category": base.category or "marketplace",
            "sizes": sizes,
            "sizes_in_stock": sizes_in_stock,
            "in_stock": in_stock,
            "rating": rating,
            "review_count": rng.randint(0, 900),
        }
    )


def _variant(base: Product, number: int, rng: random.Random) -> Product:
    """A colourway of a real product: same words, a colour in the title, a nearby price."""
    colour = rng.choice(COLOURS)
    variant = base.model_copy(
        update={
            "id": f"{base.id}-{colour.upper()}-{number}",
            "title": f"{base.title} — {colour}",
            "colors": [colour.lower()],
        }
    )
    return _store_fields(variant, rng, 1.0 + rng.uniform(-PRICE_JITTER, PRICE_JITTER))


def make_catalog(
    size: int, seed: int = SEED, bases: Sequence[Product] | None = None
) -> list[Product]:
    """Return `size` products built from the real ones, the same for the same seed."""
    if size < 1:
        raise ValueError("a catalog needs at least one product")
    rng = random.Random(seed)
    pool = list(bases) if bases is not None else real_products()
    if size <= len(pool):
        return [_store_fields(p, rng) for p in rng.sample(pool, size)]
    products = [_store_fields(p, rng) for p in pool]
    number = 0
    while len(products) < size:
        number += 1
        products.append(_variant(rng.choice(pool), number, rng))
    return products


def write_catalog(products: Sequence[Product], path: Path) -> Path:
    """Write products as JSONL (one product per line, textcart's fields)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for product in products:
            f.write(json.dumps(product.model_dump(exclude_none=True), ensure_ascii=False) + "\n")
    tmp.replace(path)
    return path


def catalog_file(out: Path, size: int, seed: int = SEED) -> Path:
    """Where the catalog of `size` products with `seed` is written."""
    return out / f"catalog_{size}_seed{seed}.jsonl"


def ensure_catalog(size: int, seed: int = SEED, out: Path = DEFAULT_OUT) -> Path:
    """The catalog file for `size` and `seed`, written first if it is not there yet."""
    path = catalog_file(out, size, seed)
    if not path.exists():
        write_catalog(make_catalog(size, seed), path)
    return path


def main(argv: Sequence[str] | None = None) -> None:
    """Write one catalog per requested size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="comma-separated counts")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the files")
    args = parser.parse_args(argv)
    bases = real_products()
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        path = write_catalog(
            make_catalog(size, args.seed, bases), catalog_file(args.out, size, args.seed)
        )
        print(f"{size} products -> {path}")


if __name__ == "__main__":
    main()
