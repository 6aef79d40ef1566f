"""The demo store's data is complete, consistent, and regenerates byte for byte."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from textcart.demo_store.loader import (
    catalog_path,
    demo_dir,
    load_conversations,
    load_orders,
    load_shoppers,
)

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "make_demo_catalog.py"
PRODUCT_FIELDS = [
    "id",
    "title",
    "brand",
    "category",
    "description",
    "price",
    "currency",
    "compare_at_price",
    "colors",
    "sizes",
    "sizes_in_stock",
    "in_stock",
    "rating",
    "review_count",
    "selling_points",
    "url",
    "tags",
]


@pytest.fixture(scope="module")
def products() -> list[dict[str, Any]]:
    lines = catalog_path().read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def by_id(products: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in products}


def test_catalog_ids_are_unique(products: list[dict[str, Any]]) -> None:
    ids = [p["id"] for p in products]
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_catalog_is_big_and_varied_enough(products: list[dict[str, Any]]) -> None:
    assert len(products) >= 250
    categories = {p["category"] for p in products}
    assert len(categories) >= 8
    assert {c.split("/")[0] for c in categories} == {"footwear", "apparel", "gear"}
    sold_out = sum(not p["in_stock"] for p in products) / len(products)
    assert 0.05 <= sold_out <= 0.12
    assert sum(p["compare_at_price"] is not None for p in products) >= 20
    assert len({p["brand"] for p in products}) >= 3


def _problems(p: dict[str, Any]) -> list[str]:
    checks = {
        "fields": list(p) == PRODUCT_FIELDS,
        "id": p["id"].startswith("TH-") and p["id"] == p["id"].upper(),
        "title": " — " in p["title"],
        "text": bool(p["brand"] and p["description"]),
        "category": "/" in p["category"],
        "price": isinstance(p["price"], float) and p["price"] > 0,
        "currency": p["currency"] == "USD",
        "markdown": p["compare_at_price"] is None
        or (p["compare_at_price"] > p["price"] and "sale" in p["tags"]),
        "colors": bool(p["colors"]),
        "sizes": bool(p["sizes"]) and len(set(p["sizes"])) == len(p["sizes"]),
        "sizes_in_stock": set(p["sizes_in_stock"]) <= set(p["sizes"]),
        "in_stock": p["in_stock"] is bool(p["sizes_in_stock"]),
        "rating": (p["rating"] is None and p["review_count"] == 0)
        or (p["rating"] is not None and 3.6 <= p["rating"] <= 4.9 and p["review_count"] > 0),
        "selling_points": 3 <= len(p["selling_points"]) <= 5,
        "url": p["url"] == f"https://trailhead.example/products/{p['id']}",
        "tags": bool(p["tags"]),
    }
    return [name for name, ok in checks.items() if not ok]


def test_every_product_is_valid(products: list[dict[str, Any]]) -> None:
    bad = {p["id"]: problems for p in products if (problems := _problems(p))}
    assert bad == {}


def test_generator_is_deterministic_and_committed_output_is_current(tmp_path: Path) -> None:
    outputs = []
    for name in ("first.jsonl", "second.jsonl"):
        out = tmp_path / name
        subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True, cwd=REPO)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]
    assert outputs[0] == catalog_path().read_bytes(), "rerun scripts/make_demo_catalog.py"


def test_data_files_live_inside_the_package() -> None:
    package = demo_dir()
    assert (package / "__init__.py").exists()
    for name in ("catalog.jsonl", "shoppers.yaml", "orders.yaml"):
        assert (package / name).is_file()
    assert len(list((package / "conversations").glob("*.yaml"))) == 8


def test_shoppers_load_and_tell_their_stories(by_id: dict[str, dict[str, Any]]) -> None:
    shoppers = load_shoppers()
    assert len(shoppers) == 6
    assert [s.key for s in shoppers.values() if s.consent == "opted_out"] == ["jordan"]
    assert len({s.timezone for s in shoppers.values()}) >= 4
    for shopper in shoppers.values():
        assert shopper.events, shopper.key
        for event in shopper.events:
            assert event.product_id in by_id

    maya = shoppers["maya"]
    viewed = [e.product_id for e in maya.events if e.type == "viewed"]
    assert len(viewed) == 3
    assert all(by_id[i]["category"] == "footwear/trail running shoes" for i in viewed)
    cart = [e for e in maya.events if e.type == "added_to_cart"]
    assert len(cart) == 1 and cart[0].minutes_ago == 120
    assert {"8", "8.5"} <= set(by_id[cart[0].product_id]["sizes_in_stock"])

    rosa = shoppers["rosa"]
    for event in rosa.events:
        if event.type == "viewed":
            assert by_id[event.product_id]["compare_at_price"] is not None, event.product_id

    assert len(shoppers["sam"].events) == 1


def test_orders_load_and_match_the_stories(by_id: dict[str, dict[str, Any]]) -> None:
    orders = load_orders()
    shoppers = load_shoppers()
    phone_of = {key: s.phone for key, s in shoppers.items()}
    assert {o.status for o in orders} == {"processing", "shipped", "delivered", "returned"}
    for order in orders:
        for item in order.items:
            assert item.size in by_id[item.product_id]["sizes"]
    open_orders = [o for o in orders if o.status in ("processing", "shipped")]
    assert any(o.phone == phone_of["luis"] and o.status == "shipped" for o in open_orders)
    dev_orders = [o for o in orders if o.phone == phone_of["dev"]]
    assert any(
        by_id[i.product_id]["category"] == "apparel/insulated jackets"
        for o in dev_orders
        for i in o.items
    )


def test_conversations_load_and_cover_the_demo(by_id: dict[str, dict[str, Any]]) -> None:
    conversations = load_conversations()
    shoppers = load_shoppers()
    assert len(conversations) == 8
    assert len({c.name for c in conversations}) == 8
    expected_intents = Counter(
        t.expect.intent for c in conversations for t in c.turns if t.expect.intent
    )
    for intent in (
        "product_question",
        "recommendation_request",
        "price_or_discount",
        "order_status",
        "return_or_refund",
        "complaint",
        "opt_out",
    ):
        assert expected_intents[intent] >= 1, intent
    assert any(t.trigger for c in conversations for t in c.turns)
    categories = {p["category"] for p in by_id.values()}
    for conversation in conversations:
        assert conversation.shopper in shoppers
        for turn in conversation.turns:
            if turn.expect.category:
                assert any(c.startswith(turn.expect.category) for c in categories)

    stop = next(c for c in conversations if c.name == "stop-then-text")
    texts = [t for t in stop.turns if t.text]
    assert texts[0].text == "STOP" and texts[0].expect.intent == "opt_out"
    assert texts[1].expect.no_message is True
    assert shoppers[stop.shopper].consent == "subscribed"

    complaint = next(c for c in conversations if c.name == "complaint-handoff")
    assert complaint.turns[0].expect.next_message == "handoff_to_human"
    assert any(ord(ch) > 0xFFFF for c in conversations for t in c.turns for ch in t.text or "")


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(demo_dir(), root, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return root


def _edit_yaml(path: Path, change: Any) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_copy_of_demo_data_loads(demo_copy: Path) -> None:
    assert len(load_conversations(demo_copy)) == 8
    assert len(load_orders(demo_copy)) == len(load_orders())


def test_unknown_product_in_shopper_events_is_rejected(demo_copy: Path) -> None:
    _edit_yaml(
        demo_copy / "shoppers.yaml",
        lambda d: d["sam"]["events"].append(
            {"type": "viewed", "product_id": "TH-NOPE-BLK", "minutes_ago": 5}
        ),
    )
    with pytest.raises(ValueError, match="TH-NOPE-BLK"):
        load_shoppers(demo_copy)


def test_real_looking_phone_number_is_rejected(demo_copy: Path) -> None:
    _edit_yaml(demo_copy / "shoppers.yaml", lambda d: d["sam"].update(phone="+14155551234"))
    with pytest.raises(ValueError, match="fictional"):
        load_shoppers(demo_copy)


def test_order_size_must_exist_for_the_product(demo_copy: Path) -> None:
    _edit_yaml(demo_copy / "orders.yaml", lambda d: d["orders"][0]["items"][0].update(size="14"))
    with pytest.raises(ValueError, match="no size '14'"):
        load_orders(demo_copy)


def test_order_must_belong_to_a_demo_shopper(demo_copy: Path) -> None:
    _edit_yaml(demo_copy / "orders.yaml", lambda d: d["orders"][0].update(phone="+13105550100"))
    with pytest.raises(ValueError, match="not a demo shopper"):
        load_orders(demo_copy)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(shopper="nobody"), "unknown shopper"),
        (lambda d: d["turns"][1]["expect"].update(intent="sizing"), "intent"),
        (lambda d: d["turns"][1]["expect"].update(next_message="upsell"), "next_message"),
        (lambda d: d["turns"][1]["expect"].update(category="toys/"), "no catalog category"),
        (lambda d: d["turns"][1].update(trigger="browse_abandonment"), "exactly one"),
        (lambda d: d["turns"][1]["expect"].update(mood="happy"), "mood"),
        (lambda d: d.update(name="renamed"), "match the file name"),
    ],
)
def test_bad_conversation_is_rejected(demo_copy: Path, change: Any, message: str) -> None:
    _edit_yaml(demo_copy / "conversations" / "sizing-question.yaml", change)
    with pytest.raises(ValueError, match=message):
        load_conversations(demo_copy)
