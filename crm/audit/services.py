"""Writing audit events (the caller commits, so the event lands in the same transaction);
where merged-away records went."""
from flask import abort
from sqlalchemy import insert, select

from crm.audit.models import AuditEvent, MergedRecord
from crm.common import Actor, utcnow
from crm.extensions import db


def record(action: str, entity_type: str, entity_id: int | None, *, actor, fields=()):
    """Add an audit event for the current unit of work (field names, never values)."""
    event = AuditEvent(**_event(action, entity_type, entity_id, actor, fields))
    db.session.add(event)
    return event


def record_many(action: str, entity_type: str, events, *, actor):
    """record() for many entities at once, in one statement: `events` are (entity_id, fields)
    pairs (the caller commits)."""
    rows = [_event(action, entity_type, entity_id, actor, fields) for entity_id, fields in events]
    if rows:
        db.session.execute(insert(AuditEvent), rows)


def _event(action, entity_type, entity_id, actor, fields) -> dict:
    """An audit event's columns: who (an Actor), what, which entity, which fields (sorted)."""
    if not isinstance(actor, Actor):
        raise TypeError("audit events need an Actor (crm.common), e.g. user.actor or SYSTEM")
    return {"action": action, "entity_type": entity_type, "entity_id": entity_id,
            "fields": sorted(fields), "actor_kind": actor.kind, "actor_id": actor.id,
            "occurred_at": utcnow()}


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
