"""The catalogue: products with their sizes, packaging options and delivery routes."""
from sqlalchemy import func, select

from crm.audit.services import record
from crm.catalogue.models import Packaging, Product, Route
from crm.common import ConflictError, too_long, utcnow
from crm.extensions import db

STARTING_PRODUCTS = {
    **{name: "2 oz, 4 oz, 1 lb" for name in (
        "Pea shoots", "Sunflower", "Radish", "Broccoli", "Kale", "Arugula", "Mustard",
        "Cilantro", "Basil", "Beet", "Amaranth", "Spicy mix", "Rainbow mix")},
    "Wheatgrass": "4 oz, 1 lb, 10x20 tray",
}
STARTING_PACKAGING = ("2 oz clamshell", "4 oz clamshell", "1 lb bulk bag", "Living tray",
                      "Returnable crate", "Compostable container")

# Growing data for the starting catalogue: name -> (days from sowing to harvest, grams harvested
# from one 10x20 tray, loss allowance %). Typical values from growers' guides (seed suppliers'
# microgreen charts and growers' handbooks: pea shoots 10-12 days and 300-450 g a tray,
# sunflower 8-10 days and 350-500 g, radish 7-9 days and 250-300 g, broccoli 10-12 days and
# 200-250 g, basil 16-21 days and 100-150 g, …); no source was read here (no internet): they
# are starting points for the farm to correct from its own trays. Migration 0018s sets the same.
STARTING_GROWING = {
    "Pea shoots": (11, 400, 10), "Sunflower": (9, 450, 10), "Radish": (8, 275, 5),
    "Broccoli": (11, 225, 10), "Kale": (10, 225, 10), "Arugula": (9, 170, 10),
    "Mustard": (9, 200, 10), "Cilantro": (18, 140, 15), "Basil": (18, 125, 15),
    "Beet": (14, 170, 15), "Amaranth": (12, 110, 15), "Spicy mix": (9, 220, 10),
    "Rainbow mix": (10, 220, 10), "Wheatgrass": (9, 500, 10),
}
MAX_DAYS_TO_HARVEST = 60
MAX_TRAY_YIELD_G = 5000
MAX_LOSS_PCT = 50


class CatalogueError(ValueError):
    pass


def seed_catalogue():
    """The starting catalogue (migration 0004 inserts the same), when the tables are empty."""
    if not db.session.scalar(select(func.count()).select_from(Product)):
        db.session.add_all(Product(name=n, sizes=s, **_growing(n))
                           for n, s in STARTING_PRODUCTS.items())
    if not db.session.scalar(select(func.count()).select_from(Packaging)):
        db.session.add_all(Packaging(name=n) for n in STARTING_PACKAGING)
    db.session.flush()


SIZES_LENGTH = 200  # Product.sizes


def normal_sizes(text: str) -> str:
    if len(text.strip()) > SIZES_LENGTH:  # the product table's inline form has no other check
        raise CatalogueError(too_long(SIZES_LENGTH, len(text.strip())))
    sizes = [" ".join(s.split()) for s in text.split(",") if s.strip()]
    if not sizes:
        raise CatalogueError("Give at least one size, e.g. 2 oz, 4 oz.")
    if any(len(s) > 20 for s in sizes):
        raise CatalogueError("Each size is at most 20 characters.")
    return ", ".join(dict.fromkeys(sizes))


def _unique(model, name, what):
    if db.session.scalar(select(model.id).where(func.lower(model.name) == name.lower())):
        raise CatalogueError(f"There is already a {what} called {name}.")


def add_product(name: str, sizes: str, *, actor) -> Product:
    _unique(Product, name, "product")
    product = Product(name=name, sizes=normal_sizes(sizes))
    db.session.add(product)
    db.session.flush()
    record("create", "product", product.id, actor=actor, fields=["name", "sizes"])
    return product


def update_sizes(product: Product, sizes: str, *, actor):
    product.sizes = normal_sizes(sizes)
    record("update", "product", product.id, actor=actor, fields=["sizes"])


def add_packaging(name: str, *, actor) -> Packaging:
    return _add_named(Packaging, name, "packaging option", actor)


def add_route(name: str, *, actor) -> Route:
    return _add_named(Route, name, "route", actor)


def _add_named(model, name, what, actor):
    _unique(model, name, what)
    item = model(name=name)
    db.session.add(item)
    db.session.flush()
    record("create", model.__tablename__, item.id, actor=actor, fields=["name"])
    return item


def set_retired(item, retired: bool, *, actor):
    """Retire (kept for history, offered no more) or bring back a product or packaging."""
    item.retired_at = utcnow() if retired else None
    record("retire" if retired else "restore", item.__tablename__, item.id, actor=actor,
           fields=["retired_at"])


def routes():
    return db.session.scalars(select(Route).order_by(Route.name)).all()


def catalogue() -> tuple[list[Product], list[Packaging]]:
    """Every product and packaging option, by name (retired ones too: history shows them)."""
    return (db.session.scalars(select(Product).order_by(Product.name)).all(),
            db.session.scalars(select(Packaging).order_by(Packaging.name)).all())


def _growing(name: str) -> dict:
    days, grams, loss = STARTING_GROWING.get(name, (None, None, 0))
    return {"days_to_harvest": days, "tray_yield_g": grams, "loss_pct": loss}


def update_growing(product: Product, *, days_to_harvest: int, tray_yield_g: int, loss_pct: int,
                   version: int, actor):
    """Set a product's growing data (the form has checked the ranges; checked again here for
    other callers). ConflictError when someone saved it since `version` was read."""
    if version != product.growing_version:
        raise ConflictError("growing data changed meanwhile")
    if not 1 <= days_to_harvest <= MAX_DAYS_TO_HARVEST:
        raise CatalogueError(f"Days to harvest is a whole number from 1 to {MAX_DAYS_TO_HARVEST}.")
    if not 1 <= tray_yield_g <= MAX_TRAY_YIELD_G:
        raise CatalogueError(f"Yield is a whole number of grams from 1 to {MAX_TRAY_YIELD_G:,}.")
    if not 0 <= loss_pct <= MAX_LOSS_PCT:
        raise CatalogueError(f"Loss allowance is a whole number from 0 to {MAX_LOSS_PCT} %.")
    changed = [name for name, value in (("days_to_harvest", days_to_harvest),
                                        ("tray_yield_g", tray_yield_g), ("loss_pct", loss_pct))
               if getattr(product, name) != value]
    product.days_to_harvest, product.tray_yield_g = days_to_harvest, tray_yield_g
    product.loss_pct = loss_pct
    product.growing_version += 1
    record("update", "product", product.id, actor=actor, fields=changed or ["growing_version"])
