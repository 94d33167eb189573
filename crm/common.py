"""Small shared pieces: UTC time and a timezone-aware DateTime column type."""
from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


MAX_ID = 2**31 - 1  # the largest id a PostgreSQL integer column holds


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores UTC; always returns aware datetimes (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(timezone.utc)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value

    def __repr__(self):
        return "UTCDateTime()"


def render_migration_type(type_, obj, autogen_context):
    """Alembic render_item hook: our column types are written as their plain database types,
    so migrations never import application code."""
    from crm.security.encryption import EncryptedString

    if type_ == "type":
        if isinstance(obj, EncryptedString):
            return "sa.Text()"
        if isinstance(obj, UTCDateTime):
            return "sa.DateTime(timezone=True)"
    return False
