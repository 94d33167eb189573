"""A customer's habits: products liked and disliked, standing items, the delivery plan (schedule,
route, packaging and service), pauses, each contact's channels and consent, and the history of
every change."""
from datetime import date, datetime, time

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.catalogue.models import (
    Product,  # noqa: F401 (relationships below name it)
    Route,  # noqa: F401
)
from crm.common import UTCDateTime, actor_check, utcnow
from crm.extensions import db
from crm.security.encryption import EncryptedString

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # bit i of weekdays = WEEKDAYS[i]
FREQUENCIES = {"weekly": "Every week", "biweekly": "Every other week"}
INVOICE_METHODS = {"email": "Email", "paper": "Paper with delivery", "portal": "Portal"}
SUBSTITUTION_POLICIES = {"allow": "Substitute freely", "ask": "Ask first", "never": "Never substitute"}
CHANNELS = {"email": "Email", "sms": "SMS", "phone": "Phone", "portal": "Portal"}
CONSENT_SOURCES = {"staff": "Told staff", "portal": "Portal", "form": "Signup form",
                   "market": "At the market"}

standing_item_substitute = Table(
    "standing_item_substitute", db.metadata,
    Column("standing_item_id", ForeignKey("standing_item.id", ondelete="CASCADE"),
           primary_key=True),
    Column("product_id", ForeignKey("product.id"), primary_key=True),
)


class ProductPreference(db.Model):
    """A product the customer likes or never wants."""

    __tablename__ = "product_preference"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # like | dislike

    product = relationship("Product")


class StandingItem(db.Model):
    """What goes out on every delivery."""

    __tablename__ = "standing_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    size: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]
    packaging_id: Mapped[int] = mapped_column(ForeignKey("packaging.id"))
    substitutions_allowed: Mapped[bool] = mapped_column(default=False)

    product = relationship("Product")
    packaging = relationship("Packaging")
    substitutes = relationship("Product", secondary=standing_item_substitute,
                               order_by="Product.name")


class DeliveryPlan(db.Model):
    """When and how a customer takes deliveries: schedule, route, packaging, service."""

    __tablename__ = "delivery_plan"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    weekdays: Mapped[int] = mapped_column(default=0)  # bit 0 = Monday … bit 6 = Sunday
    frequency: Mapped[str] = mapped_column(String(10), default="weekly")
    anchor_date: Mapped[date | None]  # biweekly: a delivery date; every 14 days from it
    window_start: Mapped[time | None]  # farm time
    window_end: Mapped[time | None]
    route_id: Mapped[int | None] = mapped_column(ForeignKey("route.id"), index=True)
    stop_order: Mapped[int | None]
    returnables: Mapped[bool] = mapped_column(default=False)
    compostable_only: Mapped[bool] = mapped_column(default=False)
    labelling: Mapped[str | None] = mapped_column(EncryptedString(200))
    invoice_method: Mapped[str] = mapped_column(String(10), default="email")
    call_ahead: Mapped[bool] = mapped_column(default=False)
    substitution_policy: Mapped[str] = mapped_column(String(10), default="ask")
    special_handling: Mapped[str | None] = mapped_column(EncryptedString(1000))
    version: Mapped[int] = mapped_column(default=1)

    route = relationship("Route")

    __mapper_args__ = {"version_id_col": version}

    @property
    def weekday_names(self) -> list[str]:
        return [name for i, name in enumerate(WEEKDAYS) if self.weekdays & (1 << i)]


class DeliveryPause(db.Model):
    """No deliveries from starts_on to ends_on, both included (a holiday, a vacation)."""

    __tablename__ = "delivery_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reason: Mapped[str | None] = mapped_column(EncryptedString(200))


class ContactPreference(db.Model):
    """How a person wants to be reached, and their marketing consent (kept as a record)."""

    __tablename__ = "contact_preference"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), primary_key=True)
    channels: Mapped[str] = mapped_column(String(40), default="")  # comma-separated CHANNELS
    preferred: Mapped[str | None] = mapped_column(String(10))
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consent_source: Mapped[str | None] = mapped_column(String(20))
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def channel_list(self) -> list[str]:
        return [c for c in self.channels.split(",") if c]


class PreferenceChange(db.Model):
    """One changed preference: who, when, from where, old → new (values encrypted)."""

    __tablename__ = "preference_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor_kind: Mapped[str] = mapped_column(String(10))  # crm.common.Actor
    actor_id: Mapped[int | None]
    field: Mapped[str] = mapped_column(String(80))
    old: Mapped[str | None] = mapped_column(EncryptedString(2000))
    new: Mapped[str | None] = mapped_column(EncryptedString(2000))

    staff = relationship(  # the staff user who made it, if it was one
        "StaffUser", viewonly=True,
        primaryjoin="and_(foreign(PreferenceChange.actor_id) == StaffUser.id, "
                    "PreferenceChange.actor_kind == 'staff')")

    __table_args__ = (db.Index("ix_preference_change_customer", "customer_id", "changed_at", "id"),
                      actor_check("actor"))
