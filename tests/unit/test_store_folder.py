"""One store folder makes textcart one store's agent: settings, prompts, prices, voice.

What an operator notices: `textcart init` writes a folder that loads; a mistake in it is
named by file, line and field; the environment still overrides it; a prompt they put in
`prompts/` replaces the packaged one; prices print in the store's currency; packaged
prompts never name the demo store.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from textcart.deciders.base import load_prompt_file, prompt_messages
from textcart.demo_store.loader import catalog_files
from textcart.graph.context import Context
from textcart.prompts.loader import PROMPT_NAMES, PromptFileError, load_prompt
from textcart.rules.grounding import violations
from textcart.rules.voice import avoided_words, signed, without_emoji
from textcart.storefolder.scaffold import write_store_folder
from textcart.storefolder.settings import (
    StoreFolderError,
    active_store,
    load_settings,
    parse_settings,
)
from textcart.tools.catalog_files import read_products
from textcart.vocabulary.money import MONEY_PATTERN, format_money
from textcart.vocabulary.records import SmsFacts

PACKAGED_PROMPTS = Path(__file__).resolve().parents[2] / "textcart" / "prompts"
SHOPIFY_FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "shopify_products.csv"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A store folder from `textcart init`, selected for this test."""
    folder = tmp_path / "bazaar"
    write_store_folder(folder, name="Bazaar Lane", currency="INR", timezone="Asia/Kolkata")
    monkeypatch.setenv("TEXTCART_STORE_DIR", str(folder))
    for name in ("TEXTCART_STORE_NAME", "TEXTCART_OFFER_CODE", "TEXTCART_QUIET_START"):
        monkeypatch.delenv(name, raising=False)
    yield folder


def test_init_writes_a_folder_that_loads_and_selects(store: Path) -> None:
    settings = active_store()
    assert (settings.name, settings.currency, settings.timezone) == (
        "Bazaar Lane",
        "INR",
        "Asia/Kolkata",
    )
    context = Context()
    assert context.store_name == "Bazaar Lane" and context.currency == "INR"
    # No offer code in a new store: no band may be offered anything.
    assert context.offer_code == "" and context.offer_band_set == frozenset()
    assert (store / "knowledge" / "policies.yaml").is_file()


def test_init_never_overwrites_an_operators_file(store: Path) -> None:
    (store / "store.yaml").write_text("name: Mine\ncurrency: EUR\n")
    with pytest.raises(StoreFolderError, match="already exists"):
        write_store_folder(store, name="Other")
    assert load_settings(store).name == "Mine"


def test_environment_overrides_the_file(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTCART_STORE_NAME", "Pop-up Shop")
    monkeypatch.setenv("TEXTCART_QUIET_START", "20")
    context = Context()
    assert context.store_name == "Pop-up Shop" and context.quiet_hours_start == 20


def test_the_demo_store_is_one_store_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEXTCART_STORE_DIR", raising=False)
    monkeypatch.delenv("TEXTCART_STORE_NAME", raising=False)
    monkeypatch.delenv("TEXTCART_OFFER_CODE", raising=False)
    settings = active_store()
    context = Context()
    assert settings.name == context.store_name == "Trailhead Outfitters"
    assert context.offer_code == "TRAIL10" and context.offer_band_set == {"medium"}
    assert [p.name for p in catalog_files()] == ["catalog.jsonl"]


@pytest.mark.parametrize(
    ("change", "line", "field", "message"),
    [
        ("emoji: sparing", 13, "voice.emoji", "'none', 'sparing' or 'free'"),
        ("currency: INR", 4, "currency", "unknown currency 'RUPEES'"),
        ("quiet_hours: {start: 21, end: 9}", 16, "quiet_hours.start", "less than or equal"),
        ("release_after_hours: 24", 27, "handoff.release_after_hours", "greater than 0"),
        ("timezone: Asia/Kolkata", 6, "timezone", "unknown time zone"),
    ],
)
def test_a_bad_value_is_named_by_file_line_and_field(
    store: Path, change: str, line: int, field: str, message: str
) -> None:
    broken = {
        "emoji: sparing": "emoji: lots",
        "currency: INR": "currency: RUPEES",
        "quiet_hours: {start: 21, end: 9}": "quiet_hours: {start: 25, end: 9}",
        "release_after_hours: 24": "release_after_hours: 0",
        "timezone: Asia/Kolkata": "timezone: Mars/Olympus",
    }[change]
    path = store / "store.yaml"
    text = path.read_text()
    assert text.splitlines()[line - 1].split("#")[0].strip().startswith(change.split(":")[0])
    path.write_text(text.replace(change, broken, 1))
    with pytest.raises(StoreFolderError) as caught:
        load_settings(store)
    assert f"{path}:{line}: {field}: " in str(caught.value)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: x\n", "store.yaml:1: currency: Field required"),
        ("name: x\ncurrency: USD\nvoice: {colour: blue}\n", "store.yaml:3: voice.colour: Extra"),
        ("name: x\ncurrency: [USD\n", "store.yaml:3: not valid YAML"),
        ("- a list\n", "store.yaml:1: must be a mapping"),
    ],
)
def test_unknown_missing_and_unreadable_are_clear(text: str, expected: str) -> None:
    with pytest.raises(StoreFolderError, match=expected.replace(".", r"\.")):
        parse_settings(text, "store.yaml")


def test_a_prompt_override_replaces_the_packaged_prompt(store: Path) -> None:
    packaged = (PACKAGED_PROMPTS / "tone.yaml").read_text()
    mine = packaged.replace(
        "You choose the tone for the next text message the store sends",
        "Bazaar Lane picks the tone for its next text",
    )
    (store / "prompts" / "tone.yaml").write_text(mine)
    assert load_prompt("tone").instructions.startswith("Bazaar Lane picks the tone")
    assert load_prompt_file("tone")["instructions"].startswith("Bazaar Lane picks")
    # Every other decision still reads the packaged file.
    assert "the store" in load_prompt("intent").instructions


def test_an_invalid_prompt_override_is_named(store: Path) -> None:
    (store / "prompts" / "wording.yaml").write_text("decision: wording\nversion: 0\n")
    with pytest.raises(PromptFileError) as caught:
        load_prompt("wording")
    assert str(store / "prompts" / "wording.yaml") in str(caught.value)
    assert "version" in str(caught.value)


def test_packaged_prompts_never_name_the_demo_store() -> None:
    for path in PACKAGED_PROMPTS.glob("*.yaml"):
        text = path.read_text().lower()
        assert "trailhead" not in text, path.name
        assert "next adventure" not in text, path.name


def test_prompts_sent_for_another_store_have_no_demo_name(store: Path) -> None:
    case = {"store_voice": Context().voice, "facts": {"store": "Bazaar Lane"}}
    for name in PROMPT_NAMES:
        messages = prompt_messages(name, case, "examples", untrusted_text="hello")
        text = " ".join(str(m.content) for m in messages).lower()
        assert "trailhead" not in text, name
        assert "bazaar lane" in text


@pytest.mark.parametrize(
    ("value", "currency", "text"),
    [
        (129, "USD", "$129"),
        (115.95, "usd", "$115.95"),
        (1299, "INR", "Rs 1,299"),
        (49.5, "EUR", "€49.50"),
        (1500.4, "JPY", "¥1,500"),
        (20, "ZAR", "ZAR 20"),
    ],
)
def test_prices_print_in_their_currency(value: float, currency: str, text: str) -> None:
    assert format_money(value, currency) == text


def test_the_guard_checks_rupee_prices_like_dollars() -> None:
    facts = SmsFacts(store="Bazaar Lane", product="Block Print Cotton Kurta", price="Rs 1,299")
    ok = "The Block Print Cotton Kurta is Rs 1,299."
    invented = "The Block Print Cotton Kurta is Rs 999 today."
    assert MONEY_PATTERN.findall(invented) == ["Rs 999"]
    kwargs = {"offer_code": "", "offer_percent": 0}
    assert not violations(ok, facts, "answer_question", "how much", **kwargs)
    assert any("Rs 999" in p for p in violations(invented, facts, "answer_question", "", **kwargs))


def test_voice_rules() -> None:
    assert avoided_words("A cheap deal, Guaranteed!", ["cheap", "guaranteed"]) == [
        "uses 'cheap', a word the store never texts",
        "uses 'guaranteed', a word the store never texts",
    ]
    assert avoided_words("cheaply made elsewhere", ["cheap"]) == []
    assert without_emoji("Great pick 🎉 enjoy!") == "Great pick enjoy!"
    assert signed("See you soon.", "- Bazaar Lane") == "See you soon.\n- Bazaar Lane"
    assert signed("See you soon.", "") == "See you soon."


def test_shopify_export_becomes_colourways_with_sizes_and_stock() -> None:
    report = read_products(SHOPIFY_FIXTURE, currency="INR")
    products = {p.id: p for p in report}
    assert report.format == "shopify-csv"
    assert set(products) == {"block-print-kurta-indigo", "block-print-kurta-rust", "handloom-dohar"}
    indigo = products["block-print-kurta-indigo"]
    assert indigo.title == "Block Print Cotton Kurta — Indigo"
    assert (indigo.price, indigo.compare_at_price, indigo.currency) == (1299, 1599, "INR")
    assert indigo.sizes == ["S", "M", "L"] and indigo.sizes_in_stock == ["S", "M"]
    assert products["block-print-kurta-rust"].sizes_in_stock == ["M"]
    assert products["handloom-dohar"].title == "Handloom Cotton Dohar"  # no colour option
    assert "Breathable for hot days" in indigo.description and "<" not in indigo.description
    assert report.skipped == 2
    assert any("draft" in p for p in report.problems)
    assert any("no Variant Price" in p for p in report.problems)


def test_store_catalog_files_come_from_store_yaml(store: Path) -> None:
    settings = (store / "store.yaml").read_text()
    (store / "store.yaml").write_text(
        settings.replace("catalog: []", f"catalog: [{SHOPIFY_FIXTURE}, extra.csv]")
    )
    load_settings(store)  # still valid
    assert catalog_files(store) == [SHOPIFY_FIXTURE, store / "extra.csv"]
