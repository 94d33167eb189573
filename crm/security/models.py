from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from crm.extensions import db


class SearchToken(db.Model):
    """An HMAC'd word-prefix of a name (see crm.security.blind_index) pointing at its record."""

    __tablename__ = "search_token"

    entity_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    token: Mapped[str] = mapped_column(String(32), primary_key=True)
    entity_id: Mapped[int] = mapped_column(primary_key=True)

    # Replacing one record's tokens must not scan everyone's.
    __table_args__ = (db.Index("ix_search_token_entity", "entity_type", "entity_id"),)
