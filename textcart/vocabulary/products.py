"""A catalog product and its variants: what the store sells, as the agent may quote it.

A product is one colourway of a model ("Ridgeline Trail Runner — Teal"): the unit a search
finds and a text names. Its variants are the sizes of that colourway as the store prices
and stocks them (a Shopify export has one per size). A product without variants, as in
catalogs written before variants existed, keeps its single price and its `sizes_in_stock`
list, and its id is what carts and orders name, as before. With variants, the product's
sizes, sizes in stock, stock and price (the lowest of the sizes in stock) follow from them.

The colourways of one model share a `model_id` (a Shopify handle) when the data has one;
otherwise the model is read from the title, the part before " — ".
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, field_validator, model_validator

_DESCRIPTION_CHARS = 600


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


def _blank_is_none(value: str | None) -> str | None:
    value = value.strip() if value is not None else None
    return value or None


# Text that must say something (ids, titles), and optional text where blank means absent.
Text = Annotated[str, AfterValidator(_not_blank)]
OptionalText = Annotated[str | None, AfterValidator(_blank_is_none)]


class Variant(BaseModel):
    """One size (and colour) of a product, as the store prices and stocks it."""

    id: Text = Field(
        min_length=1, description="Stable id of the variant (its SKU when it has one)."
    )
    sku: OptionalText = Field(default=None, description="The store's stock-keeping unit.")
    colour: OptionalText = Field(
        default=None, description="The colour option, as the store names it."
    )
    size: OptionalText = Field(default=None, description="The size option ('M', '10.5').")
    price: float = Field(ge=0)
    compare_at_price: float | None = Field(
        default=None, ge=0, description="This variant's price before a discount."
    )
    in_stock: bool = True


def clean_path(path: str) -> str:
    """Normalise a category path: no blank segments, no spaces around the slashes."""
    return "/".join(part.strip() for part in path.split("/") if part.strip())


def model_of_title(title: str) -> str:
    """The model a title names: "Women's Ridgeline Trail Runner — Teal" -> before the dash."""
    return title.rsplit("—", 1)[0].strip()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class Product(BaseModel):
    """One product (a colourway of a model) as the store sells it."""

    id: Text = Field(min_length=1, description="The store's SKU; stable across loads.")
    title: Text = Field(min_length=1)
    brand: str = ""
    category: str = Field(
        default="", description="Slash-separated path, e.g. 'footwear/running shoes'."
    )
    description: str = ""
    price: float = Field(ge=0)
    currency: str = "USD"
    compare_at_price: float | None = Field(
        default=None, ge=0, description="The price before a discount."
    )
    colors: list[str] = Field(default_factory=list)
    sizes: list[str] = Field(default_factory=list)
    sizes_in_stock: list[str] = Field(default_factory=list)
    in_stock: bool = True
    rating: float | None = Field(default=None, ge=0, le=5)
    review_count: int = Field(default=0, ge=0)
    selling_points: list[str] = Field(default_factory=list)
    url: str | None = None
    tags: list[str] = Field(default_factory=list)
    model_id: OptionalText = Field(
        default=None,
        description="The model its colourways share (a Shopify handle); None: from the title.",
    )
    variants: list[Variant] = Field(
        default_factory=list, description="Its sizes, each with its own price and stock."
    )

    @field_validator("category")
    @classmethod
    def _clean_path(cls, value: str) -> str:
        return clean_path(value)

    @model_validator(mode="before")
    @classmethod
    def _variant_ids(cls, data: Any) -> Any:
        """A variant written without an id gets its SKU, else "<product id>-<size>"."""
        if not isinstance(data, dict) or not isinstance(data.get("variants"), list):
            return data
        variants = []
        for n, variant in enumerate(data["variants"], start=1):
            if isinstance(variant, dict) and not variant.get("id"):
                option = variant.get("size") or variant.get("colour") or str(n)
                own = variant.get("sku") or f"{data.get('id', '')}-{_slug(str(option))}"
                variant = {**variant, "id": own}
            variants.append(variant)
        # The price follows from the variants; a row that has them need not repeat it.
        return {"price": 0, **data, "variants": variants} if variants else data

    @model_validator(mode="after")
    def _follow_variants(self) -> Product:
        """With variants, sizes, stock and price are theirs (the variants are the truth)."""
        if not self.variants:
            return self
        sizes = [v.size for v in self.variants if v.size]
        self.sizes = list(dict.fromkeys(sizes))
        self.sizes_in_stock = list(
            dict.fromkeys(v.size for v in self.variants if v.size and v.in_stock)
        )
        self.in_stock = any(v.in_stock for v in self.variants)
        selling = [v for v in self.variants if v.in_stock] or self.variants
        self.price = min(v.price for v in selling)
        return self

    def variant(self, size: str | None) -> Variant | None:
        """The variant of that size (as the shopper typed it: "m" finds "M"), if any."""
        if not size:
            return None
        wanted = size.strip().lower()
        return next((v for v in self.variants if (v.size or "").lower() == wanted), None)

    def price_for(self, size: str | None = None) -> float:
        """The price of that size when it has its own, else the product's price."""
        variant = self.variant(size)
        return variant.price if variant is not None else self.price

    def model_key(self) -> str:
        """What its colourways share: the data's model id, else the model its title names."""
        return self.model_id or model_of_title(self.title).lower()

    def embedding_text(self) -> str:
        """Build the text that is embedded: what the product is, then why to buy it."""
        description = self.description.strip()
        if len(description) > _DESCRIPTION_CHARS:
            description = description[:_DESCRIPTION_CHARS].rsplit(" ", 1)[0]
        parts = [
            self.title,
            self.brand,
            self.category.replace("/", ", "),
            "; ".join(self.selling_points),
            description,
        ]
        return ". ".join(p for p in parts if p)
