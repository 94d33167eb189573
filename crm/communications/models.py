from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.common import UTCDateTime, utcnow
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


class Interaction(db.Model):
    """Something said to or about a customer: a call, email, meeting, visit, ticket or note."""

    __tablename__ = "interaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str | None] = mapped_column(EncryptedString(200))
    body: Mapped[str | None] = mapped_column(EncryptedString(20000))
    outcome: Mapped[str | None] = mapped_column(EncryptedString(200))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_minutes: Mapped[int | None]
    visibility: Mapped[str] = mapped_column(String(20), default="internal")
    logged_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    follow_up_due: Mapped[date | None]
    follow_up_assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    follow_up_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    contact = relationship("Contact")
    logged_by = relationship("StaffUser", foreign_keys=[logged_by_id])

    __mapper_args__ = {"version_id_col": version}
    # The timeline reads one customer's entries newest first, a page at a time.
    __table_args__ = (db.Index("ix_interaction_timeline", "customer_id", "occurred_at", "id"),)

    @property
    def channel_label(self):
        return CHANNELS.get(self.channel, self.channel)

    @property
    def direction_label(self):
        return DIRECTIONS.get(self.direction, self.direction)
