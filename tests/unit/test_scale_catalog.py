"""The scale catalogs are seeded, loadable, and grow from real products by colourways."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from textcart.tools.catalog import Product
from textcart.tools.catalog_files import read_products

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_scale_catalog.py"


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_scale_catalog", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


BASES = [
    Product(id="F1", title="Canvas Sneaker", category="footwear/casual", price=1660.0,
            currency="INR", rating=4.0),
    Product(id="F2", title="Cotton Kurta", category="clothing/women", price=830.0,
            currency="INR"),
    Product(id="C1", title="Desk Lamp", description="A lamp.", price=0.0),
]  # fmt: skip


def test_same_seed_same_catalog_and_larger_ones_add_colourways(script: ModuleType) -> None:
    first = script.make_catalog(10, seed=3, bases=BASES)
    assert first == script.make_catalog(10, seed=3, bases=BASES)
    assert first != script.make_catalog(10, seed=4, bases=BASES)
    assert len({p.id for p in first}) == 10
    assert {p.id for p in first[:3]} == {"F1", "F2", "C1"}
    variants = first[3:]
    assert all(" — " in p.title and p.colors for p in variants)
    assert all(p.title.split(" — ")[0] in {b.title for b in BASES} for p in variants)
    sample = script.make_catalog(2, seed=3, bases=BASES)
    assert len(sample) == 2 and {p.id for p in sample} <= {"F1", "F2", "C1"}


def test_store_fields_are_filled_sensibly(script: ModuleType) -> None:
    products = {p.id: p for p in script.make_catalog(3, seed=1, bases=BASES)}
    shoe, kurta, lamp = products["F1"], products["F2"], products["C1"]
    assert shoe.currency == "USD" and shoe.price == pytest.approx(20.0, abs=0.01)
    assert set(shoe.sizes) == set(script.SHOE_SIZES) and kurta.sizes == list(script.LETTER_SIZES)
    assert lamp.sizes == [] and lamp.category == "marketplace" and lamp.price > 0
    for p in products.values():
        assert set(p.sizes_in_stock) <= set(p.sizes)
        assert p.rating is not None and (p.compare_at_price or p.price) >= p.price


def test_written_catalog_loads_as_textcart_reads_it(script: ModuleType, tmp_path: Path) -> None:
    products = script.make_catalog(7, seed=2, bases=BASES)
    path = script.write_catalog(products, tmp_path / "c.jsonl")
    report = read_products(path)
    assert list(report) == products and report.skipped == 0
