"""The sheet the packing and delivery crew use: the day's stops (who delivers on a date is
crm.preferences.schedule's rule) with what to pack.

A stop whose customer has a confirmed (or already delivered) order for the day gets that order's
lines instead of its standing items, and the totals count what each stop will actually get. An
order only puts a customer on the sheet through its plan: a confirmed order for a customer whose
plan does not deliver that day (another weekday, a pause, no route, not active) makes no stop;
the all-routes sheet lists such orders apart, so the office can add the stop or move the order.
"""
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from crm.catalogue.models import Route
from crm.contacts.models import Contact, CustomerContact
from crm.customers.models import Customer
from crm.extensions import db
from crm.orders.models import Order, OrderLine
from crm.preferences.models import DeliveryPlan, ProductPreference, StandingItem
from crm.preferences.schedule import delivering_plans

RECEIVING_ROLES = ("receiving", "kitchen", "primary")  # who the driver asks for, in that order
SHEET_ORDER_STATUSES = ("confirmed", "delivered")  # an order the sheet packs instead of the items
NO_PACKAGING = "packaging not set"  # an order line may leave it open; the totals still count it


@dataclass
class Stop:
    customer: Customer
    plan: DeliveryPlan
    address: object | None
    receiver: Contact | None
    # What to pack: the confirmed orders' lines when there are `orders`, else the standing items
    # (both have quantity, product, size and packaging; only standing items have substitutes).
    items: list = field(default_factory=list)
    dislikes: list = field(default_factory=list)
    orders: list = field(default_factory=list)  # the day's confirmed / delivered orders
    # The day's drafts when there is no confirmed order: the standing items are shown, but
    # someone started an order that is not confirmed (credit may have refused it): ask first.
    drafts: list = field(default_factory=list)

    @property
    def from_order(self) -> bool:
        return bool(self.orders)


@dataclass
class Sheet:
    day: date
    routes: dict  # route name -> [Stop] in stop order
    totals: list  # [(product, size, packaging, quantity)], sorted
    # Confirmed orders for the day whose customer has no stop that day (all-routes sheet only).
    orders_without_stop: list = field(default_factory=list)


def delivery_sheet(day: date, route: Route | None = None) -> Sheet:
    """The day's stops per route, in stop order, with what to pack; fixed number of queries."""
    plans = delivering_plans(day, route)
    ids = [p.customer_id for p in plans]
    customers = {c.id: c for c in db.session.scalars(
        select(Customer).where(Customer.id.in_(ids)).options(
            selectinload(Customer.addresses),
            selectinload(Customer.contact_links).joinedload(CustomerContact.contact)
            .selectinload(Contact.phones),
        ))} if ids else {}
    items, dislikes = defaultdict(list), defaultdict(list)
    if ids:
        # Substitutes joined, not selected in: selectinload asks once per 500 items, so a big
        # sheet (1,000+ items) would run more statements than a small one.
        for item in db.session.scalars(
            select(StandingItem).where(StandingItem.customer_id.in_(ids))
            .options(joinedload(StandingItem.product), joinedload(StandingItem.packaging),
                     joinedload(StandingItem.substitutes))
            .order_by(StandingItem.id)
        ).unique():
            items[item.customer_id].append(item)
        for pref in db.session.scalars(
            select(ProductPreference).where(ProductPreference.customer_id.in_(ids),
                                            ProductPreference.kind == "dislike")
            .options(joinedload(ProductPreference.product))
        ):
            dislikes[pref.customer_id].append(pref.product.name)
    orders, drafts, lines = _day_orders(day, ids if route is not None else None)
    by_route = defaultdict(list)
    totals = Counter()
    for plan in sorted(plans, key=lambda p: (p.route.name, p.stop_order or 0, p.customer_id)):
        customer = customers[plan.customer_id]
        ordered = orders.pop(plan.customer_id, [])
        stop = Stop(customer=customer, plan=plan, address=customer.delivery_address,
                    receiver=_receiver(customer),
                    items=packed([line for o in ordered for line in lines[o.id]],
                                 items[plan.customer_id]),
                    dislikes=sorted(dislikes[plan.customer_id]), orders=ordered,
                    drafts=[] if ordered else drafts.get(plan.customer_id, []))
        by_route[plan.route.name].append(stop)
        for item in stop.items:
            packaging = item.packaging.name if item.packaging else NO_PACKAGING
            totals[(item.product.name, item.size, packaging)] += item.quantity
    return Sheet(day=day, routes=dict(by_route),
                 totals=[(*key, qty) for key, qty in sorted(totals.items())],
                 orders_without_stop=sorted((o for found in orders.values() for o in found),
                                            key=lambda o: o.id))


def packed(order_lines: list, standing_items: list) -> list:
    """What a stop packs: the lines of its confirmed or delivered orders of the day
    (SHEET_ORDER_STATUSES) when it has any, else its standing items (all of them). The sowing
    plan (crm.reports.sowing) counts demand by the same rule."""
    return order_lines if order_lines else standing_items


def _day_orders(day: date, customer_ids: list[int] | None):
    """({customer id: [Order]}, {customer id: [draft Order]}, {order id: [OrderLine]}): the
    day's confirmed and delivered orders, and its drafts (of `customer_ids`, or of everyone),
    with their lines, each line's product and packaging and each order's customer, in one
    statement (an order always has lines)."""
    if customer_ids is not None and not customer_ids:
        return {}, {}, {}
    query = (
        select(OrderLine).join(OrderLine.order).join(Order.customer)
        .where(Order.delivery_date == day,
               Order.status.in_((*SHEET_ORDER_STATUSES, "draft")))
        .options(contains_eager(OrderLine.order).contains_eager(Order.customer),
                 joinedload(OrderLine.product), joinedload(OrderLine.packaging))
        .order_by(Order.id, OrderLine.id)
    )
    if customer_ids is not None:
        query = query.where(Order.customer_id.in_(customer_ids))
    orders, drafts, lines = defaultdict(list), defaultdict(list), defaultdict(list)
    for line in db.session.scalars(query):
        if not lines[line.order_id]:
            order = line.order
            (drafts if order.status == "draft" else orders)[order.customer_id].append(order)
        lines[line.order_id].append(line)
    for found in (*orders.values(), *drafts.values()):
        for order in found:  # order.lines is these, not a statement more per order
            set_committed_value(order, "lines", lines[order.id])
    return orders, drafts, lines


def _receiver(customer):
    links = sorted(customer.contact_links,
                   key=lambda l: (RECEIVING_ROLES.index(l.role) if l.role in RECEIVING_ROLES
                                  else len(RECEIVING_ROLES), l.contact_id))
    return links[0].contact if links else None
