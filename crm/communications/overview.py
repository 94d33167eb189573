"""The Overview's communications card: the last interaction, open tickets and open follow-ups
of one customer, for roles that see communications (three queries)."""
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.common import farm_today
from crm.communications.models import Interaction, Ticket
from crm.extensions import db
from crm.security.permissions import can

SHOWN = 5


def at_a_glance(customer):
    if not can(current_user, "communications.view"):
        return None
    alive = (Interaction.customer_id == customer.id) & Interaction.deleted_at.is_(None)
    last = db.session.scalar(
        select(Interaction).options(joinedload(Interaction.contact),
                                    joinedload(Interaction.logged_by))
        .where(alive).order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(1))
    tickets = db.session.scalars(
        select(Ticket).where(Ticket.customer_id == customer.id,
                             Ticket.status.in_(("open", "pending")))
        .order_by(Ticket.opened_at, Ticket.id).limit(SHOWN)).all()
    follow_ups = db.session.scalars(
        select(Interaction).options(joinedload(Interaction.follow_up_assignee))
        .where(alive, Interaction.follow_up_due.is_not(None),
               Interaction.follow_up_done_at.is_(None))
        .order_by(Interaction.follow_up_due, Interaction.id).limit(SHOWN)).all()
    return {"last": last, "tickets": tickets, "follow_ups": follow_ups, "today": farm_today(),
            "can_open_ticket": can(current_user, "communications.log")
            and not customer.is_archived}
