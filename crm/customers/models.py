from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.common import UTCDateTime, utcnow
from crm.extensions import db
from crm.security.encryption import EncryptedString

KINDS = {
    "restaurant": "Restaurant",
    "grocer": "Grocer",
    "caterer": "Caterer",
    "csa_member": "CSA member",
    "market": "Market regular",
    "wholesale": "Wholesale",
    "individual": "Individual",
}
STATUSES = {"lead": "Lead", "active": "Active", "paused": "Paused", "churned": "Churned"}
PRICING_TIERS = {"standard": "Standard", "restaurant": "Restaurant", "wholesale": "Wholesale"}
DEFAULT_PRICING_TIER = "standard"
ADDRESS_KINDS = {"delivery": "Delivery", "billing": "Billing"}


def format_number(customer_id: int) -> str:
    return f"CUST-{customer_id:05d}"


class Customer(db.Model):
    """An account that buys from the farm."""

    __tablename__ = "customer"
    __search_index__ = "name"  # word-prefix tokens of the name (crm.security.search)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Encrypted: CSA members, market regulars and individuals are named after people.
    name: Mapped[str] = mapped_column(EncryptedString(120))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    pricing_tier: Mapped[str] = mapped_column(String(20), default=DEFAULT_PRICING_TIER)
    notes: Mapped[str | None] = mapped_column(EncryptedString(4000))
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, index=True
    )
    version: Mapped[int] = mapped_column(default=1)

    parent: Mapped["Customer | None"] = relationship(remote_side=[id], back_populates="locations")
    locations: Mapped[list["Customer"]] = relationship(
        back_populates="parent", order_by="Customer.id"
    )
    owner = relationship("StaffUser")
    addresses: Mapped[list["Address"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Address.id"
    )
    contact_links = relationship(
        "CustomerContact", back_populates="customer", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def number(self):
        """The customer number staff quote, e.g. CUST-00042 (derived from the id)."""
        return format_number(self.id)

    @property
    def kind_label(self):
        return KINDS.get(self.kind, self.kind)

    @property
    def status_label(self):
        return STATUSES.get(self.status, self.status)

    @property
    def delivery_address(self):
        """Where deliveries go: the delivery address, else the first address, else None."""
        return next((a for a in self.addresses if a.kind == "delivery"),
                    self.addresses[0] if self.addresses else None)

    @property
    def is_archived(self):
        return self.archived_at is not None

    def __repr__(self):
        return f"<Customer {self.id}>"


class Address(db.Model):
    """A billing or delivery address of a customer."""

    __tablename__ = "address"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="delivery")
    street: Mapped[str] = mapped_column(EncryptedString(200))
    street2: Mapped[str | None] = mapped_column(EncryptedString(200))
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(50))
    postal_code: Mapped[str | None] = mapped_column(String(20), index=True)
    country: Mapped[str] = mapped_column(String(2), default="US")
    delivery_instructions: Mapped[str | None] = mapped_column(EncryptedString(1000))
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    customer: Mapped[Customer] = relationship(back_populates="addresses")

    __mapper_args__ = {"version_id_col": version}

    @property
    def one_line(self):
        parts = [self.street, self.street2, self.city, " ".join(filter(None, [self.region, self.postal_code]))]
        return ", ".join(p for p in parts if p)
