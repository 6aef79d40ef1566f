"""The Trailhead Outfitters demo store: the project's own small, fictional shop.

Trailhead Outfitters sells running, hiking and outdoor footwear, apparel and gear in the US
(prices in USD). This package holds its data, written by the project's developers:

* ``catalog_lines.yaml``: the product lines, written by hand (copy, prices, colourways);
* ``catalog.jsonl``: about 300 products (one per line and colourway), rendered from those
  lines deterministically by ``scripts/make_demo_catalog.py``;
* ``shoppers.yaml``: six fictional subscribers (555-01xx numbers) with preferences and
  browsing behaviour that tell a story;
* ``orders.yaml``: their orders, in every status;
* ``conversations/*.yaml``: scripted SMS conversations the demo plays and the simulations
  assert on.

``textcart.demo_store.loader`` reads and validates all of it.
"""
