"""Read and validate the demo store's shoppers, orders and scripted conversations.

Each file is parsed into Pydantic models that reject unknown keys, labels outside the fixed
vocabularies, and references that do not resolve: product ids and sizes must exist in
``catalog.jsonl``, orders must belong to a demo shopper's phone, conversations must name a
demo shopper. Cross-references are checked when the models are validated with a
`DemoReferences` in the Pydantic context, as every loader here does.

Every loader takes an optional ``root`` (default: the selected store folder, this package's
directory unless ``TEXTCART_STORE_DIR`` names another) so tests and
tools can validate a copy of the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from textcart.paths import store_dir
from textcart.storefolder.settings import SETTINGS_FILE, known_timezone, load_settings
from textcart.tools.catalog_files import read_products
from textcart.tools.shopper_store import EventType
from textcart.vocabulary.labels import Intent, MessageType, Tone, Trigger

# 555-0100 .. 555-0199 is reserved for fiction in North America: no real person gets a text.
_FICTIONAL_PHONE = re.compile(r"^\+1[2-9]\d{2}55501\d{2}$")
_SHOPPER_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_SHOE_SIZE = re.compile(r"^\d{1,2}(\.5)?$")


def demo_dir() -> Path:
    """Directory holding the demo store's data files (shipped inside the package)."""
    return Path(__file__).resolve().parent


def catalog_path(root: Path | None = None) -> Path:
    """Path of the demo catalog, one product per JSON line."""
    return (root or store_dir()) / "catalog.jsonl"


def catalog_files(root: Path | None = None) -> list[Path]:
    """The product files of a store folder: those its store.yaml names, else catalog.jsonl."""
    folder = root or store_dir()
    if (folder / SETTINGS_FILE).is_file():
        named = load_settings(folder).catalog
        if named:
            return [p if (p := Path(n)).is_absolute() else folder / p for n in named]
    return [catalog_path(folder)]


@dataclass(frozen=True)
class DemoReferences:
    """What the demo files may point at: catalog products and sizes, shoppers, phones."""

    sizes_by_product: dict[str, tuple[str, ...]]
    categories: frozenset[str]
    shopper_keys: frozenset[str] = field(default_factory=frozenset)
    phones: frozenset[str] = field(default_factory=frozenset)

    def check_product(self, product_id: str, size: str | None = None) -> None:
        """Raise ValueError unless the product exists (and has `size` in its size run)."""
        sizes = self.sizes_by_product.get(product_id)
        if sizes is None:
            raise ValueError(f"unknown product id {product_id!r}")
        if size is not None and size not in sizes:
            raise ValueError(f"{product_id} has no size {size!r} (sizes: {', '.join(sizes)})")

    def check_category_prefix(self, prefix: str) -> None:
        """Raise ValueError unless some catalog category starts with `prefix`."""
        if not any(category.startswith(prefix) for category in self.categories):
            raise ValueError(f"no catalog category starts with {prefix!r}")


def _references(info: ValidationInfo) -> DemoReferences | None:
    context = info.context
    refs = context.get("refs") if isinstance(context, dict) else None
    return refs if isinstance(refs, DemoReferences) else None


class _DemoModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BehaviourEvent(_DemoModel):
    """Something the shopper did on the site, `minutes_ago` before the demo starts."""

    type: EventType
    product_id: str
    minutes_ago: int = Field(ge=0)
    size: str | None = None

    @model_validator(mode="after")
    def _product_exists(self, info: ValidationInfo) -> BehaviourEvent:
        refs = _references(info)
        if refs is not None:
            refs.check_product(self.product_id, self.size)
        return self


class ShopperPreferences(_DemoModel):
    """What the shopper told us or we learned: sizes, colours, budget."""

    shoe_line: Literal["men", "women"] | None = None
    shoe_size: str | None = Field(default=None, pattern=_SHOE_SIZE.pattern)
    apparel_size: Literal["XS", "S", "M", "L", "XL", "XXL"] | None = None
    favourite_colors: list[str] = Field(default_factory=list)
    budget_max: float | None = Field(default=None, gt=0)


class DemoShopper(_DemoModel):
    """A fictional subscriber: contact, consent, preferences and recent behaviour."""

    key: str = Field(pattern=_SHOPPER_KEY.pattern)
    phone: str
    first_name: str = Field(min_length=1)
    timezone: str
    consent: Literal["subscribed", "opted_out"]
    preferences: ShopperPreferences = Field(default_factory=ShopperPreferences)
    events: list[BehaviourEvent] = Field(default_factory=list)

    @field_validator("phone")
    @classmethod
    def _fictional_phone(cls, phone: str) -> str:
        if not _FICTIONAL_PHONE.match(phone):
            raise ValueError(f"{phone!r} is not a fictional +1 NXX-555-01xx number")
        return phone

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, timezone: str) -> str:
        return known_timezone(timezone)


class OrderItem(_DemoModel):
    """One line of an order: a product in a size."""

    product_id: str
    size: str

    @model_validator(mode="after")
    def _product_exists(self, info: ValidationInfo) -> OrderItem:
        refs = _references(info)
        if refs is not None:
            refs.check_product(self.product_id, self.size)
        return self


class DemoOrder(_DemoModel):
    """An order of a demo shopper, as the order system would report it."""

    order_id: str = Field(min_length=1)
    phone: str
    status: Literal["processing", "shipped", "delivered", "returned"]
    items: list[OrderItem] = Field(min_length=1)
    placed_days_ago: int = Field(ge=0)
    carrier: str = Field(min_length=1)
    tracking: str | None = None
    eta_days: int | None = Field(default=None, ge=0)
    # Days since it arrived: what a return question is measured against.
    delivered_days_ago: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> DemoOrder:
        if self.status == "shipped" and not self.tracking:
            raise ValueError(f"{self.order_id}: a shipped order needs a tracking number")
        if self.status in ("processing", "shipped") and self.eta_days is None:
            raise ValueError(f"{self.order_id}: an open order needs eta_days")
        if self.status == "delivered" and self.delivered_days_ago is None:
            raise ValueError(f"{self.order_id}: a delivered order needs delivered_days_ago")
        if self.delivered_days_ago is not None and self.delivered_days_ago > self.placed_days_ago:
            raise ValueError(f"{self.order_id}: delivered before it was placed")
        refs = _references(info)
        if refs is not None and self.phone not in refs.phones:
            raise ValueError(f"{self.order_id}: phone {self.phone} is not a demo shopper")
        return self


class Expectation(_DemoModel):
    r"""What a turn must produce; every key is optional.

    Texts in `mentions` / `not_mentions` are matched case-insensitively in the reply;
    `says` / `not_says` are regular expressions (case-insensitive) the reply must / must
    not match: what a shopper reads, e.g. `says: ["\\bin stock\\b", "8\\.5"]`.
    `handoff` means a hand-off reply went out; `max_chars` and `max_segments` bound the
    reply's length; `consent` is the shopper's consent after the turn.
    """

    intent: Intent | None = None
    next_message: MessageType | None = None
    not_next_message: list[MessageType] = Field(default_factory=list)
    category: str | None = None
    no_message: bool | None = None
    handoff: bool | None = None
    tone: Tone | None = None
    buy_likelihood_band: Literal["low", "medium", "high"] | None = None
    has_products: bool | None = None
    max_chars: int | None = Field(default=None, gt=0)
    max_segments: int | None = Field(default=None, gt=0)
    mentions: list[str] = Field(default_factory=list)
    not_mentions: list[str] = Field(default_factory=list)
    says: list[str] = Field(default_factory=list)
    not_says: list[str] = Field(default_factory=list)
    consent: Literal["subscribed", "opted_out"] | None = None

    @model_validator(mode="after")
    def _category_exists(self, info: ValidationInfo) -> Expectation:
        refs = _references(info)
        if refs is not None and self.category is not None:
            refs.check_category_prefix(self.category)
        if self.no_message and (self.handoff or self.mentions or self.says):
            raise ValueError("no_message contradicts handoff, mentions and says")
        for pattern in [*self.says, *self.not_says]:
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"says pattern {pattern!r} is not valid: {err}") from err
        if self.next_message is not None and self.next_message in self.not_next_message:
            raise ValueError("next_message is also listed in not_next_message")
        return self


class Turn(_DemoModel):
    """One step of a script: a shopper's text, or a proactive trigger with no text.

    `events` happen on the site just before this step (a click, a cart add, a purchase).
    """

    text: str | None = Field(default=None, min_length=1)
    trigger: Trigger | None = None
    events: list[BehaviourEvent] = Field(default_factory=list)
    expect: Expectation = Field(default_factory=Expectation)

    @model_validator(mode="after")
    def _text_or_trigger(self) -> Turn:
        if (self.text is None) == (self.trigger is None):
            raise ValueError("a turn has exactly one of `text` or `trigger`")
        if self.trigger is not None and self.expect.intent is not None:
            raise ValueError("a proactive trigger has no shopper text, so no intent to expect")
        return self


class ScriptShopper(_DemoModel):
    """A shopper written into a script instead of taken from ``shoppers.yaml``.

    Without a phone, each run gives the script a fictional number of its own.
    """

    phone: str | None = None
    first_name: str | None = Field(default=None, min_length=1)
    timezone: str | None = None
    consent: Literal["subscribed", "opted_out"] = "subscribed"
    preferences: ShopperPreferences = Field(default_factory=ShopperPreferences)
    events: list[BehaviourEvent] = Field(default_factory=list)

    @field_validator("phone")
    @classmethod
    def _fictional_phone(cls, phone: str | None) -> str | None:
        if phone is not None and not _FICTIONAL_PHONE.match(phone):
            raise ValueError(f"{phone!r} is not a fictional +1 NXX-555-01xx number")
        return phone

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, timezone: str | None) -> str | None:
        return None if timezone is None else DemoShopper._known_timezone(timezone)


class ScriptSettings(_DemoModel):
    """Run settings a script may change from the simulation defaults."""

    quiet_hours_start: int | None = Field(default=None, ge=0, le=23)
    quiet_hours_end: int | None = Field(default=None, ge=0, le=23)
    proactive_cap_24h: int | None = Field(default=None, ge=0)
    max_segments: int | None = Field(default=None, ge=1)
    offer_bands: str | None = None


class Conversation(_DemoModel):
    """A scripted conversation the demo plays and the simulations assert on.

    `shopper` names a demo shopper or describes one inline; `events` add to their
    browsing history before the first turn.
    """

    name: str = Field(min_length=1)
    shopper: str | ScriptShopper
    description: str = Field(min_length=1)
    events: list[BehaviourEvent] = Field(default_factory=list)
    settings: ScriptSettings = Field(default_factory=ScriptSettings)
    turns: list[Turn] = Field(min_length=1)

    @model_validator(mode="after")
    def _shopper_exists(self, info: ValidationInfo) -> Conversation:
        refs = _references(info)
        if refs is not None and isinstance(self.shopper, str):
            if self.shopper not in refs.shopper_keys:
                raise ValueError(f"unknown shopper {self.shopper!r}")
        return self


_Model = TypeVar("_Model", bound=BaseModel)


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _validate(model: type[_Model], data: Any, refs: DemoReferences, where: str) -> _Model:
    # Name the file (and entry) in the error: Pydantic only knows the field path.
    try:
        return model.model_validate(data, context={"refs": refs})
    except ValidationError as err:
        raise ValueError(f"{where}: {err}") from err


def _catalog_references(root: Path | None) -> DemoReferences:
    sizes: dict[str, tuple[str, ...]] = {}
    categories: set[str] = set()
    for path in catalog_files(root):
        for product in read_products(path):
            sizes[product.id] = tuple(product.sizes)
            categories.add(product.category)
    return DemoReferences(sizes_by_product=sizes, categories=frozenset(categories))


def load_shoppers(root: Path | None = None) -> dict[str, DemoShopper]:
    """Load ``shoppers.yaml``: shopper key -> validated shopper."""
    refs = _catalog_references(root)
    path = (root or store_dir()) / "shoppers.yaml"
    raw = _read_yaml(path)
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected a mapping of shopper key to shopper")
    shoppers = {
        key: _validate(DemoShopper, {"key": key, **(body or {})}, refs, f"{path} [{key}]")
        for key, body in raw.items()
    }
    phones = [shopper.phone for shopper in shoppers.values()]
    if len(set(phones)) != len(phones):
        raise ValueError(f"{path}: two shoppers share a phone number")
    return shoppers


def load_orders(root: Path | None = None) -> list[DemoOrder]:
    """Load ``orders.yaml``: every order, validated against the catalog and the shoppers."""
    base = _catalog_references(root)
    phones = frozenset(shopper.phone for shopper in load_shoppers(root).values())
    refs = DemoReferences(base.sizes_by_product, base.categories, phones=phones)
    path = (root or store_dir()) / "orders.yaml"
    raw = _read_yaml(path)
    rows = raw.get("orders") if isinstance(raw, dict) else None
    if not isinstance(rows, list):
        raise ValueError(f"{path}: expected `orders:` with a list of orders")
    orders = [_validate(DemoOrder, row, refs, f"{path} [order {i}]") for i, row in enumerate(rows)]
    ids = [order.order_id for order in orders]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate order ids")
    return orders


def load_conversations(root: Path | None = None) -> list[Conversation]:
    """Load every ``conversations/*.yaml`` script, sorted by name."""
    return load_scripts([(root or store_dir()) / "conversations"], root)


def script_paths(paths: list[Path]) -> list[Path]:
    """The script files named by `paths`: files as given, folders' ``*.yaml`` sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(path.glob("*.yaml"))
        elif path.is_file():
            found.append(path)
        else:
            raise ValueError(f"{path}: no such file or folder")
    return found


def load_scripts(paths: list[Path], root: Path | None = None) -> list[Conversation]:
    """Load and validate scripts from files and folders against the demo store in `root`.

    Every script's name must match its file name, and names must be unique across
    `paths`, since reports are keyed by them.
    """
    base = _catalog_references(root)
    keys = frozenset(load_shoppers(root))
    refs = DemoReferences(base.sizes_by_product, base.categories, shopper_keys=keys)
    conversations = []
    for path in script_paths(paths):
        try:
            raw = _read_yaml(path)
        except yaml.YAMLError as err:
            raise ValueError(f"{path}: not valid YAML: {err}") from err
        conversation = _validate(Conversation, raw, refs, str(path))
        if conversation.name != path.stem:
            raise ValueError(f"{path}: name {conversation.name!r} must match the file name")
        conversations.append(conversation)
    names = [c.name for c in conversations]
    if len(set(names)) != len(names):
        raise ValueError(
            f"two scripts share a name: {sorted(n for n in set(names) if names.count(n) > 1)}"
        )
    return conversations
