from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class Route(db.Model):
    """A van's run; customers' delivery plans name their route and stop order."""

    __tablename__ = "route"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
