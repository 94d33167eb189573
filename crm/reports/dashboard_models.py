"""A user's dashboard (its widgets in order, each with its period) and the cache of widget
numbers that are too dear to count on every page view."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.common import UTCDateTime, utcnow
from crm.extensions import db


class DashboardWidget(db.Model):
    """One widget on one staff user's dashboard. A user with no rows sees their role's
    default set (crm.reports.widgets.DEFAULTS); the first change writes the whole set. The
    unique constraints keep one row per widget and per place: two tabs changing the order at
    once cannot leave two widgets in one place (the second is refused as stale, 409)."""

    __tablename__ = "dashboard_widget"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))  # crm.reports.widgets.WIDGETS
    position: Mapped[int]
    period: Mapped[str | None] = mapped_column(String(20))  # crm.reports.widgets.PERIODS

    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_dashboard_widget_key"),
                      UniqueConstraint("user_id", "position", name="uq_dashboard_widget_place"))


class WidgetCache(db.Model):
    """A widget's numbers for one period, as computed at `computed_at` (the widget says "as
    of"): revenue over a million invoices is counted by `flask reports refresh` and the nightly
    job, not on a page view. Ids and numbers only: names are looked up when shown."""

    __tablename__ = "dashboard_cache"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    period: Mapped[str] = mapped_column(String(20), primary_key=True)  # "" when none
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    data: Mapped[dict] = mapped_column(db.JSON)
