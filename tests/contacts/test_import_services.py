"""The import writes through the services the forms use: its customers and people get the same
audit events, blind indexes and search tokens as those made one by one, are found the same way,
and nothing is committed but by the caller."""
import io

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.common import SYSTEM, Actor
from crm.contacts.importing import apply, check, parse
from crm.contacts.models import Contact, ContactEmail, ContactImport, CustomerContact
from crm.contacts.services import new_customer
from crm.customers.models import Address, Customer
from crm.customers.services import search_customers
from crm.extensions import db
from crm.security.blind_index import email_index
from crm.security.models import SearchToken

HEADER = ("customer_name,customer_kind,first_name,last_name,email,phone,role,street,city,"
          "region,postal_code,country,notes")
FILE = f"""{HEADER}
Blue Heron Bistro,restaurant,Ana,Garcia,ana@heron.example.com,312-555-0101,,12 N Clark St,Chicago,IL,60614,US,Back door
"""


def imported(text=FILE, actor=SYSTEM):
    plan = check(parse(text), "skip")
    apply(plan, actor=actor)
    return plan


def made_by_the_form():
    """The same customer and person as FILE's row, made by the new-customer form's service."""
    return new_customer(
        {"name": "Blue Heron Bakery", "kind": "restaurant", "status": "active",
         "pricing_tier": "standard", "notes": "Back door"},
        contact={"first_name": "Ana", "last_name": "Garcia", "email": "ana@heron2.example.com",
                 "phone": "+13125550101"},
        address={"street": "12 N Clark St", "city": "Chicago", "region": "IL",
                 "postal_code": "60614", "country": "US"}, actor=SYSTEM)


def what_was_written(customer_id):
    contact_id = db.session.scalar(select(CustomerContact.contact_id).where(
        CustomerContact.customer_id == customer_id))
    address_id = db.session.scalar(select(Address.id).where(Address.customer_id == customer_id))
    events = db.session.execute(
        select(AuditEvent.action, AuditEvent.entity_type, AuditEvent.fields, AuditEvent.actor_kind)
        .where(((AuditEvent.entity_type == "customer") & (AuditEvent.entity_id == customer_id))
               | ((AuditEvent.entity_type == "contact") & (AuditEvent.entity_id == contact_id))
               | ((AuditEvent.entity_type == "address") & (AuditEvent.entity_id == address_id))))
    tokens = db.session.scalar(select(func.count()).select_from(SearchToken).where(
        SearchToken.entity_type == "customer", SearchToken.entity_id == customer_id))
    role = db.session.scalar(select(CustomerContact.role).where(
        CustomerContact.customer_id == customer_id))
    return sorted(tuple(e) for e in events), tokens, role


@pytest.fixture
def both(app):
    """In an app context: (the imported customer's row of the plan, the form-made customer)."""
    with app.app_context():
        plan = imported()
        form = made_by_the_form()
        db.session.commit()
        yield plan.rows[0], form


def test_an_imported_customer_is_written_as_the_form_writes_one(both):
    row, form = both
    # "Bistro" and "Bakery" have as many word prefixes
    assert what_was_written(row.customer_id) == what_was_written(form.id)
    ana = db.session.get(Contact, row.contact_id)
    assert ana.emails[0].email_bidx == email_index("ana@heron.example.com")
    assert ana.emails[0].is_primary and ana.phones[0].is_primary


def test_imported_customers_are_found_by_name_and_by_a_contacts_email_like_form_made_ones(both):
    row, form = both
    found, _ = search_customers(q="blu her")
    assert [c.id for c in found] == [row.customer_id, form.id]
    for email, customer_id in (("ANA@heron.example.com", row.customer_id),
                               ("ana@heron2.example.com", form.id)):
        found, _ = search_customers(q=email)
        assert [c.id for c in found] == [customer_id]


def test_apply_leaves_the_commit_to_its_caller(app):
    with app.app_context():
        imported()
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 1
        db.session.rollback()
        for model in (Customer, Contact, ContactEmail, CustomerContact, Address, SearchToken,
                      AuditEvent):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_the_uploader_is_the_imports_actor(app, client, auth):
    manager = auth.sign_in("manager")
    response = auth.post("/contacts/import", {"file": (io.BytesIO(FILE.encode()), "people.csv"),
                                              "on_duplicate": "skip"},
                         page="/contacts/import", content_type="multipart/form-data")
    url = response.headers["Location"]
    auth.post(url + "/run", {"on_duplicate": "skip"}, page=url)
    with app.app_context():
        imp = db.session.scalar(select(ContactImport))
        assert imp.status == "imported" and imp.uploaded_by == Actor.staff(manager)
        actors = set(db.session.execute(select(AuditEvent.actor_kind, AuditEvent.actor_id).where(
            AuditEvent.entity_type.in_(("customer", "contact", "address", "contact_import")))))
        assert actors == {("staff", manager)}
    assert "people.csv" in client.get("/contacts/import").text  # listed for its uploader
