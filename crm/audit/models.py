from datetime import datetime

from sqlalchemy import JSON, String, event
from sqlalchemy.orm import Mapped, mapped_column

from crm.common import Actor, UTCDateTime, actor_check, utcnow
from crm.extensions import db


class AuditEvent(db.Model):
    """Append-only record of who did what to which entity; field names only, never values."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(10))  # crm.common.ACTOR_KINDS
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(40))
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    fields: Mapped[list] = mapped_column(JSON, default=list)

    __table_args__ = (db.Index("ix_audit_event_entity", "entity_type", "entity_id"),
                      actor_check("actor"))

    @property
    def actor(self) -> Actor:
        return Actor.stored(self.actor_kind, self.actor_id)


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError("audit events are append-only")


class MergedRecord(db.Model):
    """A record merged into another (kind "customer" or "contact"): its old id (and number)
    leads to the survivor. When a survivor is itself merged later, its redirects are moved on
    to the new survivor. In the base so every feature's pages can follow it."""

    __tablename__ = "merged_record"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    old_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    survivor_id: Mapped[int] = mapped_column(index=True)
    merged_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    merged_by_kind: Mapped[str] = mapped_column(String(10))  # crm.common.Actor
    merged_by_id: Mapped[int | None]

    __table_args__ = (actor_check("merged_by"),)
