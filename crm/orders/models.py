"""Prices and orders. A price is per product size and pricing tier, in minor units; a change
is a new row from its moment on, so an order is priced as the list stood when it was created.
An order's lines freeze their unit price when it is confirmed."""
from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.catalogue.models import Packaging, Product  # noqa: F401 (relationships name them)
from crm.common import UTCDateTime, actor_check, utcnow
from crm.extensions import db
from crm.security.encryption import EncryptedString

ORDER_STATUSES = {"draft": "Draft", "confirmed": "Confirmed", "delivered": "Delivered",
                  "invoiced": "Invoiced", "cancelled": "Cancelled"}
OPEN_STATUSES = ("confirmed", "delivered")  # owed soon: counted against the credit limit


class Price(db.Model):
    """What one size of a product costs a pricing tier, from `valid_from` until the next row
    for the same product, size and tier. `amount` None: no longer sold to that tier."""

    __tablename__ = "price"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    size: Mapped[str] = mapped_column(String(20))
    tier: Mapped[str] = mapped_column(String(20))  # crm.customers.models.PRICING_TIERS
    amount: Mapped[int | None]  # minor units
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    set_by_kind: Mapped[str] = mapped_column(String(10))
    set_by_id: Mapped[int | None]

    product = relationship("Product")

    __table_args__ = (
        Index("ix_price_lookup", "product_id", "size", "tier", "valid_from"),
        actor_check("set_by"),
    )


class Order(db.Model):
    __tablename__ = "sales_order"  # "order" is an SQL keyword

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    delivery_date: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Why the last confirmation was refused or warned (words, no amounts): shown on the draft.
    credit_reasons: Mapped[list | None] = mapped_column(db.JSON)
    override_reason: Mapped[str | None] = mapped_column(EncryptedString(500))
    override_by_kind: Mapped[str | None] = mapped_column(String(10))
    override_by_id: Mapped[int | None]
    created_by_kind: Mapped[str] = mapped_column(String(10))
    created_by_id: Mapped[int | None]
    version: Mapped[int] = mapped_column(default=1)

    customer = relationship("Customer")
    lines: Mapped[list["OrderLine"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderLine.id")

    __mapper_args__ = {"version_id_col": version}
    # A customer's orders by day with their status, read from the index alone: segments'
    # "last order", "orders in the last N days" (crm.segments.rules) and the orders list.
    __table_args__ = (Index("ix_sales_order_customer_day", "customer_id", "delivery_date",
                            "status"),
                      actor_check("created_by"))

    @property
    def number(self) -> str:
        return f"ORD-{self.id:06d}"

    @property
    def status_label(self) -> str:
        return ORDER_STATUSES.get(self.status, self.status)

    @property
    def total(self) -> int | None:
        """Minor units; None while a line has no price yet (a draft priced at confirmation)."""
        amounts = [line.amount for line in self.lines]
        return None if None in amounts else sum(amounts)


class OrderLine(db.Model):
    __tablename__ = "order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"),
                                          index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    size: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]
    packaging_id: Mapped[int | None] = mapped_column(ForeignKey("packaging.id"))
    unit_price: Mapped[int | None]  # minor units, frozen at confirmation

    order: Mapped[Order] = relationship(back_populates="lines")
    product = relationship("Product")
    packaging = relationship("Packaging")

    @property
    def amount(self) -> int | None:
        return None if self.unit_price is None else self.unit_price * self.quantity

