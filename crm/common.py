"""Small shared pieces: actors, UTC and farm time, a timezone-aware DateTime type, edit
conflicts."""
from dataclasses import dataclass
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import CheckConstraint, DateTime
from sqlalchemy.types import TypeDecorator

MAX_ID = 2**31 - 1  # the largest id a PostgreSQL integer column holds
ID_DIGITS = len(str(MAX_ID))


def parse_id(text) -> int | None:
    """The one reading of an id typed into a URL or a form: ASCII digits only (int() would
    also read "２" or "٢" as 2), 1..MAX_ID (SQLite cannot bind more than 2**63 - 1, PostgreSQL's
    integer column holds 2**31 - 1); anything else is None. The query-string and form-field
    helpers (crm.web.arg_id, crm.forms.IdField) and the URL converter all come here."""
    if not isinstance(text, str) or not (text.isascii() and text.isdigit()):
        return None
    text = text.lstrip("0")
    if not text or len(text) > ID_DIGITS:
        return None
    number = int(text)
    return number if number <= MAX_ID else None

ACTOR_KINDS = ("staff", "portal", "system")


@dataclass(frozen=True)
class Actor:
    """Who did something: a staff user, a portal user, or the system (jobs, command-line
    imports, nightly work). Every service that writes takes one; rows store its kind and id
    side by side (no foreign key), so a portal user is never mistaken for the staff user with
    the same id."""

    kind: str
    id: int | None = None

    def __post_init__(self):
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"unknown actor kind {self.kind!r}")
        if (self.kind == "system") != (self.id is None):
            raise ValueError("the system actor has no id; staff and portal actors have one")

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @classmethod
    def staff(cls, user_id: int) -> "Actor":
        return cls("staff", user_id)

    @classmethod
    def portal(cls, user_id: int) -> "Actor":
        return cls("portal", user_id)

    @classmethod
    def stored(cls, kind: str | None, id: int | None) -> "Actor":
        """The actor a row recorded in its `<prefix>_kind` / `<prefix>_id` columns."""
        return cls(kind or "system", id)


SYSTEM = Actor("system")


def actor_check(prefix: str) -> CheckConstraint:
    """The constraint on a row's actor columns: a kind, and an id unless it is the system."""
    return CheckConstraint(
        f"({prefix}_kind = 'system' AND {prefix}_id IS NULL) OR "
        f"({prefix}_kind IN ('staff', 'portal') AND {prefix}_id IS NOT NULL)",
        name=f"{prefix}_actor",
    )


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


def insert_rows(model, rows: list[dict]) -> list[int]:
    """Insert many rows of a model in as few statements as the database allows (caller
    commits); their new ids, in the order of `rows`."""
    from sqlalchemy import insert

    from crm.extensions import db

    if not rows:
        return []
    if db.session.get_bind().dialect.name != "sqlite":
        statement = insert(model).returning(model.id, sort_by_parameter_order=True)
        return list(db.session.scalars(statement, rows))
    # SQLite cannot say which row of a many-row insert got which id (SQLAlchemy would insert
    # them one by one). Its first row's insert takes the database's write lock until the
    # transaction ends, so the others can be given the ids after that one.
    first = db.session.scalar(insert(model).returning(model.id), rows[0])
    ids = list(range(first, first + len(rows)))
    if len(rows) > 1:
        db.session.execute(insert(model), [{**row, "id": row_id}
                                           for row, row_id in zip(rows[1:], ids[1:])])
    return ids


def expire_loaded(record, *attributes):
    """Have a record loaded in this session read these relationships again (rows were added
    beside the ORM); nothing for one that is not loaded."""
    from sqlalchemy import inspect

    from crm.extensions import db

    if inspect(record).persistent:
        db.session.expire(record, list(attributes))


def batches(items, size: int):
    """`items` (a sequence) in slices of `size`."""
    for start in range(0, len(items), size):
        yield items[start:start + size]


def accepts_uploads(max_bytes: int):
    """Let one view take request bodies up to max_bytes (MAX_CONTENT_LENGTH elsewhere)."""
    def decorate(view):
        view.max_content_length = max_bytes
        return view

    return decorate


def load(path: str):
    """The object a "module:attribute" string names (features name their parts this way)."""
    from importlib import import_module

    module, _, attribute = path.partition(":")
    return getattr(import_module(module), attribute)


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


def too_long(limit: int, length: int) -> str:
    """What text over its length limit is told, with its length: it is refused, never cut
    (crm.forms.MaxLength, and services checking text that comes without a form)."""
    return f"{limit:,} characters at most (this has {length:,})."
