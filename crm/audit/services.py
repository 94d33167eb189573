"""Writing audit events (the caller commits, so the event lands in the same transaction);
where merged-away records went."""
from flask import abort
from sqlalchemy import select

from crm.audit.models import AuditEvent, MergedRecord
from crm.common import Actor
from crm.extensions import db


def record(action: str, entity_type: str, entity_id: int | None, *, actor, fields=()):
    """Add an audit event for the current unit of work (field names, never values)."""
    if not isinstance(actor, Actor):
        raise TypeError("audit events need an Actor (crm.common), e.g. user.actor or SYSTEM")
    event = AuditEvent(
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        fields=sorted(fields),
        actor_kind=actor.kind,
        actor_id=actor.id,
    )
    db.session.add(event)
    return event


def survivor_of(kind: str, record_id: int) -> int | None:
    """Where a merged-away id leads, or None when it was never merged."""
    return db.session.scalar(
        select(MergedRecord.survivor_id).where(MergedRecord.kind == kind,
                                               MergedRecord.old_id == record_id))


class RecordMoved(Exception):
    """The record asked for was merged into `survivor_id` (the app answers with a redirect to
    the same page of the survivor: crm.web.moved_response)."""

    def __init__(self, kind: str, survivor_id: int):
        super().__init__(f"{kind} merged into {survivor_id}")
        self.kind, self.survivor_id = kind, survivor_id


def found(record, kind: str, record_id: int):
    """The record; RecordMoved when it was merged into another; else 404."""
    if record is not None:
        return record
    survivor = survivor_of(kind, record_id)
    if survivor is None:
        abort(404)
    raise RecordMoved(kind, survivor)
