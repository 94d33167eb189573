"""The Overview's delivery card: the customer's next delivery (the date, window, route and
what goes), with its preference sheet one click away (four queries)."""
from datetime import timedelta

from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from crm.common import farm_today
from crm.delivery.services import delivers_on
from crm.extensions import db
from crm.preferences.models import DeliveryPause, DeliveryPlan, StandingItem
from crm.preferences.services import describe_item
from crm.security.permissions import can

LOOK_AHEAD_DAYS = 28  # every other week, and a pause, still find the next one


def next_delivery(customer):
    if not can(current_user, "preferences.view"):
        return None
    plan = db.session.scalar(select(DeliveryPlan).options(joinedload(DeliveryPlan.route))
                             .where(DeliveryPlan.customer_id == customer.id))
    today, day = farm_today(), None
    if plan is not None and plan.weekdays and not customer.is_archived:
        last = today + timedelta(days=LOOK_AHEAD_DAYS)
        pauses = db.session.execute(
            select(DeliveryPause.starts_on, DeliveryPause.ends_on)
            .where(DeliveryPause.customer_id == customer.id, DeliveryPause.ends_on >= today,
                   DeliveryPause.starts_on <= last)).all()
        for offset in range(LOOK_AHEAD_DAYS + 1):
            candidate = today + timedelta(days=offset)
            paused = any(start <= candidate <= end for start, end in pauses)
            if delivers_on(plan, candidate, paused):
                day = candidate
                break
    items = [describe_item(item) for item in db.session.scalars(
        select(StandingItem).where(StandingItem.customer_id == customer.id)
        .options(joinedload(StandingItem.product), joinedload(StandingItem.packaging),
                 selectinload(StandingItem.substitutes))
        .order_by(StandingItem.id))]
    return {"plan": plan, "day": day, "today": today, "items": items,
            "sheet": can(current_user, "delivery.view")}
