"""The Overview's communications card: the last interaction, open tickets and open follow-ups
of one customer, for roles that see communications (three statements, each built once, reading
and decrypting only what the card shows)."""
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from flask_login import current_user
from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import aliased

from crm.auth.models import StaffUser
from crm.common import farm_today
from crm.communications.models import Interaction, Ticket
from crm.contacts.models import Contact
from crm.extensions import db
from crm.security.permissions import can

SHOWN = 5


@dataclass(frozen=True)
class Latest:
    """The last interaction as the card says it."""

    channel: str
    occurred_at: datetime
    said: str  # its subject, else its outcome, else what was said
    contact: str | None  # the person's full name, None without one
    logged_by: str | None  # the staff user's name, None when not logged by one
    channel_label = Interaction.channel_label  # the model's own properties, read from these


@dataclass(frozen=True)
class FollowUp:
    channel: str
    follow_up_due: date
    said: str  # its subject, else its outcome, else its channel's label
    assignee: str | None
    channel_label = Interaction.channel_label


@dataclass(frozen=True)
class OpenTicket:
    id: int
    status: str
    subject: str | None
    number = Ticket.number
    status_label = Ticket.status_label


def at_a_glance(customer):
    if not can(current_user, "communications.view"):
        return None
    params = {"customer_id": customer.id}
    row = db.session.execute(_last_statement(), params).first()
    last = None if row is None else Latest(
        row.channel, row.occurred_at, row.subject or row.outcome or row.body or "",
        Contact.full_name.fget(row) if row.person_id is not None else None, row.logged_by)
    follow_ups = [FollowUp(row.channel, row.follow_up_due, row.subject or row.outcome
                           or Interaction.channel_label.fget(row), row.assignee)
                  for row in db.session.execute(_follow_ups_statement(), params)]
    tickets = [OpenTicket(*row) for row in db.session.execute(_tickets_statement(), params)]
    return {"last": last, "tickets": tickets, "follow_ups": follow_ups, "today": farm_today(),
            "can_open_ticket": can(current_user, "communications.log")
            and not customer.is_archived}


def _alive():
    return and_(Interaction.customer_id == bindparam("customer_id"),
                Interaction.deleted_at.is_(None))


@cache  # the three statements are built once (once every model is mapped), their cache keys too
def _last_statement():
    """The last interaction: what it says, with whom, logged by whom (not its email's sender
    and recipients, nor the person's notes)."""
    return (select(Interaction.channel, Interaction.occurred_at, Interaction.subject,
                   Interaction.outcome, Interaction.body, Contact.id.label("person_id"),
                   Contact.first_name, Contact.last_name, StaffUser.name.label("logged_by"))
            .outerjoin(Contact, Contact.id == Interaction.contact_id)
            .outerjoin(StaffUser, and_(StaffUser.id == Interaction.logged_by_id,
                                       Interaction.logged_by_kind == "staff"))
            .where(_alive())
            .order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(1))


@cache
def _follow_ups_statement():
    """The first open follow-ups by due date: no bodies."""
    assignee = aliased(StaffUser)
    return (select(Interaction.channel, Interaction.follow_up_due, Interaction.subject,
                   Interaction.outcome, assignee.name.label("assignee"))
            .outerjoin(assignee, assignee.id == Interaction.follow_up_assignee_id)
            .where(_alive(), Interaction.follow_up_due.is_not(None),
                   Interaction.follow_up_done_at.is_(None))
            .order_by(Interaction.follow_up_due, Interaction.id).limit(SHOWN))


@cache
def _tickets_statement():
    return (select(Ticket.id, Ticket.status, Ticket.subject)
            .where(Ticket.customer_id == bindparam("customer_id"),
                   Ticket.status.in_(("open", "pending")))
            .order_by(Ticket.opened_at, Ticket.id).limit(SHOWN))
