"""Saved segments: a name, an owner, private or shared, and a rule tree (crm.segments.rules)
checked on every save and compiled each time it is read.

- A private segment is its owner's alone: for anyone else it does not exist (None, a 404).
- A shared one is used by everyone holding segments.use, edited and deleted by its owner or by
  a holder of segments.manage.
- A segment filtering by amounts (revenue, balance) exists only for viewers holding
  credit.amounts: sales never learns who owes what through a segment.

Writers take the user (for the rules above) and an actor; the caller commits once.
"""
import json

from sqlalchemy import or_, select

from crm.audit.services import record
from crm.common import ConflictError, save_versioned
from crm.extensions import db
from crm.security.permissions import can
from crm.segments import rules
from crm.segments.models import Segment

NAME_MAX = 120
LISTED = 200  # segments listed at most (the list's counts are one statement)


class SegmentError(ValueError):
    """A segment that cannot be saved as asked; `problems` are the rules' (rules.Problem)."""

    def __init__(self, message: str, problems=()):
        super().__init__(message)
        self.problems = list(problems)


def sees_amounts(user) -> bool:
    return can(user, "credit.amounts")


def tree_of(segment: Segment) -> dict:
    """The segment's rule tree (an empty one if what is stored is not JSON)."""
    try:
        tree = json.loads(segment.rules or "")
    except ValueError:
        return rules.empty_tree()
    return tree if isinstance(tree, dict) else rules.empty_tree()


def _visible(user):
    return or_(Segment.shared.is_(True), Segment.owner_id == user.id)


def segments_for(user) -> list[Segment]:
    """The segments `user` may use: their own and the shared ones, by name; those filtering by
    amounts only for viewers of amounts."""
    found = db.session.scalars(select(Segment).where(_visible(user))
                               .order_by(Segment.name, Segment.id).limit(LISTED)).all()
    if sees_amounts(user):
        return list(found)
    return [s for s in found if not rules.uses_money(tree_of(s))]


def get_segment(segment_id: int, user) -> Segment | None:
    """The segment if `user` may use it, else None (the caller answers 404)."""
    segment = db.session.scalar(select(Segment).where(Segment.id == segment_id, _visible(user)))
    if segment is None or (not sees_amounts(user) and rules.uses_money(tree_of(segment))):
        return None
    return segment


def may_edit(segment: Segment, user) -> bool:
    """The owner edits their segments; a shared one also a holder of segments.manage."""
    return segment.owner_id == user.id or (segment.shared and can(user, "segments.manage"))


def segment_customer_ids(segment: Segment, user):
    """A select of the ids of the (unarchived) customers in the segment, as `user` may see
    them: the customer list's "Segment" filter, exports and reports use it. One statement;
    a tag or route deleted since the segment was saved matches nobody. RuleError if the
    stored rules no longer validate (they did when saved)."""
    return rules.customer_ids(tree_of(segment), amounts=sees_amounts(user))


def segment_filter(segment_id: int, user=None):
    """The customer list's "Segment" filter (crm.features.ListFilter): the segment's
    customers as the user may see them; ValueError when it is gone or not theirs to use. A
    job or command (no user) reads the segment as its owner would."""
    segment = (db.session.get(Segment, segment_id) if user is None
               else get_segment(segment_id, user))
    if segment is None:
        raise SegmentError("That segment no longer exists or is not yours to use. "
                           "Choose another segment.")
    if user is None:
        from crm.auth.models import StaffUser

        user = db.session.get(StaffUser, segment.owner_id)
    return rules.condition(tree_of(segment), amounts=sees_amounts(user))


def segment_choices(user=None) -> list[tuple[int, str]]:
    return [(s.id, s.name) for s in segments_for(user)] if user is not None else []


def segment_counts(segments, user) -> dict[int, int | None]:
    """{segment id: how many customers it holds} in one statement for all of them; None for a
    segment whose rules no longer compile."""
    found = rules.counts([tree_of(s) for s in segments], amounts=sees_amounts(user))
    return {s.id: n for s, n in zip(segments, found)}


def _check(name: str, tree, user):
    cleaned = " ".join((name or "").split())
    tree, problems = rules.validate(tree, amounts=sees_amounts(user))
    if problems:
        raise SegmentError("Fix the rules marked below; nothing was saved.", problems)
    if not tree["rules"]:
        raise SegmentError("Add at least one rule before saving.")
    if not cleaned:
        raise SegmentError("Give the segment a name.")
    if len(cleaned) > NAME_MAX:
        raise SegmentError(f"A segment name is at most {NAME_MAX} characters.")
    return cleaned, json.dumps(tree, separators=(",", ":"))


def create_segment(name: str, tree, *, shared: bool, user, actor) -> Segment:
    """A new segment owned by `user`; SegmentError (nothing added) if the rules or the name
    are not right."""
    cleaned, stored = _check(name, tree, user)
    segment = Segment(name=cleaned, owner_id=user.id, shared=bool(shared), rules=stored)
    db.session.add(segment)
    db.session.flush()
    record("create", "segment", segment.id, actor=actor, fields=("name", "rules", "shared"))
    return segment


def update_segment(segment: Segment, name: str, tree, *, shared: bool, version: int, user,
                   actor) -> Segment:
    """Save new rules, name and sharing. PermissionError if `user` may not edit it,
    ConflictError if someone saved it after `version` was loaded, SegmentError if the rules
    or name are not right (nothing changed in each case)."""
    if not may_edit(segment, user):
        raise PermissionError("Only its owner or a manager edits this segment.")
    if version != segment.version:
        raise ConflictError(segment)
    cleaned, stored = _check(name, tree, user)
    if not shared and segment.owner_id != user.id:
        raise SegmentError("Only its owner can make a shared segment private.")
    changed = [f for f, new in (("name", cleaned), ("rules", stored), ("shared", bool(shared)))
               if getattr(segment, f) != new]
    segment.name, segment.rules, segment.shared = cleaned, stored, bool(shared)
    save_versioned(lambda: db.session.get(Segment, segment.id))
    if changed:
        record("update", "segment", segment.id, actor=actor, fields=changed)
    return segment


def delete_segment(segment: Segment, *, version: int, user, actor):
    if not may_edit(segment, user):
        raise PermissionError("Only its owner or a manager deletes this segment.")
    if version != segment.version:
        raise ConflictError(segment)
    record("delete", "segment", segment.id, actor=actor, fields=("name", "rules", "shared"))
    db.session.delete(segment)
    save_versioned(lambda: db.session.get(Segment, segment.id))
