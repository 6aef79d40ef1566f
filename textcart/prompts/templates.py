"""Wording templates: the placeholders they may use, and the checks every template passes."""

from __future__ import annotations

import string

from textcart.vocabulary.gsm import GSM_CHARACTERS

# The only names wording templates may use, with what the sender fills in.
TEMPLATE_PLACEHOLDERS: dict[str, str] = {
    "name": "first name (left out of the template when unknown)",
    "store": "store name",
    "product": "product title",
    "price": 'product price, e.g. "$129"',
    "highlight": "one selling point of the product",
    "alternative": "alternative product title",
    "alternative_price": 'alternative product price, e.g. "$139"',
    "products": 'list, e.g. "Ridgeline Trail Runner ($129), Tempo Road Racer ($139)"',
    "link": "product or checkout URL",
    "offer_code": "discount code",
    "offer_percent": 'discount as a number without the % sign, e.g. "15"',
    "order_line": "a full sentence about the order status",
    "question": "the clarifying question",
    "scarcity": "a low-stock line, present only when stock really is low",
    "handoff": "what will happen after a hand-off, and only that",
}


def template_placeholders(template: str) -> list[str]:
    """Return the placeholder names used in a ``str.format`` template, in order."""
    return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]


def template_literal_text(template: str) -> str:
    """Return the fixed text of a template, without its placeholders."""
    return "".join(literal for literal, _, _, _ in string.Formatter().parse(template))


def check_template(template: str) -> None:
    """Refuse a template with broken braces, unknown or formatted names, or non-SMS text."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"template {template!r} has broken braces: {exc}") from exc
    for _, field, spec, conversion in fields:
        if field is None:
            continue
        if field not in TEMPLATE_PLACEHOLDERS:
            raise ValueError(f"template {template!r} uses unknown placeholder {{{field}}}")
        if spec or conversion:
            raise ValueError(f"template {template!r} formats {{{field}}}; use plain names")
    odd = sorted(set(template_literal_text(template)) - GSM_CHARACTERS)
    if odd:
        raise ValueError(f"template {template!r} has characters outside plain SMS text: {odd}")
