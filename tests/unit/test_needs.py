"""Budget and size read from what the shopper wrote."""

import pytest

from textcart.rules.needs import read_needs


@pytest.mark.parametrize(
    "text,budget,size",
    [
        ("any trail shoes under $120 in a 9.5?", 120.0, "9.5"),
        ("need a rain jacket, budget is 150, size M", 150.0, "M"),
        ("something below 80 bucks", 80.0, None),
        ("do these come in size 11", None, "11"),
        ("got it in a medium?", None, "M"),
        ("ok do they have a medium", None, "M"),
        ("do u have an xl?", None, "XL"),
        ("a medium weight fleece for fall?", None, None),
        ("mens mudlark in olive, any sizes left?", None, None),
        ("need it in as few days as possible", None, None),
        ("$200 max for boots", 200.0, None),
        ("hi there 👋", None, None),
        ("I'd pay 10% more for waterproof", None, None),
    ],
)
def test_read_needs(text: str, budget: float | None, size: str | None) -> None:
    needs = read_needs(text, {})
    assert needs["budget_max"] == budget and needs["size"] == size


def test_saved_preferences_fill_gaps() -> None:
    assert read_needs("anything new?", {"budget_max": 90})["budget_max"] == 90.0
    assert read_needs("under $50", {"budget_max": 90})["budget_max"] == 50.0
