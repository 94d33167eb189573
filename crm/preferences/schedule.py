"""Who gets a delivery on a date: the rule the delivery sheet, the Overview's next delivery
and the day's orders share.

A plan delivers on its weekdays; a biweekly plan only in the weeks an even number of weeks
from its anchor date; never during a pause; only for active, unarchived customers on a route.
Everything is computed on calendar dates in the farm's time zone, so a daylight-saving change
moves nothing.
"""
from datetime import date

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


def delivering_plans(day: date, route: Route | None = None) -> list[DeliveryPlan]:
    """The plans delivering on `day` (on `route`), their routes loaded: weekday, every other
    week, pauses, an active unarchived customer on a route. Two statements."""
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
    return [p for p in plans if delivers_on(p, day, p.customer_id in paused)]


def customers_delivering(day: date) -> list[int]:
    """The ids of the customers with a delivery on `day`, by the rule the sheet uses."""
    return sorted(p.customer_id for p in delivering_plans(day))
