"""add_contacts and link_contacts: many people in a few statements, written as add_contact and
link_contact write one; add_to_contact: an import's details saved through update_contact."""
import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.common import SYSTEM, Actor
from crm.contacts.models import Contact, ContactEmail, ContactPhone, CustomerContact
from crm.contacts.search import customers_by_channel
from crm.contacts.services import (
    add_contact,
    add_contacts,
    add_to_contact,
    link_contact,
    link_contacts,
)
from crm.customers.services import ArchivedError, search_customers
from crm.extensions import db
from crm.security.blind_index import email_index
from tests import factories

PEOPLE = [
    {"first_name": "Ana", "last_name": "García", "email": "ana@fern.example.com",
     "phone": "+13125550101"},
    {"first_name": "Ben", "last_name": None, "email": None, "phone": "+13125550102"},
    {"first_name": "Cy", "last_name": "Okafor", "email": "cy@fern.example.com", "phone": None},
]


def written(contact_id):
    """What was written for one person: audit events, emails, phones (with their blind
    indexes and flags) and links."""
    events = db.session.execute(
        select(AuditEvent.action, AuditEvent.fields, AuditEvent.actor_kind, AuditEvent.actor_id)
        .where(AuditEvent.entity_type == "contact", AuditEvent.entity_id == contact_id)
        .order_by(AuditEvent.id)).all()
    channels = [
        db.session.execute(select(model.__table__.c[attr], model.__table__.c[f"{attr}_bidx"],
                                  model.is_primary, model.opted_out, model.invalid)
                           .where(model.contact_id == contact_id)).all()
        for model, attr in ((ContactEmail, "email"), (ContactPhone, "phone"))]
    links = db.session.execute(select(CustomerContact.role).where(
        CustomerContact.contact_id == contact_id)).all()
    contact = db.session.get(Contact, contact_id)
    return {"events": [tuple(e) for e in events], "channels": [[tuple(r) for r in c]
                                                              for c in channels],
            "links": [tuple(link) for link in links],
            "names": (contact.first_name, contact.last_name, contact.version)}


def test_add_contacts_writes_what_add_contact_writes_one_by_one(app):
    actor = Actor.staff(3)
    with app.app_context():
        fern = factories.customer(contact=False)
        other = factories.customer(contact=False)
        one_by_one = [add_contact(fern, person, role="ordering", actor=actor).id
                      for person in PEOPLE]
        at_once = add_contacts([{**person, "links": [(other.id, "ordering")]}
                                for person in PEOPLE], actor=actor)
        db.session.commit()
        for single, bulk in zip(one_by_one, at_once):
            assert written(single) == written(bulk)
        ana = written(at_once[0])
        assert ana["events"] == [("create", ["email", "first_name", "last_name", "phone"],
                                  "staff", 3)]
        assert ana["channels"][0] == [("ana@fern.example.com", email_index("ana@fern.example.com"),
                                       True, False, False)]
        assert written(at_once[1])["channels"][0] == [] and ana["links"] == [("ordering",)]
        # the customers' loaded lists of people follow
        assert sorted(link.contact_id for link in other.contact_links) == at_once


def test_a_person_added_to_several_customers_at_once(app):
    with app.app_context():
        fern, grocer = factories.customer(contact=False), factories.customer(contact=False)
        [ana] = add_contacts([{**PEOPLE[0], "links": [(fern, "primary"), (grocer.id, "billing")]}],
                             actor=SYSTEM)
        db.session.commit()
        links = db.session.execute(select(CustomerContact.customer_id, CustomerContact.role)
                                   .where(CustomerContact.contact_id == ana)).all()
        assert sorted(links) == sorted([(fern.id, "primary"), (grocer.id, "billing")])
        assert written(ana)["events"][0][0] == "create" and len(written(ana)["events"]) == 1


def test_people_made_in_bulk_make_their_customer_findable_by_email(app):
    with app.app_context():
        fern = factories.customer(name="Little Fern Kitchen", contact=False)
        add_contacts([{**PEOPLE[0], "links": [(fern.id, "primary")]}], actor=SYSTEM)
        db.session.commit()
        assert db.session.scalars(customers_by_channel("ANA@fern.example.com ")).all() == [
            fern.id]
        found, _ = search_customers(q="ana@fern.example.com")
        assert [c.id for c in found] == [fern.id]


def test_nothing_is_added_to_an_archived_customer(app):
    with app.app_context():
        gone = factories.customer(contact=False)
        gone.archived_at = gone.created_at
        db.session.commit()
        with pytest.raises(ArchivedError):
            add_contacts([{**PEOPLE[0], "links": [(gone.id, "primary")]}], actor=SYSTEM)
        with pytest.raises(ArchivedError):
            link_contacts([(gone.id, 1, "ordering")], actor=SYSTEM)
        db.session.rollback()
        assert db.session.scalars(select(Contact.id)).all() == []


def test_link_contacts_links_as_link_contact_does_and_leaves_existing_links(app):
    with app.app_context():
        fern = factories.customer()
        rosa = fern.contact_links[0].contact
        grocer, cafe = factories.customer(contact=False), factories.customer(contact=False)
        assert link_contact(grocer, rosa, "ordering", actor=SYSTEM)
        assert not link_contact(grocer, rosa, "ordering", actor=SYSTEM)
        made = link_contacts([(fern.id, rosa.id, "primary"),  # there already
                              (cafe.id, rosa.id, "billing"), (cafe, rosa.id, "kitchen")],
                             actor=SYSTEM)
        db.session.commit()
        assert made == 2
        roles = sorted((link.customer_id, link.role) for link in rosa.customer_links)
        assert roles == sorted([(fern.id, "primary"), (grocer.id, "ordering"),
                                (cafe.id, "billing"), (cafe.id, "kitchen")])
        events = db.session.scalars(select(AuditEvent.fields).where(
            AuditEvent.action == "link", AuditEvent.entity_id == rosa.id)).all()
        assert events == [["customer_id", "role"]] * 3


def test_add_to_contact_adds_what_is_new_and_takes_nothing_away(app):
    with app.app_context():
        fern = factories.customer()
        rosa = fern.contact_links[0].contact
        email, phone, version = rosa.emails[0].email, rosa.phones[0].phone, rosa.version
        rosa.emails[0].opted_out = True
        db.session.commit()
        assert add_to_contact(rosa, {}, emails=[email.upper()], phones=[phone], actor=SYSTEM) == []
        changed = add_to_contact(rosa, {"last_name": "Renamed"}, emails=["rosa@new.example.com"],
                                 actor=SYSTEM)
        db.session.commit()
        assert changed == ["last_name", "email"]
        assert [(e.email, e.is_primary, e.opted_out) for e in rosa.emails] == [
            (email, True, True), ("rosa@new.example.com", False, False)]
        assert [p.phone for p in rosa.phones] == [phone]
        assert rosa.last_name == "Renamed" and rosa.version == version + 1
        assert db.session.scalars(select(AuditEvent.fields).where(
            AuditEvent.action == "update", AuditEvent.entity_type == "contact")).all() == [
                ["email", "last_name"]]
        # a person without a phone gets the new one as their primary phone
        [ben] = add_contacts([{**PEOPLE[2], "links": [(fern.id, "ordering")]}], actor=SYSTEM)
        ben = db.session.get(Contact, ben)
        assert add_to_contact(ben, {}, phones=["+13125550199"], actor=SYSTEM) == ["phone"]
        assert [(p.phone, p.is_primary) for p in ben.phones] == [("+13125550199", True)]
