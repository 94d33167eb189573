"""Small shared pieces: UTC and farm time, a timezone-aware DateTime type, edit conflicts."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

MAX_ID = 2**31 - 1  # the largest id a PostgreSQL integer column holds


class ConflictError(Exception):
    """Someone else saved the record after the editor loaded it; `current` is their version."""

    def __init__(self, current):
        super().__init__("stale version")
        self.current = current


def save_versioned(load_current):
    """Flush; a race lost here (another save moved the version column on) becomes a
    ConflictError holding the record as now saved (`load_current()`)."""
    from sqlalchemy.orm.exc import StaleDataError

    from crm.extensions import db

    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise ConflictError(load_current()) from None


def accepts_uploads(max_bytes: int):
    """Let one view take request bodies up to max_bytes (MAX_CONTENT_LENGTH elsewhere)."""
    def decorate(view):
        view.max_content_length = max_bytes
        return view

    return decorate


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def farm_zone() -> ZoneInfo:
    """The farm's time zone (FARM_TIMEZONE): what staff read dates and times in."""
    return ZoneInfo(current_app.config["FARM_TIMEZONE"])


def farm_today() -> date:
    return datetime.now(farm_zone()).date()


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
