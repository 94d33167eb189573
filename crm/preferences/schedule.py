"""Who gets a delivery on a date: the rule the delivery sheet, the Overview's next delivery
and the day's orders share.

A plan delivers on its weekdays; a biweekly plan only in the weeks an even number of weeks
from its anchor date; never during a pause; only for active, unarchived customers on a route.
Everything is computed on calendar dates in the farm's time zone, so a daylight-saving change
moves nothing.
"""
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.catalogue.models import Route
from crm.customers.models import Customer
from crm.extensions import db
from crm.preferences.models import DeliveryPause, DeliveryPlan


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


def on_a_route():
    """The conditions for a plan that can deliver at all: on a route, of an active unarchived
    customer (the query joins Customer)."""
    return (DeliveryPlan.route_id.is_not(None), Customer.status == "active",
            Customer.archived_at.is_(None))


def delivering_plans(day: date, route: Route | None = None) -> list[DeliveryPlan]:
    """The plans delivering on `day` (on `route`), their routes loaded: weekday, every other
    week, pauses, an active unarchived customer on a route. Two statements."""
    query = (
        select(DeliveryPlan)
        .join(Customer, Customer.id == DeliveryPlan.customer_id)
        .options(joinedload(DeliveryPlan.route))
        .where(*on_a_route(), DeliveryPlan.weekdays.op("&")(1 << day.weekday()) != 0)
    )
    if route is not None:
        query = query.where(DeliveryPlan.route_id == route.id)
    plans = db.session.scalars(query).all()
    ids = [p.customer_id for p in plans]
    paused = set(db.session.scalars(select(DeliveryPause.customer_id).where(
        DeliveryPause.customer_id.in_(ids), DeliveryPause.starts_on <= day,
        DeliveryPause.ends_on >= day))) if ids else set()
    return [p for p in plans if delivers_on(p, day, p.customer_id in paused)]


def customers_delivering(day: date) -> list[int]:
    """The ids of the customers with a delivery on `day`, by the rule the sheet uses."""
    return sorted(p.customer_id for p in delivering_plans(day))


def delivering_between(start: date, end: date) -> dict[date, list[int]]:
    """{day: ids of the customers with a delivery that day} for every day from `start` to `end`
    (both included), by the sheet's rule (delivers_on, pauses, on a route, active): two
    statements for the whole window, reading plan columns, not plan objects (a planner asks
    for weeks of days at once)."""
    days = [start + timedelta(n) for n in range((end - start).days + 1)]
    mask = sum({1 << d.weekday() for d in days})
    plans = db.session.execute(
        select(DeliveryPlan.customer_id, DeliveryPlan.weekdays, DeliveryPlan.frequency,
               DeliveryPlan.anchor_date)
        .join(Customer, Customer.id == DeliveryPlan.customer_id)
        .where(*on_a_route(), DeliveryPlan.weekdays.op("&")(mask) != 0)).all()
    pauses = defaultdict(list)
    if plans and days:
        for customer_id, starts_on, ends_on in db.session.execute(
            select(DeliveryPause.customer_id, DeliveryPause.starts_on, DeliveryPause.ends_on)
            .where(DeliveryPause.starts_on <= end, DeliveryPause.ends_on >= start)):
            pauses[customer_id].append((starts_on, ends_on))
    by_weekday = {d: [p for p in plans if p.weekdays & (1 << d)] for d in range(7)}
    found = {}
    for day in days:
        found[day] = sorted(
            plan.customer_id for plan in by_weekday[day.weekday()]
            if delivers_on(plan, day, plan.customer_id in pauses and any(
                a <= day <= b for a, b in pauses[plan.customer_id])))
    return found
