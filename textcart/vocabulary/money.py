"""Prices as texts print them, in the currency of the product or the store.

One function formats every price the agent writes, and one pattern finds every price a
draft contains, so the output guard checks rupees and euros as it checks dollars. Symbols
are chosen to stay inside the GSM-7 alphabet where one exists ("Rs" rather than the rupee
sign, which would turn a whole text into 70-character UCS-2 segments).
"""

from __future__ import annotations

import re

# ISO 4217 code -> the prefix a text puts before the amount.
_PREFIX: dict[str, str] = {
    "USD": "$",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "SGD": "S$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "Rs ",
    "CHF": "CHF ",
    "SEK": "SEK ",
    "NOK": "NOK ",
    "DKK": "DKK ",
}
# Currencies whose amounts are never written with cents.
_WHOLE_UNITS = frozenset({"JPY"})

CURRENCIES: tuple[str, ...] = tuple(_PREFIX)

# Any price a text may contain, whatever the currency: "$129", "Rs 1,299", "€49.50".
# "$1,299" is one price; "$145, under $150" is two.
MONEY_PATTERN = re.compile(
    r"(?:(?:CA|A|NZ|S)?\$|€|£|¥|₹|\bRs\.?|\bINR|\bCHF|\bSEK|\bNOK|\bDKK)"
    r"\s?\d+(?:,\d{3})*(?:\.\d{2})?"
)


def is_known_currency(code: str) -> bool:
    """True for the currency codes `format_money` prints with their own symbol."""
    return code.upper() in _PREFIX


def currency_prefix(currency: str) -> str:
    """The text before an amount: "$" for USD, "Rs " for INR, "EUR " for one we don't list."""
    code = (currency or "USD").upper()
    return _PREFIX.get(code, f"{code} ")


def format_money(value: float, currency: str = "USD") -> str:
    """A price as texts print it: "$145", "$115.95", "Rs 1,299", "€49.50"."""
    code = (currency or "USD").upper()
    amount = float(value)
    if amount.is_integer() or code in _WHOLE_UNITS:
        number = f"{amount:,.0f}"
    else:
        number = f"{amount:,.2f}"
    return f"{currency_prefix(code)}{number}"


def amount_of(text: str) -> str:
    """The amount of a price text without its symbol and spaces ("Rs 1,299" -> "1,299")."""
    match = re.search(r"\d+(?:,\d{3})*(?:\.\d{1,2})?", text)
    return match.group(0) if match else ""
