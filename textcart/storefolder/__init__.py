"""The store folder: one directory that makes textcart one store's agent.

``store.yaml`` (name, currency, brand voice, quiet hours, frequency cap, offer rules,
hand-off channel, model per decision, the catalog and order files), the knowledge base the
answers read (``knowledge/``), and optional prompt overrides (``prompts/<decision>.yaml``).
``TEXTCART_STORE_DIR`` or ``textcart --store DIR`` selects it; the packaged demo store is
one such folder and the default. ``textcart init DIR`` writes a neutral one.

* `settings`: `store.yaml` read and checked, errors by file, line and field.
* `scaffold`: what ``textcart init`` writes.

This part imports only the vocabulary and paths, so every other part may read it.
"""
