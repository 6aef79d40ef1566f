"""Reading product files: textcart JSONL/CSV, Flipkart CSV, and what happens to bad rows."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path

import pytest
from shared_data import require_shared

from textcart.tools.catalog import Product, SearchFilters, product_uuid
from textcart.tools.catalog_files import (
    ReadReport,
    flipkart_category,
    flipkart_specifications,
    read_products,
)

REPO = Path(__file__).resolve().parents[2]
FLIPKART = REPO.parent / "shared" / "data" / "catalog" / "flipkart_products.csv"

FLIPKART_HEADER = [
    "uniq_id",
    "crawl_timestamp",
    "product_url",
    "product_name",
    "product_category_tree",
    "pid",
    "retail_price",
    "discounted_price",
    "image",
    "is_FK_Advantage_product",
    "description",
    "product_rating",
    "overall_rating",
    "brand",
    "product_specifications",
    "formatted_specifications",
]

BOOT = {
    "id": "BT-1",
    "title": "Summit Hiking Boot",
    "brand": "Ridge & Co",
    "category": "footwear/hiking boots",
    "description": "A leather boot for long days on rough ground.",
    "price": 149.0,
    "compare_at_price": 179.0,
    "colors": ["brown"],
    "sizes": ["9", "10", "10.5"],
    "sizes_in_stock": ["10", "10.5"],
    "in_stock": True,
    "rating": 4.6,
    "review_count": 88,
    "selling_points": ["waterproof membrane", "grippy lugged sole"],
    "url": "https://shop.example/bt-1",
    "tags": ["hiking"],
}


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _flipkart_row(**values: str) -> list[str]:
    row = dict.fromkeys(FLIPKART_HEADER, "")
    row.update(values)
    return [row[c] for c in FLIPKART_HEADER]


# --- textcart JSONL -------------------------------------------------------------------


def test_jsonl_reads_products_and_counts_bad_lines(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [
        json.dumps(BOOT),
        "",
        "{not json",
        json.dumps({**BOOT, "id": "BT-2", "price": -5}),
        json.dumps(["a", "list"]),
        json.dumps({**BOOT, "id": "BT-3", "rating": None, "compare_at_price": None}),
    ]
    path = tmp_path / "products.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="textcart.catalog_files"):
        report = read_products(path)
        products = list(report)

    assert isinstance(report, ReadReport)
    assert report.format == "jsonl"
    assert [p.id for p in products] == ["BT-1", "BT-3"]
    assert products[0] == Product.model_validate(BOOT)
    assert report.read == 2
    assert report.skipped == 3
    assert any("line 3" in p for p in report.problems)
    assert any("line 4" in p and "price" in p for p in report.problems)
    assert "not a JSON object" in report.problems[2]
    assert len([r for r in caplog.records if "skipping" in r.message]) == 3


def test_report_products_is_the_same_single_pass_iterator(tmp_path: Path) -> None:
    path = tmp_path / "p.ndjson"
    path.write_text(json.dumps(BOOT) + "\n", encoding="utf-8")
    report = read_products(path)
    assert [p.id for p in report.products] == ["BT-1"]
    assert list(report) == []


# --- textcart CSV ---------------------------------------------------------------------


def test_csv_splits_lists_and_parses_types(tmp_path: Path) -> None:
    header = [
        "id",
        "title",
        "price",
        "category",
        "sizes",
        "sizes_in_stock",
        "in_stock",
        "rating",
        "compare_at_price",
        "selling_points",
        "tags",
    ]
    path = _write_csv(
        tmp_path / "p.csv",
        header,
        [
            [
                "S-1",
                "Trail Sock",
                "14.5",
                "accessories/socks",
                "S|M|L",
                "M | L",
                "yes",
                "4.2",
                "",
                "merino blend|cushioned heel",
                "",
            ],
            ["S-2", "Liner Sock", "9", "accessories/socks", "", "", "false", "", "12", "", "sale"],
        ],
    )

    report = read_products(path)
    first, second = list(report)

    assert report.format == "csv" and report.skipped == 0
    assert first.sizes == ["S", "M", "L"] and first.sizes_in_stock == ["M", "L"]
    assert first.in_stock is True and first.rating == 4.2 and first.compare_at_price is None
    assert first.selling_points == ["merino blend", "cushioned heel"]
    assert first.currency == "USD" and first.tags == []
    assert second.in_stock is False and second.rating is None
    assert second.compare_at_price == 12.0 and second.tags == ["sale"]


def test_csv_bad_rows_are_skipped_not_fatal(tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "p.csv",
        ["id", "title", "price", "in_stock"],
        [
            ["A", "Good", "10", "true"],
            ["B", "No price", "", "true"],
            ["C", "Odd stock", "5", "maybe"],
            ["D", "Too many", "5", "true", "extra"],
            ["", "No id", "5", "true"],
            ["E", "Also good", "0", ""],
        ],
    )
    report = read_products(path)
    assert [p.id for p in report] == ["A", "E"]
    assert report.skipped == 4
    assert any("in_stock" in p for p in report.problems)
    assert any("more fields" in p for p in report.problems)


def test_csv_without_required_columns_is_rejected(tmp_path: Path) -> None:
    path = _write_csv(tmp_path / "p.csv", ["sku", "name"], [["1", "x"]])
    with pytest.raises(ValueError, match="id, title and price"):
        read_products(path)


def test_unknown_extension_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.xlsx"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="unsupported"):
        read_products(path)


# --- Flipkart -------------------------------------------------------------------------


def test_flipkart_rows_are_mapped(tmp_path: Path) -> None:
    specs = (
        "[{'key': 'Ideal For', 'value': 'Men'}, {'key': 'Color', 'value': 'Blue, Grey'}, "
        "{'key': 'Model Number', 'value': 'X1'}, {'value': 'One pair'}, "
        "{'key': 'Sole Material', 'value': 'Rubber'}]"
    )
    path = _write_csv(
        tmp_path / "fk.csv",
        FLIPKART_HEADER,
        [
            _flipkart_row(
                uniq_id="u1",
                pid="PID1",
                product_name="zoomfast  mens running shoes",
                product_category_tree="['footwear', 'mens footwear', 'sports shoes', "
                "'zoomfast mens running shoes']",
                retail_price="2499.0",
                discounted_price="1299.0",
                description="Light and fast.",
                product_rating="4.3",
                brand="zoomfast",
                product_specifications=specs,
                product_url="http://shop.example/p/1",
            ),
            _flipkart_row(
                uniq_id="u2",
                pid="",
                product_name="terracotta coffee mug",
                product_category_tree='["Kitchen & Dining >> Mugs >> Clay Mugs"]',
                retail_price="300",
                discounted_price="",
                product_rating="No rating available",
                product_specifications='{"product_specification"=>[{"key"=>"Material", '
                '"value"=>"Terracotta"}]}',
            ),
            _flipkart_row(uniq_id="u3", pid="PID3", product_name="priceless thing"),
            _flipkart_row(uniq_id="u4", pid="PID4", product_name="", retail_price="10"),
            _flipkart_row(
                uniq_id="u5",
                pid="PID5",
                product_name="free sample",
                retail_price="5",
                discounted_price="5",
                product_rating="0.0",
            ),
        ],
    )

    report = read_products(path)
    products = {p.id: p for p in report}

    assert report.format == "flipkart-csv"
    assert report.skipped == 2
    assert any("no usable price" in p for p in report.problems)
    shoe, mug, sample = products["PID1"], products["u2"], products["PID5"]
    assert shoe.title == "zoomfast mens running shoes"
    assert shoe.category == "footwear/mens footwear/sports shoes"
    assert (shoe.price, shoe.compare_at_price, shoe.currency) == (1299.0, 2499.0, "INR")
    assert shoe.rating == 4.3 and shoe.in_stock is True
    assert shoe.colors == ["blue", "grey"] and shoe.tags == ["men"]
    assert shoe.selling_points == ["Ideal For: Men", "Color: Blue, Grey", "Sole Material: Rubber"]
    assert shoe.url == "http://shop.example/p/1"
    assert mug.category == "kitchen & dining/mugs/clay mugs"
    assert mug.price == 300.0 and mug.compare_at_price is None and mug.rating is None
    assert mug.selling_points == ["Material: Terracotta"]
    assert sample.rating is None and sample.compare_at_price is None


@pytest.mark.parametrize(
    ("tree", "title", "brand", "expected"),
    [
        (
            "['watches', 'wrist watches', 'titan wrist watches']",
            "titan 1639 analog watch",
            "titan",
            "watches/wrist watches",
        ),
        (
            "['watches', 'wrist watches', 'titan wrist watches']",
            "an analog watch",
            "",
            "watches/wrist watches/titan wrist watches",
        ),
        (
            "['clothing', 'womens clothing', 'kurtas', 'amber cotton kurta']",
            "amber cotton kurta",
            "",
            "clothing/womens clothing/kurtas",
        ),
        ("['just the product name']", "just the product name", "", "just the product name"),
        ('["Tools >> Hand/Power Tools >> Drills"]', "x", "", "tools/hand power tools/drills"),
        ("", "x", "", "other"),
    ],
)
def test_flipkart_category(tree: str, title: str, brand: str, expected: str) -> None:
    assert flipkart_category(tree, title, brand) == expected


def test_flipkart_specifications_accepts_both_notations() -> None:
    python_style = "[{'key': 'Type', 'value': 'Analog'}, {'value': 'loose value'}]"
    ruby_style = '{"product_specification"=>[{"key"=>"Type", "value"=>"Analog"}]}'
    assert flipkart_specifications(python_style) == [("Type", "Analog"), ("", "loose value")]
    assert flipkart_specifications(ruby_style) == [("Type", "Analog")]
    assert flipkart_specifications("") == []


def test_real_flipkart_file_loads_without_losses() -> None:
    report = read_products(require_shared(FLIPKART))
    products = list(report)
    assert report.format == "flipkart-csv"
    assert len(products) + report.skipped == 1002
    assert report.skipped == 0
    assert len({p.id for p in products}) == len(products)
    assert all(p.currency == "INR" and p.price >= 0 for p in products)
    assert sum(p.category.startswith("footwear") for p in products) > 50


# --- Product and filters --------------------------------------------------------------


def test_embedding_text_covers_the_buying_facts_and_trims_description() -> None:
    product = Product.model_validate({**BOOT, "description": "word " * 500})
    text = product.embedding_text()
    for part in (
        "Summit Hiking Boot",
        "Ridge & Co",
        "footwear, hiking boots",
        "waterproof membrane; grippy lugged sole",
    ):
        assert part in text
    assert len(text) < 800


def test_product_validation() -> None:
    assert Product(id=" X ", title="T", price=1, category="/a / b/").category == "a/b"
    assert Product(id=" X ", title="T", price=1).id == "X"
    for bad in ({"price": -1}, {"rating": 6}, {"id": "  "}, {"review_count": -2}):
        with pytest.raises(ValueError):
            Product.model_validate({"id": "X", "title": "T", "price": 1, **bad})


def test_product_uuid_is_stable_and_distinct() -> None:
    assert product_uuid("BT-1") == product_uuid("BT-1")
    assert product_uuid("BT-1") != product_uuid("BT-2")
    assert product_uuid("BT-1").version == 5


def test_search_filter_defaults() -> None:
    filters = SearchFilters()
    assert filters.in_stock_only is True
    assert filters.min_price is None and filters.category is None and filters.exclude_ids == []
