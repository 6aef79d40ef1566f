"""`textcart init DIR`: write a neutral store folder for an operator to fill in.

Everything written here is generic on purpose: no store name, no product line, no policy
that only one shop has. The operator replaces the bracketed parts; `textcart --store DIR
check` (or any command run with that folder) reports what is still wrong, by file and line.
"""

from __future__ import annotations

import json
from pathlib import Path

from textcart.storefolder.settings import SETTINGS_FILE, StoreFolderError, parse_settings

_STORE_YAML = """\
# {name}: the store folder textcart reads (`textcart --store DIR ...` or
# TEXTCART_STORE_DIR=DIR). Environment variables named TEXTCART_... override any value.
name: {name_yaml}                 # in texts, the HELP reply and opt-out confirmations
currency: {currency}                # ISO 4217; prices print in it (products may carry their own)
locale: en-US
timezone: {timezone}  # used when a shopper's own zone is unknown

voice:
  guidelines: >-
    Friendly, plain and brief. Answer the question first, with the fact the shopper
    asked for, then at most one helpful line.
  avoid_words: []            # words the store never texts, e.g. ["cheap", "guaranteed"]
  emoji: sparing             # none | sparing | free
  sign_off: ""               # e.g. "- the team"; added when it fits the segment budget

quiet_hours: {{start: 21, end: 9}}           # shopper's local time; state law may narrow it
frequency_cap: {{texts: 2, window_hours: 24}} # proactive texts per shopper
max_segments: 2

offers:
  code: ""                   # the only discount code the agent may text; empty: no offers
  percent: 10
  bands: [medium]            # buy-likelihood bands that may be offered it

handoff:
  webhook_url: ""            # Slack-compatible incoming webhook told of every hand-off
  release_after_hours: 24    # a thread a person took over returns to the agent after this
  review: false              # pause each hand-off reply for a person to send or edit

models:                      # 'provider:model', 'local', or empty for classic deciders
  default: ""
  # intent: ""  buy_likelihood: ""  tone: ""  fit: ""  next_message: ""  wording: ""

catalog: []                  # product files relative to this folder: .jsonl, .csv, a
                             # Shopify products export or a Flipkart CSV
orders: ""                   # an orders YAML for testing; real stores use Shopify webhooks
knowledge: knowledge
"""

_POLICIES = """\
# The numbers order-aware answers compute with. Keep them in step with the documents.
return_window_days: 30
returns_url: example.com/returns
changeable_statuses: [processing]   # an order can be changed or cancelled until it ships
contact: help@example.com
"""

_POLICY_DOC = """\
# Store policies

Each `## ` section is one answer the agent may text as it is: a few short sentences.
The `Topics:` line says which questions it answers (returns, exchanges, packaging, cancel,
shipping_time, shipping_cost, express, international, payment, billing, discounts,
warranty, contact, sizing, care, worn, price_match).

## Returns
Topics: returns
Unused items can be returned within 30 days of delivery for a full refund.
Start a return at example.com/returns.

## Exchanges
Topics: exchanges
Exchanges for another size or colour are free within 30 days of delivery:
start one at example.com/returns.

## Changing or cancelling an order
Topics: cancel, exchanges
An order can be changed or cancelled until it ships.

## Shipping times
Topics: shipping_time
Standard shipping takes 3-5 business days.

## Contact
Topics: contact
Reach the team at help@example.com.
"""

_FAQ = """\
# Questions shoppers ask

## Payment options
Topics: payment
We take the major cards.

## Promo codes
Topics: discounts
Sale prices are marked on each product.
"""

_PROMPTS_README = """\
# Prompt overrides

A file here named after a decision replaces the packaged prompt of that decision:
intent.yaml, buy_likelihood.yaml, tone.yaml, fit.yaml, next_message.yaml, wording.yaml.
Start from the packaged file (textcart/prompts/<decision>.yaml), keep its shape, and edit
the instructions, examples or templates. It is checked like the packaged one when the
agent starts; an invalid file is an error naming the file and the field.
"""


def write_store_folder(
    folder: Path,
    *,
    name: str = "Example Store",
    currency: str = "USD",
    timezone: str = "America/New_York",
    overwrite: bool = False,
) -> list[Path]:
    """Write a neutral store folder at `folder`; returns the files written.

    Refuses to touch an existing `store.yaml` unless `overwrite`, so an operator's edits
    are never lost to a second `init`.
    """
    settings_path = folder / SETTINGS_FILE
    if settings_path.exists() and not overwrite:
        raise StoreFolderError(f"{settings_path}: already exists; nothing was written")
    text = _STORE_YAML.format(
        name=name, name_yaml=json.dumps(name), currency=currency.upper(), timezone=timezone
    )
    parse_settings(text, str(settings_path))  # the values given must make a valid file
    files = {
        settings_path: text,
        folder / "knowledge" / "policies.yaml": _POLICIES,
        folder / "knowledge" / "policies.md": _POLICY_DOC,
        folder / "knowledge" / "faq.md": _FAQ,
        folder / "prompts" / "README.md": _PROMPTS_README,
    }
    for path, content in files.items():
        if path.exists() and not overwrite and path != settings_path:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return list(files)
