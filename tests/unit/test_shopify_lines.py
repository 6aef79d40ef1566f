"""Shopify line items are named by the catalog's product ids, never by Shopify's own.

The catalogs are the Shopify export fixtures as `read_products` loads them (a boot in two
colours whose Charcoal 12 has no SKU, a mug with Shopify's "Default Title", a kurta in two
colours), beside a product in textcart's own fields whose id is its SKU.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from product_list_catalog import ProductListCatalog

from textcart.tools import shopify_lines
from textcart.tools.catalog_files import read_products
from textcart.tools.shopify_lines import CatalogKeys, LineMatch, catalog_keys, match_lines
from textcart.vocabulary.products import Product

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OWN = Product(id="TH-RIDGE-TR-W-BLU", title="Women's Ridgeline Trail Runner — Blue", price=120)


@pytest.fixture(scope="module")
def products() -> list[Product]:
    loaded = [
        *read_products(FIXTURES / "shopify_variants.csv"),
        *read_products(FIXTURES / "shopify_products.csv"),
    ]
    return [*loaded, OWN]


@pytest.fixture
def keys(products: list[Product]) -> CatalogKeys:
    return CatalogKeys(products)


@pytest.fixture(autouse=True)
def forget_logged(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shopify_lines, "_LOGGED", set())


def test_the_fixture_is_what_an_import_makes(products: list[Product]) -> None:
    ids = {p.id for p in products}
    assert {"granite-pass-boot-brown", "granite-pass-boot-charcoal", "camp-mug"} <= ids
    assert {"block-print-kurta-indigo", "block-print-kurta-rust", "handloom-dohar"} <= ids


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        # A size's SKU names its colourway.
        ({"sku": "GP-CHA-11", "product_id": 1, "variant_id": 2}, "granite-pass-boot-charcoal"),
        ({"sku": "NS-KUR-RST-M"}, "block-print-kurta-rust"),
        ({"sku": " ns-kur-ind-l "}, "block-print-kurta-indigo"),
        ({"sku": "MUG-01"}, "camp-mug"),
        # textcart's own catalogs: the SKU is the product id.
        ({"sku": "TH-RIDGE-TR-W-BLU", "product_id": 1}, "TH-RIDGE-TR-W-BLU"),
        ({"sku": "block-print-kurta-rust"}, "block-print-kurta-rust"),
        # No SKU (Charcoal 12 has none): the title, the colour among the options.
        (
            {"sku": "", "title": "Granite Pass Hiking Boot", "variant_title": "12 / Charcoal"},
            "granite-pass-boot-charcoal",
        ),
        ({"sku": None, "title": "Enamel Camp Mug", "variant_title": "Default Title"}, "camp-mug"),
        ({"title": "Handloom Cotton Dohar"}, "handloom-dohar"),
        ({"title": "Women's Ridgeline Trail Runner"}, "TH-RIDGE-TR-W-BLU"),
        # A cart line that carries the handle.
        (
            {"handle": "block-print-kurta", "variant_title": "Indigo / S"},
            "block-print-kurta-indigo",
        ),
        # A SKU the catalog lacks, but a title it has.
        (
            {"sku": "NEW-SKU", "title": "Block Print Cotton Kurta", "variant_title": "Rust / L"},
            "block-print-kurta-rust",
        ),
    ],
)
def test_a_line_names_the_catalogs_product(
    keys: CatalogKeys, line: dict[str, Any], expected: str
) -> None:
    assert keys.product_for(line) == expected


@pytest.mark.parametrize(
    "line",
    [
        # Two colourways and no colour to tell them apart: not guessed.
        {"title": "Block Print Cotton Kurta", "variant_title": "M"},
        {"handle": "granite-pass-boot"},
        # Shopify's numbers: a products export has none, so the catalog never knew them.
        {"sku": "", "product_id": 632910392, "variant_id": 808950810},
        {"sku": "GIFT-50", "title": "Gift Card", "variant_title": "$50"},
        {},
    ],
)
def test_a_line_the_catalog_cannot_name_names_nothing(
    keys: CatalogKeys, line: dict[str, Any]
) -> None:
    assert keys.product_for(line) is None


def test_a_sku_two_products_share_names_neither(products: list[Product]) -> None:
    twin = Product(id="kurta-twin", title="Kurta Twin", price=1, variants=[
        {"sku": "NS-KUR-RST-M", "price": 1}])  # fmt: skip
    keys = CatalogKeys([*products, twin])
    assert keys.product_for({"sku": "NS-KUR-RST-M"}) is None
    # The title still tells them apart.
    line = {"sku": "NS-KUR-RST-M", "title": "Block Print Cotton Kurta", "variant_title": "Rust"}
    assert keys.product_for(line) == "block-print-kurta-rust"


def test_a_payload_keeps_each_product_once_and_reports_the_rest(
    keys: CatalogKeys, caplog: pytest.LogCaptureFixture
) -> None:
    payload = {
        "line_items": [
            {"sku": "NS-KUR-RST-S"},
            {"sku": "GIFT-50", "title": "Gift Card"},
            {"sku": "NS-KUR-RST-M"},  # another size of the same colourway
            {"sku": "", "variant_id": 99, "title": "Mystery", "variant_title": "Blue"},
            "not a line",
            {"sku": "MUG-01"},
        ]
    }
    with caplog.at_level(logging.WARNING, logger="textcart.shopify_lines"):
        first = keys.match(payload)
        again = keys.match(payload)
    expected = LineMatch(
        ["block-print-kurta-rust", "camp-mug"],
        ["sku 'GIFT-50'", "without a sku (Mystery / Blue, variant 99)"],
    )
    assert first == again == expected
    # Each unknown line is logged once, with its SKU, however often Shopify sends it.
    assert [r.getMessage() for r in caplog.records] == [
        "Shopify line item sku 'GIFT-50' matches no catalog product; left out of the "
        "shopper's events and orders",
        "Shopify line item without a sku (Mystery / Blue, variant 99) matches no catalog "
        "product; left out of the shopper's events and orders",
    ]


async def test_the_catalog_is_read_once_and_again_after_a_write(products: list[Product]) -> None:
    catalog: Any = ProductListCatalog(products)
    payload = {"line_items": [{"sku": "GP-BRN-12"}]}
    assert (await match_lines(catalog, payload)).ids == ["granite-pass-boot-brown"]
    assert (await match_lines(catalog, payload)).ids == ["granite-pass-boot-brown"]
    assert catalog.reads == 1
    assert await match_lines(catalog, {"line_items": []}) == LineMatch()
    assert catalog.reads == 1  # no lines, no read
    catalog.items = [p for p in products if p.id != "granite-pass-boot-brown"]
    catalog.version += 1
    assert (await match_lines(catalog, payload)).ids == []
    assert catalog.reads == 2
    assert isinstance(await catalog_keys(catalog), CatalogKeys)
