"""The product catalog in Weaviate: products, their embeddings, and hybrid search.

Each product is one Weaviate object whose UUID is derived from the store's SKU, so loading
a catalog again replaces products instead of duplicating them. Vectors are computed here,
client-side, by the project's embedder (the collection has no vectorizer), and search
blends BM25 keyword scores with vector similarity.
"""

from __future__ import annotations

import asyncio
import re
import uuid
import warnings
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from weaviate import WeaviateAsyncClient
from weaviate.classes.config import Configure, DataType, Property, Tokenization, VectorDistances
from weaviate.classes.data import DataObject
from weaviate.classes.query import BM25Operator, Filter, HybridFusion, MetadataQuery
from weaviate.collections.classes.filters import _Filters

from textcart.tools.embeddings import Embedder, aembed
from textcart.vocabulary.products import Product, clean_path, model_of_title

DEFAULT_COLLECTION = "Product"
VECTOR_NAME = "text"
# Fixed namespace so a SKU maps to the same object UUID on every machine and every load.
_SKU_NAMESPACE = uuid.UUID("5f0c3a52-3c1e-4c55-9d1b-7a0d6cfa1c11")
# Titles name the product and brands are what shoppers type, so they outweigh body text.
_SEARCH_FIELDS = ["title^3", "brand^2", "category^2", "selling_points", "tags", "description"]
SEARCH_PROPERTIES = tuple(f.split("^")[0] for f in _SEARCH_FIELDS)
# Rank fusion, not min-max score fusion: on CrowdFlower's dev queries (9,913 products) the
# two tie (nDCG@10 0.787 vs 0.786 at alpha 0.5; BM25 alone 0.728, vectors alone 0.755), but
# min-max turns the best of two or three marginal keyword matches into a full 1.0, which
# decides the ranking in small catalogs and narrow filters.
_FUSION = HybridFusion.RANKED
_COLLECTION_NAME = re.compile(r"^[A-Z][_0-9A-Za-z]*$")
# weaviate-client 4.16.2 also copies a boolean filter value into the integer field of its
# protobuf message; protobuf 6 warns on every in-stock search (protobuf 7 would reject it,
# which is why protobuf stays below 7). Weaviate reads the boolean field either way.
warnings.filterwarnings(
    "ignore", message=r"Field weaviate\.v1\.Filters\.value_int: Expected an int, got a boolean"
)


class ProductHit(BaseModel):
    """A product found by a search, with its blended relevance score (higher is better)."""

    product: Product
    score: float
    vector: list[float] | None = Field(
        default=None, description="The product's embedding, when the search asked for it."
    )


class SearchFilters(BaseModel):
    """Hard constraints on a search; None means "no constraint"."""

    in_stock_only: bool = True
    min_price: float | None = None
    max_price: float | None = None
    category: str | None = Field(
        default=None,
        description="A category path prefix: 'footwear' matches 'footwear/running shoes'.",
    )
    size: str | None = Field(default=None, description="Only products with this size in stock.")
    exclude_ids: list[str] = Field(default_factory=list)


# Properties added after the first catalogs were indexed (see `ensure_collection`).
_ADDED_PROPERTIES = [
    Property(
        name="model_id",
        data_type=DataType.TEXT,
        index_searchable=False,
        tokenization=Tokenization.FIELD,
    ),
    Property(
        name="variants",
        data_type=DataType.OBJECT_ARRAY,
        nested_properties=[
            *(
                Property(name=n, data_type=DataType.TEXT, tokenization=Tokenization.FIELD)
                for n in ("variant_id", "sku", "colour", "size")
            ),
            Property(name="price", data_type=DataType.NUMBER),
            Property(name="compare_at_price", data_type=DataType.NUMBER),
            Property(name="in_stock", data_type=DataType.BOOL),
        ],
    ),
]


class CatalogError(RuntimeError):
    """Weaviate refused some products, or holds vectors from a different embedder."""


def product_uuid(product_id: str) -> uuid.UUID:
    """Map a SKU to its Weaviate object UUID."""
    return uuid.uuid5(_SKU_NAMESPACE, product_id)


def _properties(product: Product) -> dict[str, Any]:
    props = product.model_dump(exclude={"id"})
    props["product_id"] = product.id
    # Weaviate reserves "id", and stores a missing nested value as absent, not as null.
    props["variants"] = [
        {("variant_id" if k == "id" else k): v for k, v in variant.items() if v is not None}
        for variant in props["variants"]
    ]
    # An exact, case-folded copy of the path, so category filters match whole segments.
    props["category_path"] = product.category.lower()
    return {k: v for k, v in props.items() if v is not None}


def _product(props: dict[str, Any]) -> Product:
    data = {k: v for k, v in props.items() if v is not None}
    data["id"] = data.pop("product_id")
    data.pop("category_path", None)
    data["variants"] = [
        {("id" if k == "variant_id" else k): v for k, v in variant.items() if v is not None}
        for variant in data.get("variants") or []
    ]
    return Product.model_validate(data)


def _to_filter(filters: SearchFilters) -> _Filters | None:
    parts: list[_Filters] = []
    if filters.in_stock_only:
        parts.append(Filter.by_property("in_stock").equal(True))
    if filters.min_price is not None:
        parts.append(Filter.by_property("price").greater_or_equal(filters.min_price))
    if filters.max_price is not None:
        parts.append(Filter.by_property("price").less_or_equal(filters.max_price))
    if filters.category:
        prefix = clean_path(filters.category).lower()
        if prefix:
            path = Filter.by_property("category_path")
            parts.append(Filter.any_of([path.equal(prefix), path.like(f"{prefix}/*")]))
    if filters.size:
        size = filters.size.strip()
        # Sizes are stored as the store writes them ("M", "10.5"); a shopper may type "m".
        variants = list(dict.fromkeys([size, size.upper(), size.lower()]))
        parts.append(Filter.by_property("sizes_in_stock").contains_any(variants))
    parts.extend(Filter.by_id().not_equal(product_uuid(i)) for i in filters.exclude_ids)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Filter.all_of(parts)


def _vector_of(vectors: Mapping[str, Any]) -> list[float] | None:
    """The product's own embedding from an object's named vectors (None if it has none)."""
    vector = vectors.get(VECTOR_NAME)
    return [float(x) for x in vector] if vector is not None else None


def _batches(products: Iterable[Product], size: int) -> Iterator[tuple[int, list[Product]]]:
    """Yield (rows read, products to write) per batch; a SKU repeated in a batch is one."""
    it = iter(products)
    while batch := list(islice(it, size)):
        # The later row wins, as it would on a reload.
        yield len(batch), list({p.id: p for p in batch}.values())


class Catalog:
    """The products of one Weaviate collection, over an async client."""

    def __init__(self, client: WeaviateAsyncClient, collection: str = DEFAULT_COLLECTION) -> None:
        """Use `collection` (a Weaviate class name, e.g. 'Product') through `client`."""
        if not _COLLECTION_NAME.match(collection):
            raise ValueError(
                f"collection {collection!r} is not a valid Weaviate collection name: "
                "start with an uppercase letter, then letters, digits or '_'"
            )
        self.client = client
        self.name = collection
        self._collection = client.collections.get(collection)
        self.version = 0  # counts this process's writes: cached titles are read again

    async def ensure_collection(self) -> None:
        """Create the collection unless it exists (self-provided vectors, typed properties).

        A collection made before a property existed (the model id, the variants) gets it
        added, so an older index takes the new fields instead of guessing their types.
        """
        if await self.client.collections.exists(self.name):
            config = await self._collection.config.get()
            have = {p.name for p in config.properties}
            for prop in _ADDED_PROPERTIES:
                if prop.name not in have:
                    await self._collection.config.add_property(prop)
            return

        def text(name: str, searchable: bool = True, exact: bool = False) -> Property:
            return Property(
                name=name,
                data_type=DataType.TEXT,
                index_searchable=searchable,
                tokenization=Tokenization.FIELD if exact else Tokenization.WORD,
            )

        def texts(name: str, searchable: bool = True, exact: bool = False) -> Property:
            return Property(
                name=name,
                data_type=DataType.TEXT_ARRAY,
                index_searchable=searchable,
                tokenization=Tokenization.FIELD if exact else Tokenization.WORD,
            )

        def plain(name: str, data_type: DataType, filterable: bool = True) -> Property:
            return Property(
                name=name,
                data_type=data_type,
                index_filterable=filterable,
                index_range_filters=data_type in (DataType.NUMBER, DataType.INT),
            )

        try:
            await self.client.collections.create(
                self.name,
                description="Products of the store (textcart catalog)",
                vector_config=Configure.Vectors.self_provided(
                    name=VECTOR_NAME,
                    vector_index_config=Configure.VectorIndex.hnsw(
                        distance_metric=VectorDistances.COSINE
                    ),
                ),
                properties=[
                    text("product_id", searchable=False, exact=True),
                    text("title"),
                    text("brand"),
                    text("category"),
                    text("category_path", searchable=False, exact=True),
                    text("description"),
                    texts("selling_points"),
                    texts("tags"),
                    texts("colors"),
                    texts("sizes", searchable=False, exact=True),
                    texts("sizes_in_stock", searchable=False, exact=True),
                    plain("price", DataType.NUMBER),
                    plain("compare_at_price", DataType.NUMBER),
                    text("currency", searchable=False, exact=True),
                    plain("in_stock", DataType.BOOL),
                    plain("rating", DataType.NUMBER),
                    plain("review_count", DataType.INT),
                    plain("url", DataType.TEXT, filterable=False),
                    *_ADDED_PROPERTIES,
                ],
            )
        except Exception:
            # Another process may have created it between the check and the create.
            if not await self.client.collections.exists(self.name):
                raise

    async def _check_dimensions(self, dim: int) -> None:
        """Refuse to mix vectors of different embedders in one collection."""
        page = await self._collection.query.fetch_objects(limit=1, include_vector=True)
        if not page.objects:
            return
        stored = page.objects[0].vector.get(VECTOR_NAME)
        if stored is not None and len(stored) != dim:
            raise CatalogError(
                f"collection {self.name!r} holds {len(stored)}-dimensional vectors but the "
                f"embedder makes {dim}-dimensional ones: load into another collection, or "
                "delete this one first"
            )

    async def ingest(
        self,
        products: Iterable[Product],
        embedder: Embedder,
        batch_size: int = 128,
        on_progress: Callable[[int], None] | None = None,
    ) -> int:
        """Embed and write products in batches; return how many distinct SKUs were written.

        Re-loading a product (same SKU) replaces it. `on_progress` gets the number of
        input products each finished batch covered. Embedding the next batch overlaps with
        writing the previous one. Raises CatalogError naming the products Weaviate refused.
        """
        await self.ensure_collection()
        await self._check_dimensions(int(embedder.dim))
        written: set[str] = set()

        async def finish(task: asyncio.Task[list[str]], rows: int) -> None:
            written.update(await task)
            if on_progress is not None:
                on_progress(rows)

        pending: tuple[asyncio.Task[list[str]], int] | None = None
        try:
            for rows, batch in _batches(products, batch_size):
                vectors = await aembed(embedder, [p.embedding_text() for p in batch])
                if pending is not None:
                    await finish(*pending)
                pending = asyncio.create_task(self._write(batch, vectors)), rows
            if pending is not None:
                await finish(*pending)
        finally:
            if pending is not None and not pending[0].done():
                pending[0].cancel()
        return len(written)

    async def write_embedded(
        self, products: Sequence[Product], vectors: np.ndarray, batch_size: int = 128
    ) -> int:
        """Write products whose vectors are already computed; return how many were written.

        This is ingestion without the embedder: the benchmark uses it to show what Weaviate
        alone takes, and a re-load with cached vectors can use it too.
        """
        if len(products) != len(vectors):
            raise ValueError(f"{len(products)} products but {len(vectors)} vectors")
        await self.ensure_collection()
        if len(products):
            await self._check_dimensions(int(vectors.shape[1]))
        written = 0
        for start in range(0, len(products), batch_size):
            end = start + batch_size
            written += len(await self._write(products[start:end], vectors[start:end]))
        return written

    async def _write(self, batch: Sequence[Product], vectors: np.ndarray) -> list[str]:
        objects = [
            DataObject(
                uuid=product_uuid(p.id),
                properties=_properties(p),
                vector={VECTOR_NAME: vector.tolist()},
            )
            for p, vector in zip(batch, vectors, strict=True)
        ]
        result = await self._collection.data.insert_many(objects)
        self.version += 1
        if result.errors:
            lines = [f"{batch[i].id}: {err.message}" for i, err in list(result.errors.items())[:5]]
            raise CatalogError(
                f"Weaviate refused {len(result.errors)} of {len(batch)} products in a batch "
                f"(first ones: {'; '.join(lines)})"
            )
        return [p.id for p in batch]

    async def search(
        self,
        query: str,
        query_vector: np.ndarray | None,
        filters: SearchFilters,
        limit: int = 10,
        alpha: float = 0.5,
        include_vector: bool = False,
    ) -> list[ProductHit]:
        """Find products for a shopper's words: BM25 blended with vector similarity.

        `alpha` weighs the two (0 = keywords only, 1 = vectors only). Without a query
        vector the search is keywords only; without words it is vectors only. With
        `include_vector` each hit carries the product's embedding (for re-ranking).
        """
        where = _to_filter(filters)
        metadata = MetadataQuery(score=True, distance=True)
        query = query.strip()
        if query and query_vector is not None:
            result = await self._collection.query.hybrid(
                query=query,
                vector=np.asarray(query_vector, dtype=np.float32).tolist(),
                target_vector=VECTOR_NAME,
                alpha=alpha,
                query_properties=_SEARCH_FIELDS,
                fusion_type=_FUSION,
                filters=where,
                limit=limit,
                return_metadata=metadata,
                include_vector=include_vector,
            )
        elif query:
            result = await self._collection.query.bm25(
                query=query,
                query_properties=_SEARCH_FIELDS,
                filters=where,
                limit=limit,
                return_metadata=metadata,
                include_vector=include_vector,
            )
        elif query_vector is not None:
            result = await self._collection.query.near_vector(
                near_vector=np.asarray(query_vector, dtype=np.float32).tolist(),
                target_vector=VECTOR_NAME,
                filters=where,
                limit=limit,
                return_metadata=metadata,
                include_vector=include_vector,
            )
        else:
            return []
        hits = []
        for obj in result.objects:
            score = obj.metadata.score
            if score is None and obj.metadata.distance is not None:
                score = 1.0 - obj.metadata.distance  # cosine distance -> similarity
            hits.append(
                ProductHit(
                    product=_product(dict(obj.properties)),
                    score=score or 0.0,
                    vector=_vector_of(obj.vector) if include_vector else None,
                )
            )
        return hits

    async def colourways(
        self, title: str, model_id: str | None = None, limit: int = 100
    ) -> list[Product]:
        """Every colourway of a model: the products sharing its `model_id` when it has one.

        Without a model id the model is the title before " — " ("Women's Ridgeline Trail
        Runner — Teal"); a product without a colourway in its title is its own only one.
        """
        if model_id:
            result = await self._collection.query.fetch_objects(
                filters=Filter.by_property("model_id").equal(model_id), limit=limit
            )
            return [_product(dict(obj.properties)) for obj in result.objects]
        wanted = model_of_title(title).lower()
        # Every word of the model but its line: "Women's" would rank other models first.
        words = re.sub(
            r"^(men's|women's|unisex)\s+", "", model_of_title(title), flags=re.IGNORECASE
        )
        result = await self._collection.query.bm25(
            query=words, query_properties=["title"], operator=BM25Operator.and_(), limit=limit
        )
        found = [_product(dict(obj.properties)) for obj in result.objects]
        return [p for p in found if model_of_title(p.title).lower() == wanted]

    async def _fetch(self, ids: Iterable[str], include_vector: bool) -> dict[str, ProductHit]:
        """Products by SKU in the order asked, as hits (score 0) with or without vectors."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        result = await self._collection.query.fetch_objects(
            filters=Filter.by_id().contains_any([product_uuid(i) for i in wanted]),
            limit=len(wanted),
            include_vector=include_vector,
        )
        found: dict[str, ProductHit] = {}
        for obj in result.objects:
            product = _product(dict(obj.properties))
            found[product.id] = ProductHit(
                product=product,
                score=0.0,
                vector=_vector_of(obj.vector) if include_vector else None,
            )
        return {i: found[i] for i in wanted if i in found}

    async def get_many(self, ids: Iterable[str]) -> dict[str, Product]:
        """Look products up by SKU; unknown SKUs are left out of the result."""
        return {i: hit.product for i, hit in (await self._fetch(ids, False)).items()}

    async def get_many_with_vectors(self, ids: Iterable[str]) -> dict[str, ProductHit]:
        """Look products up by SKU with their stored embeddings; unknown SKUs are left out."""
        return await self._fetch(ids, True)

    async def vectors_for(self, ids: Iterable[str]) -> dict[str, np.ndarray]:
        """The stored embeddings of products by SKU; unknown SKUs are left out."""
        return {
            i: np.asarray(hit.vector, dtype=np.float32)
            for i, hit in (await self._fetch(ids, True)).items()
            if hit.vector is not None
        }

    async def products(self) -> AsyncIterator[Product]:
        """Every product of the collection, in no set order; none when it does not exist.

        A full read, for what must be looked up by a field Weaviate cannot filter on (a
        variant's SKU sits in a nested object): a large catalog takes seconds, so callers
        keep what they build from it.
        """
        if not await self.client.collections.exists(self.name):
            return
        async for obj in self._collection.iterator():
            yield _product(dict(obj.properties))

    async def count(self) -> int:
        """Count the products in the collection (0 when it does not exist)."""
        if not await self.client.collections.exists(self.name):
            return 0
        result = await self._collection.aggregate.over_all(total_count=True)
        return int(result.total_count or 0)

    async def delete_all(self) -> None:
        """Remove every product: drop the collection and create it empty again."""
        await self.client.collections.delete(self.name)
        self.version += 1
        await self.ensure_collection()
