"""Interactions: logging them and reading a customer's timeline a page at a time."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import select, tuple_
from sqlalchemy.orm import joinedload

from crm.audit.services import record
from crm.common import utcnow
from crm.communications.models import Interaction
from crm.extensions import db

PAGE_SIZE = 20
LOGGED_FIELDS = ("channel", "direction", "contact_id", "subject", "body", "outcome",
                 "occurred_at", "duration_minutes", "visibility")


class InteractionError(ValueError):
    """Input a form cannot catch on its own (e.g. a contact of another customer)."""


def encode_cursor(entry: Interaction) -> str:
    micros = int(entry.occurred_at.timestamp() * 1_000_000)
    return f"{micros}-{entry.id}"


def decode_cursor(cursor: str | None):
    try:
        micros, entry_id = (int(part) for part in (cursor or "").split("-"))
        return datetime.fromtimestamp(micros / 1_000_000, timezone.utc), entry_id
    except (ValueError, OverflowError, OSError):
        return None


def timeline(customer_id: int, *, before: str | None = None, channel: str = "",
             staff_id: int | None = None, since=None, until=None, limit: int = PAGE_SIZE):
    """Newest first; (entries, cursor for the next page or None). Same queries at any length."""
    query = (
        select(Interaction)
        .options(joinedload(Interaction.contact), joinedload(Interaction.logged_by))
        .where(Interaction.customer_id == customer_id, Interaction.deleted_at.is_(None))
    )
    if channel:
        query = query.where(Interaction.channel == channel)
    if staff_id:
        query = query.where(Interaction.logged_by_id == staff_id)
    if since:
        query = query.where(Interaction.occurred_at >= since)
    if until:
        query = query.where(Interaction.occurred_at < until)
    position = decode_cursor(before)
    if position:
        query = query.where(tuple_(Interaction.occurred_at, Interaction.id) < position)
    query = query.order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(limit + 1)
    entries = db.session.scalars(query).unique().all()
    more = len(entries) > limit
    entries = entries[:limit]
    return entries, (encode_cursor(entries[-1]) if more else None)


def last_channel(staff_id: int) -> str | None:
    """The channel this staff member logged most recently (the quick log's default)."""
    return db.session.scalar(
        select(Interaction.channel)
        .where(Interaction.logged_by_id == staff_id)
        .order_by(Interaction.created_at.desc(), Interaction.id.desc())
        .limit(1)
    )


def log_interaction(customer, data: dict, *, actor) -> Interaction:
    """Record an interaction with a customer (caller commits). InteractionError on bad input."""
    linked = {link.contact_id for link in customer.contact_links}
    if data.get("contact_id") and data["contact_id"] not in linked:
        raise InteractionError("That contact is not linked to this customer.")
    if data["occurred_at"] > utcnow() + timedelta(minutes=5):
        raise InteractionError("It cannot have happened in the future.")
    if customer.is_archived:
        raise InteractionError("This customer is archived; restore it to log interactions.")
    entry = Interaction(customer_id=customer.id, logged_by_id=actor.id if actor else None,
                        **{k: data.get(k) for k in LOGGED_FIELDS})
    db.session.add(entry)
    db.session.flush()
    record("create", "interaction", entry.id, actor=actor,
           fields=[k for k in LOGGED_FIELDS if data.get(k) is not None])
    return entry
