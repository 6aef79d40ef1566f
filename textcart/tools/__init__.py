"""One module per external system: Weaviate, the shopper store, embeddings, LLMs, orders."""
