"""create_customers: many customers in a few statements, written as create_customer writes one."""
import pytest
from sqlalchemy import event, select

from crm.audit.models import AuditEvent
from crm.common import Actor
from crm.customers.models import Address, Customer
from crm.customers.services import (
    ArchivedError,
    create_customer,
    create_customers,
    ensure_all_editable,
    search_customers,
)
from crm.extensions import db
from crm.security.models import SearchToken
from tests import factories

PLACES = [
    {"name": "Little Fern Kitchen", "kind": "restaurant", "status": "active",
     "pricing_tier": "restaurant", "notes": "Back door"},
    {"name": "Café Ñandú", "kind": "caterer", "status": "lead", "pricing_tier": "standard",
     "notes": None},
    {"name": "Maria Lopez", "kind": "csa_member", "status": "active",
     "pricing_tier": "standard"},
]
ADDRESSES = [
    {"street": "12 N Clark St", "street2": None, "city": "Chicago", "region": "IL",
     "postal_code": "60614", "country": "US", "delivery_instructions": "Ring twice"},
    None,
    {"street": "5 Elm St", "city": "Evanston", "region": None, "postal_code": "60201",
     "country": "US"},  # fewer keys, as the import gives them
]


def written(customer_id):
    """What was written for one customer: its audit events, its tokens, its address."""
    place = db.session.scalar(select(Address).where(Address.customer_id == customer_id))
    events = db.session.execute(
        select(AuditEvent.action, AuditEvent.entity_type, AuditEvent.fields,
               AuditEvent.actor_kind, AuditEvent.actor_id)
        .where(((AuditEvent.entity_type == "customer") & (AuditEvent.entity_id == customer_id))
               | ((AuditEvent.entity_type == "address")
                  & (AuditEvent.entity_id == (place.id if place else -1))))
        .order_by(AuditEvent.id)).all()
    tokens = set(db.session.scalars(select(SearchToken.token).where(
        SearchToken.entity_type == "customer", SearchToken.entity_id == customer_id)))
    columns = ("street", "street2", "city", "region", "postal_code", "country",
               "delivery_instructions", "kind")
    return {"events": [tuple(e) for e in events], "tokens": tokens,
            "address": {c: getattr(place, c) for c in columns} if place else None}


def test_create_customers_writes_what_create_customer_writes_one_by_one(app):
    actor = Actor.staff(7)
    with app.app_context():
        one_by_one = [create_customer(data, address=address, actor=actor).id
                      for data, address in zip(PLACES, ADDRESSES)]
        at_once = create_customers([{**data, "address": address}
                                    for data, address in zip(PLACES, ADDRESSES)], actor=actor)
        db.session.commit()
        assert len(at_once) == 3 and min(at_once) > max(one_by_one)
        for single, bulk in zip(one_by_one, at_once):
            assert written(single) == written(bulk)
            a, b = db.session.get(Customer, single), db.session.get(Customer, bulk)
            assert [(c.name, c.kind, c.status, c.pricing_tier, c.notes, c.version)
                    for c in (a, b)] == [(a.name, a.kind, a.status, a.pricing_tier, a.notes, 1)] * 2
        first = written(at_once[0])
        assert first["events"] == [
            ("create", "customer", ["kind", "name", "notes", "pricing_tier", "status"], "staff", 7),
            ("create", "address", ["city", "country", "delivery_instructions", "postal_code",
                                   "region", "street"], "staff", 7)]
        assert first["tokens"] and written(at_once[1])["address"] is None
        # the ids come back in the order given, each with its own name
        assert [db.session.get(Customer, i).name for i in at_once] == [p["name"] for p in PLACES]


def test_customers_made_in_bulk_are_found_by_name_like_one_made_by_the_form(app):
    with app.app_context():
        [bulk] = create_customers([{**PLACES[1], "name": "Blue Heron Bistro", "address": None}],
                                  actor=Actor("system"))
        single = create_customer({**PLACES[1], "name": "Blue Heron Catering"}, address=None,
                                 actor=Actor("system")).id
        db.session.commit()
        found, _ = search_customers(q="blu her")
        assert [c.id for c in found] == [bulk, single]
        found, _ = search_customers(q="bistro")
        assert [c.id for c in found] == [bulk]


def test_many_customers_take_a_few_statements(app):
    statements = []

    def count(*args):
        statements.append(args[2])

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            create_customers([{**PLACES[0], "name": f"Place {n}", "address": ADDRESSES[0]}
                              for n in range(300)], actor=Actor("system"))
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        db.session.commit()
        assert len(statements) <= 12  # customers, tokens, events, addresses, their events
        assert len(db.session.scalars(select(Address.id)).all()) == 300


def test_no_customers_writes_nothing(app):
    with app.app_context():
        assert create_customers([], actor=Actor("system")) == []


def test_ensure_all_editable_checks_ids_and_loaded_customers(app):
    with app.app_context():
        live = factories.customer()
        gone = factories.customer()
        ensure_all_editable([live, gone.id])
        gone.archived_at = gone.created_at
        db.session.commit()
        with pytest.raises(ArchivedError):
            ensure_all_editable([live.id, gone.id])
        with pytest.raises(ArchivedError):
            ensure_all_editable([live, gone])
