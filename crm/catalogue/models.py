"""What the farm sells and how it packs it. Retired items stay for history, off new choices."""
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from crm.common import UTCDateTime
from crm.extensions import db


class Product(db.Model):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    sizes: Mapped[str] = mapped_column(String(200), default="2 oz, 4 oz")  # comma-separated
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Growing data (the sowing plan, crm.reports.sowing): None until someone fills it in.
    days_to_harvest: Mapped[int | None]  # from sowing to harvest
    tray_yield_g: Mapped[int | None]  # grams harvested from one 10x20 tray
    loss_pct: Mapped[int] = mapped_column(default=0)  # extra sown for losses, 0-50 %
    growing_version: Mapped[int] = mapped_column(default=1)  # the growing form's stale check

    @property
    def has_growing_data(self) -> bool:
        return bool(self.days_to_harvest and self.tray_yield_g)

    @property
    def size_list(self) -> list[str]:
        return [s.strip() for s in self.sizes.split(",") if s.strip()]


class Packaging(db.Model):
    __tablename__ = "packaging"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Route(db.Model):
    """A van's run; customers' delivery plans name their route and stop order."""

    __tablename__ = "route"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
