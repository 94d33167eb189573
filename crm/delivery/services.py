"""Which customers get a delivery on a date, and the sheet the packing and delivery crew use.

A plan delivers on its weekdays; a biweekly plan only in the weeks an even number of weeks
from its anchor date; never during a pause; only for active, unarchived customers on a route.
Everything is computed on calendar dates in the farm's time zone, so a daylight-saving change
moves nothing.
"""
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from crm.catalogue.models import Route
from crm.contacts.models import Contact, CustomerContact
from crm.customers.models import Customer
from crm.extensions import db
from crm.preferences.models import (
    DeliveryPause,
    DeliveryPlan,
    ProductPreference,
    StandingItem,
)

RECEIVING_ROLES = ("receiving", "kitchen", "primary")  # who the driver asks for, in that order


def delivers_on(plan: DeliveryPlan, day: date, paused: bool = False) -> bool:
    """Whether this plan has a delivery on `day` (pauses given by the caller)."""
    if paused or not plan.weekdays & (1 << day.weekday()):
        return False
    if plan.frequency == "biweekly":
        if plan.anchor_date is None:
            return False
        anchor_week = plan.anchor_date.toordinal() - plan.anchor_date.weekday()
        week = day.toordinal() - day.weekday()
        return (week - anchor_week) // 7 % 2 == 0  # the anchor's week, and every other one
    return True


@dataclass
class Stop:
    customer: Customer
    plan: DeliveryPlan
    address: object | None
    receiver: Contact | None
    items: list = field(default_factory=list)
    dislikes: list = field(default_factory=list)


@dataclass
class Sheet:
    day: date
    routes: dict  # route name -> [Stop] in stop order
    totals: list  # [(product, size, packaging, quantity)], sorted


def delivery_sheet(day: date, route: Route | None = None) -> Sheet:
    """The day's stops per route, in stop order, with what to pack; fixed number of queries."""
    query = (
        select(DeliveryPlan)
        .join(Customer, Customer.id == DeliveryPlan.customer_id)
        .options(joinedload(DeliveryPlan.route))
        .where(DeliveryPlan.route_id.is_not(None),
               DeliveryPlan.weekdays.op("&")(1 << day.weekday()) != 0,
               Customer.status == "active", Customer.archived_at.is_(None))
    )
    if route is not None:
        query = query.where(DeliveryPlan.route_id == route.id)
    plans = db.session.scalars(query).all()
    ids = [p.customer_id for p in plans]
    paused = set(db.session.scalars(select(DeliveryPause.customer_id).where(
        DeliveryPause.customer_id.in_(ids), DeliveryPause.starts_on <= day,
        DeliveryPause.ends_on >= day))) if ids else set()
    plans = [p for p in plans if delivers_on(p, day, p.customer_id in paused)]
    ids = [p.customer_id for p in plans]
    customers = {c.id: c for c in db.session.scalars(
        select(Customer).where(Customer.id.in_(ids)).options(
            selectinload(Customer.addresses),
            selectinload(Customer.contact_links).joinedload(CustomerContact.contact)
            .selectinload(Contact.phones),
        ))} if ids else {}
    items, dislikes = defaultdict(list), defaultdict(list)
    if ids:
        for item in db.session.scalars(
            select(StandingItem).where(StandingItem.customer_id.in_(ids))
            .options(joinedload(StandingItem.product), joinedload(StandingItem.packaging),
                     selectinload(StandingItem.substitutes))
            .order_by(StandingItem.id)
        ):
            items[item.customer_id].append(item)
        for pref in db.session.scalars(
            select(ProductPreference).where(ProductPreference.customer_id.in_(ids),
                                            ProductPreference.kind == "dislike")
            .options(joinedload(ProductPreference.product))
        ):
            dislikes[pref.customer_id].append(pref.product.name)
    by_route = defaultdict(list)
    totals = Counter()
    for plan in sorted(plans, key=lambda p: (p.route.name, p.stop_order or 0, p.customer_id)):
        customer = customers[plan.customer_id]
        stop = Stop(customer=customer, plan=plan, address=customer.delivery_address,
                    receiver=_receiver(customer), items=items[plan.customer_id],
                    dislikes=sorted(dislikes[plan.customer_id]))
        by_route[plan.route.name].append(stop)
        for item in stop.items:
            totals[(item.product.name, item.size, item.packaging.name)] += item.quantity
    return Sheet(day=day, routes=dict(by_route),
                 totals=[(*key, qty) for key, qty in sorted(totals.items())])


def _receiver(customer):
    links = sorted(customer.contact_links,
                   key=lambda l: (RECEIVING_ROLES.index(l.role) if l.role in RECEIVING_ROLES
                                  else len(RECEIVING_ROLES), l.contact_id))
    return links[0].contact if links else None
