"""Saved segments: who sees, uses and edits them, version conflicts, rules checked on save,
and the select the customer list's filter uses."""
import json

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.auth.models import StaffUser
from crm.common import SYSTEM, ConflictError
from crm.extensions import db
from crm.segments.models import Segment, Tag
from crm.segments.services import (
    SegmentError,
    create_segment,
    delete_segment,
    get_segment,
    may_edit,
    segment_counts,
    segment_customer_ids,
    segments_for,
    update_segment,
)
from crm.segments.tags import add_tag, find_or_create_tag
from tests import factories

GROCERS = {"match": "all", "rules": [{"field": "kind", "op": "in", "value": ["grocer"]}]}
RICH = {"match": "all", "rules": [{"field": "balance", "op": "gte", "value": "10"}]}


@pytest.fixture
def people(app, auth):
    ids = {role: auth.make_user(role, f"{role}@farm.test")
           for role in ("admin", "manager", "sales", "finance")}
    ids["sales2"] = auth.make_user("sales", "other.sales@farm.test")
    with app.app_context():
        yield {k: db.session.get(StaffUser, v) for k, v in ids.items()}
        db.session.remove()


def make(user, tree=GROCERS, shared=False, name="Grocers"):
    segment = create_segment(name, tree, shared=shared, user=user, actor=user.actor)
    db.session.commit()
    return segment


def test_a_private_segment_is_its_owners_alone(people):
    mine = make(people["sales"])
    assert get_segment(mine.id, people["sales"]).id == mine.id
    for other in ("sales2", "manager", "admin"):
        assert get_segment(mine.id, people[other]) is None  # a 404 for them
        assert mine not in segments_for(people[other])


def test_a_shared_segment_is_used_by_all_and_edited_by_owner_or_manager(people):
    shared = make(people["sales"], shared=True)
    assert get_segment(shared.id, people["sales2"]) is not None
    assert [may_edit(shared, people[p]) for p in ("sales", "sales2", "manager", "admin",
                                                  "finance")] == [True, False, True, True,
                                                                  False]
    with pytest.raises(PermissionError):
        update_segment(shared, "Mine now", GROCERS, shared=True, version=shared.version,
                       user=people["sales2"], actor=people["sales2"].actor)
    with pytest.raises(PermissionError):
        delete_segment(shared, version=shared.version, user=people["sales2"],
                       actor=people["sales2"].actor)
    update_segment(shared, "Grocers (all)", GROCERS, shared=True, version=shared.version,
                   user=people["manager"], actor=people["manager"].actor)
    db.session.commit()
    assert db.session.get(Segment, shared.id).name == "Grocers (all)"


def test_a_stale_version_is_a_conflict_and_changes_nothing(people):
    segment = make(people["sales"])
    loaded = segment.version
    update_segment(segment, "Grocers 2", GROCERS, shared=False, version=loaded,
                   user=people["sales"], actor=people["sales"].actor)
    db.session.commit()
    with pytest.raises(ConflictError):
        update_segment(segment, "Grocers 3", GROCERS, shared=False, version=loaded,
                       user=people["sales"], actor=people["sales"].actor)
    db.session.rollback()
    assert db.session.get(Segment, segment.id).name == "Grocers 2"


def test_invalid_rules_save_nothing(people):
    bad = {"match": "all", "rules": [{"field": "last_order", "op": "within", "value": "abc"}]}
    with pytest.raises(SegmentError) as caught:
        create_segment("Quiet", bad, shared=False, user=people["sales"],
                       actor=people["sales"].actor)
    assert [str(p) for p in caught.value.problems] == [
        "Rule 1 in group 1: 'abc' is not a number of days."]
    for name, tree, message in [("", GROCERS, "Give the segment a name."),
                                ("x" * 121, GROCERS, "at most 120"),
                                ("Empty", {"match": "all", "rules": []}, "at least one rule")]:
        with pytest.raises(SegmentError, match=message):
            create_segment(name, tree, shared=False, user=people["sales"],
                           actor=people["sales"].actor)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Segment)) == 0


def test_sales_can_neither_filter_nor_see_segments_by_amounts(people):
    with pytest.raises(SegmentError):
        create_segment("Owes", RICH, shared=True, user=people["sales"],
                       actor=people["sales"].actor)
    db.session.rollback()
    rich = make(people["finance"], RICH, shared=True, name="Owes")
    assert get_segment(rich.id, people["sales"]) is None
    assert rich not in segments_for(people["sales"])
    assert get_segment(rich.id, people["manager"]) is not None


def test_saving_is_audited_and_the_rules_stored_clean(people):
    segment = make(people["sales"], {"match": "all", "rules": [
        {"field": "last_order", "op": "within", "value": " 30 "}]})
    assert json.loads(segment.rules) == {"match": "all", "rules": [
        {"field": "last_order", "op": "within", "value": 30}]}
    assert db.session.scalar(select(AuditEvent.action).where(
        AuditEvent.entity_type == "segment", AuditEvent.entity_id == segment.id)) == "create"


def test_segment_customer_ids_is_the_list_filters_select(people):
    a = factories.customer("Corner Grocer", kind="grocer")
    factories.customer("Blue Heron", kind="restaurant")
    segment = make(people["sales"], shared=True)
    assert list(db.session.scalars(segment_customer_ids(segment, people["sales2"]))) == [a.id]
    assert segment_counts([segment], people["sales2"]) == {segment.id: 1}


def test_a_segment_on_a_deleted_tag_matches_nobody_and_says_so(people, app):
    a = factories.customer("Corner Grocer", kind="grocer")
    tag = find_or_create_tag("Wholesale", actor=SYSTEM)
    add_tag([a.id], tag, actor=SYSTEM)
    db.session.commit()
    segment = make(people["sales"], {"match": "all", "rules": [
        {"field": "tags", "op": "any", "value": [tag.id]}]})
    assert list(db.session.scalars(segment_customer_ids(segment, people["sales"]))) == [a.id]
    from crm.segments.models import CustomerTag
    db.session.execute(CustomerTag.__table__.delete())
    db.session.execute(Tag.__table__.delete())
    db.session.commit()
    assert list(db.session.scalars(segment_customer_ids(segment, people["sales"]))) == []
    with pytest.raises(SegmentError) as caught:  # saving it again asks to choose again
        update_segment(segment, segment.name, json.loads(segment.rules), shared=False,
                       version=segment.version, user=people["sales"],
                       actor=people["sales"].actor)
    assert "no longer exists" in str(caught.value.problems[0])
