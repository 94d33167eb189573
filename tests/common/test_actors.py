"""Actors: services record who did something as a kind and an id, for staff, portal users and
the system alike, and never credit a portal user's change to the staff user with the same id."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from crm.audit.models import AuditEvent, MergedRecord
from crm.auth.models import StaffUser
from crm.common import SYSTEM, Actor, farm_today, utcnow
from crm.communications.models import Interaction
from crm.communications.services import InteractionError, log_interaction, timeline
from crm.contacts.merge import merge
from crm.extensions import db
from crm.jobs.services import enqueue
from crm.preferences.models import PreferenceChange
from crm.preferences.services import add_pause, preferences
from tests import factories


def call(**extra):
    return {"channel": "call", "direction": "inbound", "subject": "Order for Friday",
            "occurred_at": utcnow() - timedelta(minutes=5), "visibility": "shared", **extra}


def test_an_actor_is_a_kind_and_an_id():
    assert Actor.staff(3) == Actor("staff", 3) and Actor.staff(3) != Actor.portal(3)
    assert SYSTEM.id is None and not SYSTEM.is_staff and not Actor.portal(3).is_staff
    for bad in (lambda: Actor("robot", 1), lambda: Actor("system", 1), lambda: Actor("staff")):
        with pytest.raises(ValueError):
            bad()


def test_a_portal_users_entry_is_never_credited_to_the_staff_user_with_the_same_id(app, auth):
    staff_id = auth.make_user("sales")
    with app.app_context():
        customer = factories.customer("Portal Bistro")
        portal = Actor.portal(staff_id)  # the same number as a staff user's id
        entry = log_interaction(customer, call(), actor=portal)
        db.session.commit()
        stored = db.session.get(Interaction, entry.id)
        assert (stored.logged_by_kind, stored.logged_by_id) == ("portal", staff_id)
        assert stored.logged_by is None  # not the staff user with that id
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.entity_type == "interaction"))
        assert event.actor == portal
        # "Logged by this staff member" filters do not find it either
        assert timeline(customer_id=customer.id, staff_id=staff_id)[0] == []


def test_follow_ups_are_only_given_to_staff_by_default(app_ctx):
    customer = factories.customer("Follow Farm")
    due = farm_today() + timedelta(days=2)
    for actor in (Actor.portal(1), SYSTEM):
        with pytest.raises(InteractionError, match="Choose who should follow up"):
            log_interaction(customer, call(follow_up_due=due), actor=actor)
    db.session.rollback()
    user = db.session.scalar(select(StaffUser)) or None
    assert user is None  # no staff needed for the system to log a plain entry
    entry = log_interaction(customer, call(), actor=SYSTEM)
    assert (entry.logged_by_kind, entry.logged_by_id, entry.follow_up_assignee_id) == (
        "system", None, None)


def test_preference_changes_say_which_kind_of_actor_made_them(app, client, auth):
    staff_id = auth.sign_in("sales")
    with app.app_context():
        customer = factories.customer("Pause Pantry")
        add_pause(customer, {"starts_on": date(2026, 12, 24), "ends_on": date(2026, 12, 31)},
                  actor=Actor.portal(staff_id))
        add_pause(customer, {"starts_on": date(2027, 1, 5), "ends_on": date(2027, 1, 6)},
                  actor=SYSTEM)
        add_pause(customer, {"starts_on": date(2027, 2, 5), "ends_on": date(2027, 2, 6)},
                  actor=Actor.staff(staff_id))
        db.session.commit()
        kinds = db.session.execute(select(PreferenceChange.actor_kind, PreferenceChange.actor_id)
                                   .order_by(PreferenceChange.id)).all()
        assert kinds == [("portal", staff_id), ("system", None), ("staff", staff_id)]
        assert [h.staff is None for h in preferences(customer.id)["history"]] == [
            False, True, True]
        customer_id = customer.id
    tab = client.get(f"/customers/{customer_id}/preferences").text
    assert "<td>Portal (portal)</td>" in tab and "<td>System</td>" in tab
    assert tab.count("<td>Sales Person</td>") == 1  # only the staff user's own change


def test_jobs_merges_and_audit_events_record_the_system(app_ctx):
    run = enqueue("security.reindex", actor=SYSTEM)
    assert (run.owner_kind, run.owner_id, run.owner) == ("system", None, SYSTEM)
    a, b = factories.customer("Merge Greens"), factories.customer("Merge Greens Two")
    merge("customer", a.id, b.id, {}, versions={a.id: a.version, b.id: b.version},
          actor=SYSTEM)
    db.session.commit()
    kept = db.session.scalar(select(MergedRecord))
    assert (kept.merged_by_kind, kept.merged_by_id) == ("system", None)
    assert {(e.actor_kind, e.actor_id) for e in db.session.scalars(select(AuditEvent))} == {
        ("system", None)}


def test_the_database_refuses_an_actor_without_a_kind_or_id(app_ctx):
    customer = factories.customer("Check Farm")
    for kind, actor_id in (("staff", None), ("system", 4)):
        db.session.add(Interaction(customer_id=customer.id, channel="call", direction="inbound",
                                   occurred_at=utcnow(), logged_by_kind=kind,
                                   logged_by_id=actor_id))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()


def test_a_second_caller_reads_only_its_customers_rows_and_shared_entries(app_ctx):
    """What the portal will rely on: fetches by customer and id together, shared entries only."""
    from crm.communications.services import get_ticket
    from crm.jobs.services import get_run
    from crm.preferences.services import get_pause, get_standing_item, remove_pause

    mine, theirs = factories.customer("Mine Greens"), factories.customer("Their Greens")
    shared = log_interaction(mine, call(), actor=Actor.portal(5))
    internal = log_interaction(mine, call(visibility="internal"), actor=SYSTEM)
    ticket = log_interaction(theirs, call(channel="ticket"), actor=SYSTEM).ticket
    pause = add_pause(theirs, {"starts_on": date(2027, 3, 1), "ends_on": date(2027, 3, 2)},
                      actor=SYSTEM)
    run = enqueue("security.reindex", actor=Actor.portal(5))
    db.session.commit()
    entries, _ = timeline(customer_id=mine.id, shared_only=True)
    assert [e.id for e in entries] == [shared.id]
    assert {e.id for e in timeline(customer_id=mine.id)[0]} == {shared.id, internal.id}
    assert get_entry_of(mine, internal.id, shared_only=True) is None
    assert get_entry_of(theirs, shared.id) is None and get_entry_of(mine, shared.id) is not None
    assert get_ticket(ticket.id, customer=mine) is None
    assert get_ticket(ticket.id, customer=theirs).id == ticket.id
    assert get_pause(mine, pause.id) is None and get_standing_item(mine, pause.id) is None
    assert remove_pause(mine, pause.id, actor=SYSTEM) is False  # not mine to remove
    assert get_pause(theirs, pause.id) is not None
    assert get_run(run.id, owner=Actor.staff(5)) is None  # the staff user with the same id
    assert get_run(run.id, owner=Actor.portal(5)).id == run.id


def get_entry_of(customer, entry_id, **kwargs):
    from crm.communications.services import get_entry

    return get_entry(entry_id, customer=customer, **kwargs)
