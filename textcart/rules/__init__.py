"""Rules the graph applies, each readable and testable without a graph, a model or a store.

Pure functions over the vocabulary's records: what a text says it needs (`needs`), which
product "it" or "the first one" means (`references`). Rules import only
`textcart.vocabulary` and each other.
"""
