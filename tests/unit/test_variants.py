"""Variants: sizes with their own price and stock, read from every catalog format and quoted.

The Shopify fixture is a boot whose size 12 and 13 cost more than its 10 and 11, with
sizes sold out in one colour and not the other, and a mug with Shopify's "Default Title".
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from textcart.answers.evidence import Evidence, find_answer
from textcart.answers.question import read_question
from textcart.demo_store.loader import demo_dir
from textcart.rules.grounding import violations
from textcart.tools.catalog import Product
from textcart.tools.catalog_files import read_products
from textcart.tools.embeddings import get_embedder
from textcart.vocabulary.records import SmsFacts

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "shopify_variants.csv"


@pytest.fixture(scope="module")
def boots() -> dict[str, Product]:
    return {p.id: p for p in read_products(FIXTURE)}


def test_shopify_variants_keep_their_own_price_stock_and_sku(boots: dict[str, Product]) -> None:
    assert set(boots) == {"granite-pass-boot-brown", "granite-pass-boot-charcoal", "camp-mug"}
    brown, charcoal = boots["granite-pass-boot-brown"], boots["granite-pass-boot-charcoal"]
    # Size is Option1 and colour Option2 in this export: found by name, not position.
    assert brown.title == "Granite Pass Hiking Boot — Brown"
    assert {(v.size, v.price, v.in_stock, v.sku) for v in brown.variants} == {
        ("10", 145, True, "GP-BRN-10"),
        ("11", 145, False, "GP-BRN-11"),
        ("12", 150, True, "GP-BRN-12"),
        ("13", 150, True, "GP-BRN-13"),
    }
    assert brown.sizes == ["10", "11", "12", "13"] and brown.sizes_in_stock == ["10", "12", "13"]
    assert brown.variant("12").compare_at_price == 170  # type: ignore[union-attr]
    assert brown.compare_at_price == 170
    # The product's price is the lowest of the sizes one can buy: the $139 10 is sold out.
    assert (charcoal.price, charcoal.price_for("10"), charcoal.price_for("12")) == (145, 139, 150)
    # A variant without a SKU gets an id from its product and size; "continue" oversells.
    twelve = charcoal.variant("12")
    assert twelve is not None and (twelve.id, twelve.sku, twelve.in_stock) == (
        "granite-pass-boot-charcoal-12",
        None,
        True,
    )
    # Colourways share the handle as their model, whatever their titles say.
    assert brown.model_key() == charcoal.model_key() == "granite-pass-boot"
    mug = boots["camp-mug"]
    assert (mug.title, mug.sizes, mug.price, mug.in_stock) == ("Enamel Camp Mug", [], 18, True)
    assert [v.id for v in mug.variants] == ["MUG-01"]


def test_jsonl_and_csv_rows_carry_variants(tmp_path: Path) -> None:
    variants = [
        {"size": "S", "price": 40, "in_stock": False},
        {"size": "M", "price": 40},
        {"size": "L", "price": 44, "sku": "TEE-L"},
    ]
    row = {"id": "tee-sand", "title": "Camp Tee — Sand", "model_id": "camp-tee"}
    (tmp_path / "c.jsonl").write_text(json.dumps({**row, "variants": variants}) + "\n")
    with (tmp_path / "c.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "title", "price", "model_id", "variants"])
        writer.writerow(["tee-sand", "Camp Tee — Sand", "", "camp-tee", json.dumps(variants)])
        writer.writerow(["tee-bad", "Camp Tee — Rust", "40", "camp-tee", "S:40|M:40"])
    from_jsonl = list(read_products(tmp_path / "c.jsonl"))
    report = read_products(tmp_path / "c.csv")
    from_csv = list(report)
    assert from_jsonl == from_csv
    tee = from_csv[0]
    # No price on the row: it follows from the sizes in stock. Ids come from SKU or size.
    assert (tee.price, tee.sizes_in_stock, tee.in_stock) == (40, ["M", "L"], True)
    assert [v.id for v in tee.variants] == ["tee-sand-s", "tee-sand-m", "TEE-L"]
    assert report.skipped == 1 and "variants: not a JSON list" in report.problems[0]


def test_catalogs_without_variants_load_as_before() -> None:
    lines = (demo_dir() / "catalog.jsonl").read_text().splitlines()
    products = list(read_products(demo_dir() / "catalog.jsonl"))
    assert len(products) == len(lines)
    for line, product in zip(lines, products, strict=True):
        raw = json.loads(line)
        assert product.variants == [] and product.model_id is None
        assert product.model_dump(include=set(raw)) == Product.model_validate(raw).model_dump(
            include=set(raw)
        )
        assert product.price == raw["price"] and product.id == raw["id"]
        assert product.sizes_in_stock == raw.get("sizes_in_stock", [])
        assert product.price_for("9") == product.price  # no variant: the one price


def _evidence(text: str, product: Product, colourways: list[Product]) -> Evidence:
    return Evidence(
        text=text,
        product=product,
        variants=colourways,
        others=[],
        knowledge=None,  # type: ignore[arg-type]  # product answers never read it
        embedder=get_embedder(),
        order=None,
        order_titles={},
        said_size=None,
        preferences={},
    )


def _answer(text: str, boots: dict[str, Product], asked: str = "granite-pass-boot-brown") -> Any:
    question = read_question(text)
    assert question is not None
    colourways = [boots["granite-pass-boot-brown"], boots["granite-pass-boot-charcoal"]]
    answer = find_answer(question, _evidence(text, boots[asked], colourways))
    assert answer is not None
    return answer


def _guard_problems(answer: Any) -> list[str]:
    """What the output guard says of the answer sent as it is, with the facts it is given."""
    facts = SmsFacts(
        answer=answer["text"],
        evidence=" | ".join(answer["facts"]),
        product=answer["product_title"],
        price=answer["price"],
    )
    return violations(
        answer["text"], facts, "answer_question", None, offer_code="", offer_percent=0
    )


def test_a_size_is_quoted_at_its_own_price(boots: dict[str, Product]) -> None:
    answer = _answer("how much is the granite pass boot in a 12?", boots)
    assert answer["text"] == (
        "The Granite Pass Hiking Boot — Brown is $150 in a 12 and 13, $145 in other sizes "
        "right now, on sale from $170."
    )
    assert answer["price"] == "$150"
    assert _guard_problems(answer) == []
    # The guard holds the price next to the title to the answer's price: the product's own
    # lowest price there would have stopped this text.
    assert _guard_problems({**answer, "price": "$145"}) != []


def test_a_price_without_a_size_names_the_sizes_that_cost_more(
    boots: dict[str, Product],
) -> None:
    answer = _answer("how much is the granite pass", boots, asked="granite-pass-boot-charcoal")
    # The sold-out $139 size 10 is not offered as the price.
    assert answer["text"] == "The Granite Pass Hiking Boot — Charcoal is $145 ($150 in 12)."
    assert answer["price"] == "$145"
    assert _guard_problems(answer) == []


def test_a_size_in_stock_answers_with_that_variants_price(boots: dict[str, Product]) -> None:
    answer = _answer("granite pass in brown size 12 in stock?", boots)
    assert answer["status"] == "yes"
    assert answer["text"] == (
        "Yes, the Granite Pass Hiking Boot is in stock in 12 in Brown. "
        "It's $150 in a 12 and 13, $145 in other sizes."
    )
    assert answer["price"] == "$150" and _guard_problems(answer) == []
    sold_out = _answer("do you have the granite pass in brown in a 11?", boots)
    # Brown's 11 is sold out (inventory 0), Charcoal's is not.
    assert sold_out["status"] == "no"
    assert "sold out in 11" in sold_out["text"] and "Charcoal has it in 11" in sold_out["text"]
