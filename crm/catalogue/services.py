"""The catalogue: products with their sizes, packaging options and delivery routes."""
from sqlalchemy import func, select

from crm.audit.services import record
from crm.catalogue.models import Packaging, Product, Route
from crm.common import too_long, utcnow
from crm.extensions import db

STARTING_PRODUCTS = {
    **{name: "2 oz, 4 oz, 1 lb" for name in (
        "Pea shoots", "Sunflower", "Radish", "Broccoli", "Kale", "Arugula", "Mustard",
        "Cilantro", "Basil", "Beet", "Amaranth", "Spicy mix", "Rainbow mix")},
    "Wheatgrass": "4 oz, 1 lb, 10x20 tray",
}
STARTING_PACKAGING = ("2 oz clamshell", "4 oz clamshell", "1 lb bulk bag", "Living tray",
                      "Returnable crate", "Compostable container")


class CatalogueError(ValueError):
    pass


def seed_catalogue():
    """The starting catalogue (migration 0004 inserts the same), when the tables are empty."""
    if not db.session.scalar(select(func.count()).select_from(Product)):
        db.session.add_all(Product(name=n, sizes=s) for n, s in STARTING_PRODUCTS.items())
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
