"""Tags, saved segments and computed categories.

- A **tag** is the farm's word for a group of customers ("Farmers market", "Wholesale"). Its
  name is shown as typed; `name_key` (trimmed, inner spaces collapsed, case-folded) is unique,
  so "Farmers Market" and "farmers market " are one tag.
- A **segment** is a saved rule tree (crm.segments.rules: whitelisted fields and operators,
  nested all/any groups) stored as JSON, compiled to one SQL query each time it is read, so it
  is never stale. Private to its owner, or shared (then only the owner or a manager edits it).
- A customer's **categories** (value tier, cadence, churn risk, engagement, RFM) are computed
  nightly (crm.segments.categories) and stored with the day they were computed.
"""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.common import UTCDateTime, actor_check, utcnow
from crm.extensions import db

TAG_NAME_MAX = 60
# A tag's colour is a key of this fixed palette (CSP allows no inline styles, so each is a CSS
# class, .tag-<key> in app.css, dark text on a pale ground: contrast 4.5:1 or more); None:
# the plain chip.
TAG_COLOURS = {"green": "Green", "teal": "Teal", "blue": "Blue", "purple": "Purple",
               "pink": "Pink", "red": "Red", "amber": "Amber", "slate": "Slate"}
COLOUR_PATTERN = r"^(?:" + "|".join(TAG_COLOURS) + r")$"
VALUE_TIERS = {"A": "A — the customers making the top 80 % of revenue",
               "B": "B — the next 15 %", "C": "C — the rest"}
CHURN_RISKS = {"low": "Low", "rising": "Rising", "high": "High"}
ENGAGEMENTS = {"none": "None", "low": "Low", "medium": "Medium", "high": "High"}


class Tag(db.Model):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(TAG_NAME_MAX))
    name_key: Mapped[str] = mapped_column(String(TAG_NAME_MAX), unique=True)
    colour: Mapped[str | None] = mapped_column(String(7))  # a key of TAG_COLOURS
    description: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class CustomerTag(db.Model):
    """A tag on a customer. The primary key (customer, tag) makes adding twice a no-op; the
    (tag, customer) index serves "who has this tag" and usage counts."""

    __tablename__ = "customer_tag"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tag.id"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by_kind: Mapped[str] = mapped_column(String(10), default="system")
    added_by_id: Mapped[int | None]

    tag: Mapped[Tag] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (Index("ix_customer_tag_tag", "tag_id", "customer_id"),
                      actor_check("added_by"))


class Segment(db.Model):
    __tablename__ = "segment"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id"), index=True)
    shared: Mapped[bool] = mapped_column(default=False)
    rules: Mapped[str] = mapped_column(Text)  # JSON: crm.segments.rules
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    owner = relationship("StaffUser", lazy="raise")

    __mapper_args__ = {"version_id_col": version}


class CustomerCategory(db.Model):
    """A customer's computed categories as of `computed_on` (one row a customer; a customer
    with no row has not been computed yet). Amounts in minor units (shown to money roles only)."""

    __tablename__ = "customer_category"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    computed_on: Mapped[date]
    revenue_12m: Mapped[int] = mapped_column(default=0)  # invoiced, trailing 12 months
    value_tier: Mapped[str | None] = mapped_column(String(1))  # VALUE_TIERS; None: no revenue
    orders_12m: Mapped[int] = mapped_column(default=0)
    last_order_on: Mapped[date | None]
    cadence_days: Mapped[int | None]  # median of the last 10 gaps between orders
    days_since_order: Mapped[int | None]
    churn_risk: Mapped[str | None] = mapped_column(String(10))  # CHURN_RISKS; None: no cadence
    interactions_90d: Mapped[int] = mapped_column(default=0)
    engagement: Mapped[str] = mapped_column(String(10), default="none")  # ENGAGEMENTS
    recency: Mapped[int | None]  # RFM scores 1..5 (5 best); None without orders
    frequency: Mapped[int | None]
    monetary: Mapped[int | None]

    __table_args__ = (
        Index("ix_customer_category_tier", "value_tier", "customer_id"),
        Index("ix_customer_category_churn", "churn_risk", "customer_id"),
        CheckConstraint("value_tier IS NULL OR value_tier IN ('A', 'B', 'C')",
                        name="value_tier_known"),
        CheckConstraint("churn_risk IS NULL OR churn_risk IN ('low', 'rising', 'high')",
                        name="churn_risk_known"),
    )
