"""Product files: JSONL and CSV in textcart's own fields, Shopify's and Flipkart's CSV.

`read_products` streams products from a file. A bad row never stops a load: it is skipped,
logged and counted in the returned `ReadReport`, which is itself the iterator of products.

textcart's CSV has one column per `Product` field; list fields hold "|"-separated values,
and `variants` holds the variants as JSONL does, a JSON list (`[{"size": "12", "price":
150, "in_stock": false}, ...]`).
A Flipkart export is recognised by its header and mapped: id = pid (else uniq_id), price =
discounted price (else retail), the retail price as "compare at" when it is higher, INR,
category from the category tree, selling points from the specifications. A Shopify products
export is recognised by `Handle`, `Title` and `Variant Price` (`textcart.tools.shopify_products`).
"""

from __future__ import annotations

import ast
import csv
import json
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from textcart.tools.catalog import Product
from textcart.tools.shopify_products import (
    SHOPIFY_COLUMNS,
    ShopifyRowError,
    group_rows,
    handle_products,
)

log = logging.getLogger("textcart.catalog_files")

LIST_SEPARATOR = "|"
_LIST_FIELDS = {"colors", "sizes", "sizes_in_stock", "selling_points", "tags"}
_FLIPKART_COLUMNS = {
    "uniq_id",
    "product_name",
    "product_category_tree",
    "retail_price",
    "discounted_price",
    "description",
    "product_rating",
    "brand",
    "product_specifications",
}
# Specification rows that describe the parcel or the listing, not why anyone would buy it.
_BORING_SPECS = {
    "brand",
    "model number",
    "model name",
    "model id",
    "sales package",
    "in the box",
    "number of contents in sales package",
    "warranty summary",
    "warranty service type",
    "covered in warranty",
    "not covered in warranty",
    "domestic warranty",
    "style code",
}
_MAX_SELLING_POINTS = 8
_MAX_LOGGED = 20
_TRUE = {"true", "yes", "y", "1"}
_FALSE = {"false", "no", "n", "0", ""}
_SPEC_PAIR = re.compile(
    r"""["']key["']\s*(?::|=>)\s*["'](?P<key>[^"']*)["']\s*,\s*"""
    r"""["']value["']\s*(?::|=>)\s*["'](?P<value>[^"']*)["']"""
)


class BadRow(ValueError):
    """A row that cannot become a product."""


class ReadReport(Iterator[Product]):
    """The products of one file, read lazily; counts the rows skipped so far.

    Iterate it (once) for the products; `skipped` and `problems` are complete after that.
    """

    def __init__(self, path: Path, file_format: str, rows: Iterator[Product]) -> None:
        """Wrap the product stream of `path`; use `read_products` to get one."""
        self.path = path
        self.format = file_format
        self.read = 0
        self.skipped = 0
        self.problems: list[str] = []
        self._rows = rows

    @property
    def products(self) -> Iterator[Product]:
        """The products, as an iterator (the report itself)."""
        return self

    def __next__(self) -> Product:
        """Return the next good product."""
        product = next(self._rows)
        self.read += 1
        return product

    def skip(self, where: str, reason: str) -> None:
        """Count a bad row and say why it was skipped."""
        self.skipped += 1
        message = f"{self.path.name} {where}: {reason}"
        if len(self.problems) < 100:
            self.problems.append(message)
        if self.skipped <= _MAX_LOGGED:
            log.warning("skipping %s", message)
        elif self.skipped == _MAX_LOGGED + 1:
            log.warning("more bad rows in %s; no longer logging each one", self.path.name)


def read_products(path: Path, currency: str = "USD") -> ReadReport:
    """Read products from a .jsonl/.ndjson or .csv file (textcart's, Shopify's or Flipkart's).

    `currency` is the price currency of a Shopify export, which does not say it (the store
    folder's); other formats carry their own or are USD.

    Raises ValueError when the file as a whole is unusable (unknown extension, CSV without
    the required columns); bad rows are skipped and counted instead.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        report = ReadReport(path, "jsonl", iter(()))
        report._rows = _jsonl_rows(path, report)
        return report
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as f:
            header = next(csv.reader(f), [])
        columns = {h.strip() for h in header}
        if SHOPIFY_COLUMNS <= columns:
            report = ReadReport(path, "shopify-csv", iter(()))
            report._rows = _shopify_rows(path, report, currency)
            return report
        if _FLIPKART_COLUMNS <= columns:
            report = ReadReport(path, "flipkart-csv", iter(()))
            report._rows = _csv_rows(path, report, _flipkart_product)
            return report
        missing = {"id", "title", "price"} - columns
        if missing:
            raise ValueError(
                f"{path}: a product CSV needs the columns id, title and price (missing: "
                f"{', '.join(sorted(missing))}); other columns are Product fields, lists "
                f"'{LIST_SEPARATOR}'-separated. Flipkart exports are recognised by their header."
            )
        report = ReadReport(path, "csv", iter(()))
        report._rows = _csv_rows(path, report, _csv_product)
        return report
    raise ValueError(f"{path}: unsupported product file; use .jsonl (one product per line) or .csv")


def _jsonl_rows(path: Path, report: ReadReport) -> Iterator[Product]:
    with path.open(encoding="utf-8-sig") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise BadRow("not a JSON object")
                yield Product.model_validate(data)
            except (ValueError, ValidationError) as exc:
                report.skip(f"line {number}", _reason(exc))


def _csv_rows(
    path: Path, report: ReadReport, to_product: Callable[[dict[str, str]], Product]
) -> Iterator[Product]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        for row in reader:
            # The header is line 1; a quoted field may span lines, so say where the row ends.
            where = f"row ending on line {reader.line_num}"
            if None in row:
                report.skip(where, "more fields than the header has columns")
                continue
            try:
                yield to_product({k.strip(): (v or "").strip() for k, v in row.items()})
            except (ValueError, ValidationError) as exc:
                report.skip(where, _reason(exc))


def _shopify_rows(path: Path, report: ReadReport, currency: str) -> Iterator[Product]:
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        rows = (
            (reader.line_num, {k.strip(): (v or "").strip() for k, v in row.items() if k})
            for row in reader
        )
        groups = group_rows(rows)
    for group in groups:
        try:
            yield from handle_products(group, currency)
        except (ShopifyRowError, ValidationError) as exc:
            report.skip(f"product {group.handle!r} (line {group.first_line})", _reason(exc))


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors()
        )
    return str(exc)


def _csv_product(row: dict[str, str]) -> Product:
    data: dict[str, Any] = {}
    for name in Product.model_fields:
        value = row.get(name)
        if value is None or (value == "" and name not in ("in_stock",)):
            continue
        if name in _LIST_FIELDS:
            data[name] = [v.strip() for v in value.split(LIST_SEPARATOR) if v.strip()]
        elif name == "variants":
            data[name] = _variants(value)
        elif name == "in_stock":
            data[name] = _boolean(value)
        else:
            data[name] = value
    return Product.model_validate(data)


def _variants(value: str) -> Any:
    try:
        variants = json.loads(value)
    except json.JSONDecodeError as exc:
        raise BadRow(f"variants: not a JSON list ({exc.msg})") from exc
    if not isinstance(variants, list):
        raise BadRow("variants: not a JSON list")
    return variants


def _boolean(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise BadRow(f"in_stock: {value!r} is not true/false")


# --- Flipkart ----------------------------------------------------------------------------


def _number(value: str) -> float | None:
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        return None
    return number if number == number else None  # NaN is no number


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def flipkart_category(tree: str, title: str, brand: str = "") -> str:
    """Turn a Flipkart category tree into a slash path, without the product's own name.

    Trees come as a list of segments (`['footwear', 'womens footwear', ...]`) or as one
    string joined by ">>". Flipkart often ends the tree with the product's name or with
    a brand's own shelf ("titan wrist watches"); neither is a category, so both go.
    """
    parsed = _literal(tree) if tree.startswith("[") else None
    if isinstance(parsed, list):
        segments = [str(s) for s in parsed]
        if len(segments) == 1 and ">>" in segments[0]:
            segments = segments[0].split(">>")
    else:
        segments = tree.strip("[]\"' ").split(">>")
    cleaned = [" ".join(s.replace("/", " ").split()).lower() for s in segments]
    cleaned = [s for s in cleaned if s]
    if len(cleaned) > 1:
        last = _words(cleaned[-1])
        brand = " ".join(brand.lower().split())
        names_product = bool(last) and len(last & _words(title)) >= len(last) / 2
        if names_product or (brand and cleaned[-1].startswith(brand + " ")):
            cleaned.pop()
    return "/".join(cleaned) or "other"


def flipkart_specifications(specs: str) -> list[tuple[str, str]]:
    """Return (key, value) pairs of a Flipkart specification cell, in order."""
    parsed = _literal(specs) if specs.startswith(("[", "{")) else None
    if isinstance(parsed, dict):
        parsed = parsed.get("product_specification")
    if isinstance(parsed, dict):
        parsed = [parsed]
    if isinstance(parsed, list):
        pairs = []
        for item in parsed:
            if isinstance(item, dict):
                pairs.append((str(item.get("key", "")).strip(), str(item.get("value", "")).strip()))
        return pairs
    # Flipkart's original Ruby-hash style ("key"=>"Color", "value"=>"Red").
    return [(m["key"].strip(), m["value"].strip()) for m in _SPEC_PAIR.finditer(specs)]


def _flipkart_product(row: dict[str, str]) -> Product:
    title = " ".join(row.get("product_name", "").split())
    brand = " ".join(row.get("brand", "").split())
    discounted = _number(row.get("discounted_price", ""))
    retail = _number(row.get("retail_price", ""))
    price = discounted if discounted is not None else retail
    if price is None:
        raise BadRow("no usable price (discounted_price and retail_price are empty)")
    specs = flipkart_specifications(row.get("product_specifications", ""))
    selling_points: list[str] = []
    colors: list[str] = []
    tags: list[str] = []
    for key, value in specs:
        lowered = key.lower()
        if not value:
            continue
        if lowered in ("color", "colour"):
            colors += [c.strip().lower() for c in re.split(r"[,/&]", value) if c.strip()]
        if lowered in ("ideal for", "occasion"):
            tags += [t.strip().lower() for t in re.split(r"[,&]", value) if t.strip()]
        if key and lowered not in _BORING_SPECS and len(selling_points) < _MAX_SELLING_POINTS:
            selling_points.append(f"{key}: {value}")
    rating = _number(row.get("product_rating", ""))
    return Product(
        id=row.get("pid") or row.get("uniq_id", ""),
        title=title,
        brand=brand,
        category=flipkart_category(row.get("product_category_tree", ""), title, brand),
        description=row.get("description", ""),
        price=price,
        currency="INR",
        compare_at_price=retail if retail is not None and retail > price else None,
        colors=list(dict.fromkeys(colors)),
        # This export writes "No rating available" as 0.0; real ratings run from 1 to 5.
        rating=rating if rating is not None and 0 < rating <= 5 else None,
        selling_points=selling_points,
        url=row.get("product_url") or None,
        tags=list(dict.fromkeys(tags)),
        in_stock=True,
    )
