import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.contacts.models import Contact, ContactEmail
from crm.customers.models import Address, Customer
from crm.extensions import db
from tests import factories

VALID = {
    "name": "Little Fern Kitchen", "kind": "restaurant", "status": "lead",
    "pricing_tier": "restaurant", "owner_id": "", "parent_number": "", "notes": "Loves pea shoots",
    "first_name": "rosa", "last_name": "MARTÍNEZ", "email": " Rosa@LittleFern.Example.com ",
    "phone": "(312) 555-0142", "street": "2150 N Milwaukee Ave", "street2": "",
    "city": "Chicago", "region": "il", "postal_code": "60647", "country": "US",
    "delivery_instructions": "Back door off the alley",
}


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_create_customer_with_contact_and_address(app, client, auth):
    auth.sign_in("sales")
    response = auth.post("/customers/new", VALID)
    assert response.status_code == 303
    with app.app_context():
        customer = db.session.scalar(select(Customer))
        assert response.headers["Location"] == f"/customers/{customer.id}"
        assert customer.number == f"CUST-{customer.id:05d}" and customer.status == "lead"
        [link] = customer.contact_links
        assert (link.role, link.contact.full_name) == ("primary", "Rosa Martínez")
        assert link.contact.emails[0].email == "rosa@littlefern.example.com"
        assert link.contact.phones[0].phone == "+13125550142"
        [address] = customer.addresses
        assert (address.region, address.postal_code) == ("IL", "60647")
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.action, e.entity_type) for e in events][-3:] == [
            ("create", "customer"), ("create", "contact"), ("create", "address")]
        assert "name" in events[-3].fields and "Little Fern" not in str([e.fields for e in events])
    page = client.get(response.headers["Location"])
    assert "Created CUST-" in page.text and "Little Fern Kitchen" in page.text
    contacts = client.get(response.headers["Location"] + "/contacts")
    assert "(312) 555-0142" in contacts.text and "rosa@littlefern.example.com" in contacts.text


def test_htmx_create_redirects_with_hx_redirect(app, client, auth):
    auth.sign_in("sales")
    response = auth.post("/customers/new", VALID, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/customers/")


@pytest.mark.parametrize("field, value, message", [
    ("name", "", "Give the customer a name."),
    ("name", "x" * 121, "120 characters at most (this has 121)."),
    ("kind", "spaceship", "Not a valid choice."),
    ("status", "deleted", "Not a valid choice."),
    ("email", "rosa@", "That email address is not complete: it needs a name, an @ and a domain"),
    ("email", "not an email", "That email address is not complete"),
    ("phone", "call me maybe", "That is not a phone number: give its digits, like (201) 555-0123."),
    ("phone", "555-0142", "That number is too short: give the area code too, like (201) 555-0123."),
    ("phone", "+1 555 000 0000", "No phone number starts like that: check the area code"),
    ("postal_code", "ABCDE", "a US ZIP code looks like 60614"),
    ("notes", "n" * 4001, "4,000 characters at most (this has 4,001)."),
    ("parent_number", "CUST-99999", "No customer has that number."),
    ("first_name", "", "The contact needs a first name."),
    ("city", "", "A delivery address needs a city."),
])
def test_bad_input_is_explained_keeps_input_and_writes_nothing(app, client, auth, field, value, message):
    auth.sign_in("sales")
    before = [count(app, m) for m in (Customer, Contact, Address, AuditEvent)]
    data = {**VALID, field: value}
    response = auth.post("/customers/new", data, htmx=True)
    assert response.status_code == 422
    assert "<html" not in response.text  # the form partial, swapped in place
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'value="2150 N Milwaukee Ave"' in response.text  # what the user typed is kept
    assert [count(app, m) for m in (Customer, Contact, Address, AuditEvent)] == before


def test_a_known_email_on_create_shows_the_person_on_record_first(app, client, auth):
    auth.sign_in("sales")
    with app.app_context():
        factories.customer("First Farm Friend")
        existing = db.session.scalar(select(ContactEmail))
        email, person_id = existing.email, existing.contact_id
    response = auth.post("/customers/new", {**VALID, "email": email.upper()})
    assert response.status_code == 200
    assert "may already be on record" in response.text and "same email" in response.text
    assert f'name="contact_choice" value="{person_id}"' in response.text
    assert count(app, Customer) == 1  # nothing created yet
    # "Use" the person on record: the new customer gets them as its primary contact.
    used = auth.post("/customers/new", {**VALID, "email": email, "contact_choice": str(person_id)},
                     page="/customers/new")
    assert used.status_code == 303
    with app.app_context():
        made = db.session.scalar(select(Customer).order_by(Customer.id.desc()))
        assert [(link.contact_id, link.role) for link in made.contact_links] == [
            (person_id, "primary")]
        assert count(app, Contact) == 1
    # Or a new person anyway.
    anyway = auth.post("/customers/new", {**VALID, "email": email, "new_contact": "y"},
                       page="/customers/new")
    assert anyway.status_code == 303 and count(app, Contact) == 2


def test_script_tags_in_names_are_shown_as_text(app, client, auth):
    auth.sign_in("sales")
    response = auth.post("/customers/new", {**VALID, "name": "<script>alert(1)</script> Bistro"})
    detail = client.get(response.headers["Location"])
    listing = client.get("/customers/")
    for page in (detail, listing):
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt; Bistro" in page.text


def test_missing_csrf_token_writes_nothing(app, client, auth):
    auth.sign_in("sales")
    response = client.post("/customers/new", data=VALID)
    assert response.status_code == 400
    assert count(app, Customer) == 0
