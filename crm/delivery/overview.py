"""The Overview's delivery card: the customer's next delivery (the date, window, route and
what goes), with its preference sheet one click away (two statements, each built once)."""
from datetime import timedelta
from functools import cache
from types import SimpleNamespace

from flask_login import current_user
from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import aliased

from crm.catalogue.models import Packaging, Product, Route
from crm.common import farm_today
from crm.extensions import db
from crm.preferences.models import (
    DeliveryPause,
    DeliveryPlan,
    StandingItem,
    standing_item_substitute,
)
from crm.preferences.schedule import delivers_on
from crm.preferences.services import describe_item
from crm.security.permissions import can

LOOK_AHEAD_DAYS = 28  # every other week, and a pause, still find the next one
SHOWN_ITEMS = 4


def next_delivery(customer):
    if not can(current_user, "preferences.view"):
        return None
    today = farm_today()
    last = today + timedelta(days=LOOK_AHEAD_DAYS)
    rows = db.session.execute(_plan_statement(), {"customer_id": customer.id, "today": today,
                                                  "last": last}).all()
    plan, day = (rows[0] if rows else None), None
    if plan is not None and plan.weekdays and not customer.is_archived:
        pauses = [(row.starts_on, row.ends_on) for row in rows if row.starts_on is not None]
        for offset in range(LOOK_AHEAD_DAYS + 1):
            candidate = today + timedelta(days=offset)
            paused = any(start <= candidate <= end for start, end in pauses)
            if delivers_on(plan, candidate, paused):
                day = candidate
                break
    items, more = _items(customer.id)
    return {"plan": plan, "day": day, "today": today, "items": items, "more": more,
            "sheet": can(current_user, "delivery.view")}


def _items(customer_id: int) -> tuple[list[str], int]:
    """The first standing items as the card says them, and how many more there are."""
    shown, total = {}, 0
    for row in db.session.execute(_items_statement(), {"customer_id": customer_id}):
        total = row.total
        item = shown.get(row.id)
        if item is None:  # what describe_item reads of a StandingItem, and nothing else
            item = shown[row.id] = SimpleNamespace(
                quantity=row.quantity, size=row.size,
                substitutions_allowed=row.substitutions_allowed,
                product=SimpleNamespace(name=row.product),
                packaging=SimpleNamespace(name=row.packaging), substitutes=[])
        if row.substitute is not None:
            item.substitutes.append(SimpleNamespace(name=row.substitute))
    return [describe_item(item) for item in shown.values()], total - len(shown)


@cache  # built once, its cache key too
def _plan_statement():
    """The plan's columns the card uses, its route's name, and the pauses that overlap the
    days looked at: a row for each such pause (one with no pause; none without a plan).
    Nothing encrypted is read (the labelling and handling notes are not shown)."""
    pause = and_(DeliveryPause.customer_id == DeliveryPlan.customer_id,
                 DeliveryPause.ends_on >= bindparam("today"),
                 DeliveryPause.starts_on <= bindparam("last"))
    return (select(DeliveryPlan.weekdays, DeliveryPlan.frequency, DeliveryPlan.anchor_date,
                   DeliveryPlan.window_start, DeliveryPlan.window_end, DeliveryPlan.stop_order,
                   DeliveryPlan.call_ahead, Route.name.label("route_name"),
                   DeliveryPause.starts_on, DeliveryPause.ends_on)
            .outerjoin(Route, Route.id == DeliveryPlan.route_id)
            .outerjoin(DeliveryPause, pause)
            .where(DeliveryPlan.customer_id == bindparam("customer_id"))
            .order_by(DeliveryPause.starts_on))


@cache
def _items_statement():
    """The first SHOWN_ITEMS standing items (in the order they were added) with their
    product's and packaging's names and their substitutes' (a row for each substitute, in
    name order), and how many items there are in all."""
    first = (select(StandingItem.id, StandingItem.quantity, StandingItem.size,
                    StandingItem.substitutions_allowed, StandingItem.product_id,
                    StandingItem.packaging_id, func.count().over().label("total"))
             .where(StandingItem.customer_id == bindparam("customer_id"))
             .order_by(StandingItem.id).limit(SHOWN_ITEMS).subquery())
    substitute = aliased(Product)
    return (select(first.c.id, first.c.quantity, first.c.size, first.c.substitutions_allowed,
                   first.c.total, Product.name.label("product"),
                   Packaging.name.label("packaging"), substitute.name.label("substitute"))
            .join(Product, Product.id == first.c.product_id)
            .join(Packaging, Packaging.id == first.c.packaging_id)
            .outerjoin(standing_item_substitute,
                       and_(first.c.substitutions_allowed,
                            standing_item_substitute.c.standing_item_id == first.c.id))
            .outerjoin(substitute, substitute.id == standing_item_substitute.c.product_id)
            .order_by(first.c.id, substitute.name))
