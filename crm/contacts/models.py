from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.common import UTCDateTime, utcnow
from crm.extensions import db
from crm.security.encryption import EncryptedString

CONTACT_ROLES = {
    "primary": "Primary",
    "ordering": "Ordering",
    "billing": "Billing",
    "kitchen": "Kitchen",
    "receiving": "Receiving",
}


class Contact(db.Model):
    """A person; may buy for several customers."""

    __tablename__ = "contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(EncryptedString(80))
    last_name: Mapped[str | None] = mapped_column(EncryptedString(80))
    notes: Mapped[str | None] = mapped_column(EncryptedString(4000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    emails: Mapped[list["ContactEmail"]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", order_by="ContactEmail.id"
    )
    phones: Mapped[list["ContactPhone"]] = relationship(
        back_populates="contact", cascade="all, delete-orphan", order_by="ContactPhone.id"
    )
    customer_links = relationship(
        "CustomerContact", back_populates="contact", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def full_name(self):
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def primary_email(self):
        return next((e for e in self.emails if e.is_primary), None)

    @property
    def primary_phone(self):
        return next((p for p in self.phones if p.is_primary), None)


class ChannelFlags:
    """Shared by emails and phones: one primary each, and whether we may or can use it."""

    is_primary: Mapped[bool] = mapped_column(default=False)
    opted_out: Mapped[bool] = mapped_column(default=False)
    invalid: Mapped[bool] = mapped_column(default=False)


class ContactEmail(ChannelFlags, db.Model):
    __tablename__ = "contact_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    email: Mapped[str] = mapped_column(EncryptedString(254))
    email_bidx: Mapped[str] = mapped_column(String(32), index=True)

    contact: Mapped[Contact] = relationship(back_populates="emails")


class ContactPhone(ChannelFlags, db.Model):
    __tablename__ = "contact_phone"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    phone: Mapped[str] = mapped_column(EncryptedString(20))  # E.164
    phone_bidx: Mapped[str] = mapped_column(String(32), index=True)

    contact: Mapped[Contact] = relationship(back_populates="phones")


class CustomerContact(db.Model):
    """Links a contact to a customer in a role."""

    __tablename__ = "customer_contact"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        ForeignKey("contact.id"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(20), primary_key=True)

    customer = relationship("Customer", back_populates="contact_links")
    contact: Mapped[Contact] = relationship(back_populates="customer_links")
