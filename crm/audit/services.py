"""Writing audit events. The caller commits, so the event lands in the same transaction."""
from crm.audit.models import AuditEvent
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
