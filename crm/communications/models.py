from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.common import UTCDateTime, actor_check, utcnow
from crm.extensions import db
from crm.security.encryption import EncryptedString

CHANNELS = {
    "call": "Call",
    "email": "Email",
    "meeting": "Meeting",
    "sms": "SMS",
    "visit": "Visit",
    "ticket": "Support ticket",
    "note": "Note",
}
DIRECTIONS = {"outbound": "Outbound", "inbound": "Inbound", "internal": "Internal"}
VISIBILITIES = {"internal": "Internal", "shared": "Shared with the customer"}
TICKET_STATUSES = {"open": "Open", "pending": "Pending", "resolved": "Resolved"}


class Ticket(db.Model):
    """A support case: a status, an assignee and a thread of interactions (channel "ticket")."""

    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    subject: Mapped[str] = mapped_column(EncryptedString(200))
    status: Mapped[str] = mapped_column(String(20), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    opened_by_kind: Mapped[str] = mapped_column(String(10))  # crm.common.Actor
    opened_by_id: Mapped[int | None]
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    customer = relationship("Customer")
    assignee = relationship("StaffUser", foreign_keys=[assignee_id])

    __mapper_args__ = {"version_id_col": version}
    # The open-tickets list reads by status, oldest first.
    __table_args__ = (db.Index("ix_ticket_status_opened", "status", "opened_at", "id"),
                      actor_check("opened_by"))

    @property
    def number(self) -> str:
        return f"T-{self.id:05d}"

    @property
    def status_label(self):
        return TICKET_STATUSES.get(self.status, self.status)


OPEN_FOLLOW_UP = ("follow_up_due IS NOT NULL AND follow_up_done_at IS NULL "
                  "AND deleted_at IS NULL")


class Interaction(db.Model):
    """Something said to or about a customer: a call, email, meeting, visit, ticket or note."""

    __tablename__ = "interaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(EncryptedString(200))
    body: Mapped[str | None] = mapped_column(EncryptedString(20000))
    outcome: Mapped[str | None] = mapped_column(EncryptedString(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int | None]
    visibility: Mapped[str] = mapped_column(String(20), default="internal")
    # who logged it (crm.common.Actor): staff, a portal user, or the system (an import)
    logged_by_kind: Mapped[str] = mapped_column(String(10))
    logged_by_id: Mapped[int | None]
    follow_up_due: Mapped[date | None]
    follow_up_assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    follow_up_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    # Set for emails logged from an .eml file.
    sender: Mapped[str | None] = mapped_column(EncryptedString(400))
    recipients: Mapped[str | None] = mapped_column(EncryptedString(4000))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    contact = relationship("Contact")
    customer = relationship("Customer")
    logged_by = relationship(  # the staff user who logged it, if it was one
        "StaffUser", viewonly=True,
        primaryjoin="and_(foreign(Interaction.logged_by_id) == StaffUser.id, "
                    "Interaction.logged_by_kind == 'staff')")
    follow_up_assignee = relationship("StaffUser", foreign_keys=[follow_up_assignee_id])
    ticket = relationship("Ticket")

    __mapper_args__ = {"version_id_col": version}
    # Timelines read newest first a page at a time: per customer, per contact, across all.
    __table_args__ = (
        db.Index("ix_interaction_timeline", "customer_id", "occurred_at", "id"),
        db.Index("ix_interaction_contact_timeline", "contact_id", "occurred_at", "id"),
        db.Index("ix_interaction_activity", "occurred_at", "id"),
        # Open follow-ups only: done ones pile up and must not slow the count in the nav.
        db.Index("ix_interaction_open_follow_ups", "follow_up_assignee_id", "follow_up_due",
                 sqlite_where=db.text("follow_up_done_at IS NULL AND deleted_at IS NULL"),
                 postgresql_where=db.text("follow_up_done_at IS NULL AND deleted_at IS NULL")),
        # A customer's open follow-ups (its Overview): without it, every interaction of the
        # customer is read to find the few with a follow-up (3 ms at 10,000 interactions).
        db.Index("ix_interaction_customer_follow_ups", "customer_id", "follow_up_due", "id",
                 sqlite_where=db.text(OPEN_FOLLOW_UP), postgresql_where=db.text(OPEN_FOLLOW_UP)),
        # The quick log's default channel: what this person logged last.
        db.Index("ix_interaction_logged_by", "logged_by_id", "created_at", "id"),
        actor_check("logged_by"),
    )

    @property
    def channel_label(self):
        return CHANNELS.get(self.channel, self.channel)

    @property
    def direction_label(self):
        return DIRECTIONS.get(self.direction, self.direction)

    @property
    def follow_up_open(self) -> bool:
        return self.follow_up_due is not None and self.follow_up_done_at is None
