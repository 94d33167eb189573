"""People and addresses on a customer's Contacts tab: entry, duplicate warning, edit, remove."""
import re

import pytest
from sqlalchemy import func, select

from crm.contacts.models import Contact, ContactEmail, CustomerContact
from crm.customers.models import Address
from crm.extensions import db
from tests import factories
from tests.conftest import session_cookie

HTMX = {"HX-Request": "true"}


def made(app, *args, **kwargs):
    with app.app_context():
        customer = factories.customer(*args, **kwargs)
        return customer.id, customer.contact_links[0].contact_id if customer.contact_links else None


def post(auth, url, data, page):
    return auth.post(url, data, page=page, htmx=True)


def person(**changes):
    return {"first_name": "  maria ", "last_name": "DELGADO", "role": "kitchen",
            "email": " Maria.Delgado@Example.COM ", "phone": "(312) 555-0199", **changes}


def count(app, model, *where):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_a_person_is_added_in_one_format(app, client, auth):
    auth.sign_in("sales")
    customer_id, _ = made(app, "Sprout Cafe")
    tab = f"/customers/{customer_id}/contacts"
    response = post(auth, tab, person(), tab)
    assert response.status_code == 200
    assert "Maria Delgado" in response.text and "Kitchen" in response.text
    assert "maria.delgado@example.com" in response.text and "(312) 555-0199" in response.text
    with app.app_context():
        maria = db.session.scalar(select(Contact).order_by(Contact.id.desc()))
        assert (maria.first_name, maria.last_name) == ("Maria", "Delgado")
        assert maria.primary_phone.phone == "+13125550199"
        assert maria.customer_links[0].role == "kitchen"


def test_bad_email_and_phone_are_refused_keeping_what_was_typed(app, client, auth):
    auth.sign_in("sales")
    customer_id, _ = made(app)
    tab = f"/customers/{customer_id}/contacts"
    before = count(app, Contact)
    response = post(auth, tab, person(email="maria@", phone="12", first_name=""), tab)
    assert response.status_code == 422
    assert "Give the person a first name." in response.text
    assert 'value="maria@"' in response.text and 'value="12"' in response.text
    assert "That number is too short: give all of it, area code included" in response.text
    assert "That email address is not complete" in response.text
    assert count(app, Contact) == before


def test_the_same_email_shows_the_person_on_record_first(app, client, auth):
    auth.sign_in("sales")
    first_id, rosa_id = made(app, "North Deli")
    second_id, _ = made(app, "South Deli", contact=False)
    with app.app_context():
        rosa_email = db.session.get(Contact, rosa_id).primary_email.email
    tab = f"/customers/{second_id}/contacts"
    before = count(app, Contact)
    warned = post(auth, tab, person(first_name="Rosie", email=rosa_email.upper()), tab)
    assert warned.status_code == 200
    assert "may already be on record" in warned.text and "same email" in warned.text
    assert "North Deli" in warned.text and 'name="save_anyway" type="hidden" value="1"' in warned.text
    assert 'value="Rosie"' in warned.text  # what was typed stays
    assert count(app, Contact) == before
    # Link the person on record instead: one person, two customers.
    linked = post(auth, f"{tab}/{rosa_id}/link", {"role": "ordering"}, tab)
    assert linked.status_code == 200 and "Linked" in linked.headers.get("HX-Trigger", "")
    assert count(app, Contact) == before
    assert count(app, CustomerContact, CustomerContact.contact_id == rosa_id) == 2
    # Or save anyway: a second record, as asked.
    saved = post(auth, tab, person(first_name="Rosie", save_anyway="1"), tab)
    assert saved.status_code == 200 and count(app, Contact) == before + 1


def test_a_similar_name_nearby_is_a_possible_duplicate(app, client, auth):
    auth.sign_in("sales")
    with app.app_context():
        other = factories.customer("Lakeview Market")  # postal code 60614, like the next one
        db.session.get(Contact, other.contact_links[0].contact_id).last_name = "Delgado"
        other.contact_links[0].contact.first_name = "Maria"
        db.session.commit()
    customer_id, _ = made(app, "Lakeview Juice Bar", contact=False)
    tab = f"/customers/{customer_id}/contacts"
    warned = post(auth, tab, person(first_name="María", email="", phone=""), tab)
    assert "may already be on record" in warned.text
    assert "similar name, same postal code" in warned.text
    different = post(auth, tab, person(first_name="Omar", last_name="Sato", email="",
                                       phone=""), tab)
    assert "may already be on record" not in different.text  # saved straight away
    assert "Omar Sato" in different.text


def edit_form(client, tab, contact_id):
    page = client.get(f"{tab}/{contact_id}/edit", headers=HTMX).text
    data = {}
    for tag in re.findall(r"<input[^>]*>", page):
        named = re.search(r'name="(contact-[^"]+)"', tag)
        if named and 'type="checkbox"' not in tag and 'type="radio"' not in tag:
            data[named.group(1)] = re.search(r'value="([^"]*)"', tag).group(1)
    for name in re.findall(r'<input type="checkbox" name="(contact-[^"]+)" value="y" checked', page):
        data[name] = "y"
    prefix = f"contact-{contact_id}"
    data[f"{prefix}-primary_email"] = re.search(
        rf'name="{prefix}-primary_email" value="(\d+)" checked', page).group(1)
    data[f"{prefix}-primary_phone"] = re.search(
        rf'name="{prefix}-primary_phone" value="(\d+)" checked', page).group(1)
    data[f"{prefix}-role"] = re.search(r'<option selected value="([^"]+)"', page).group(1)
    return prefix, data


def test_editing_a_person_adds_and_removes_emails_and_moves_the_primary(app, client, auth):
    auth.sign_in("sales")
    customer_id, rosa_id = made(app, "North Deli")
    tab = f"/customers/{customer_id}/contacts"
    prefix, data = edit_form(client, tab, rosa_id)
    data.update({f"{prefix}-first_name": "Rosa", f"{prefix}-emails-1-value": "ROSA@deli.example",
                 f"{prefix}-primary_email": "1", f"{prefix}-emails-0-opted_out": "y",
                 f"{prefix}-role": "billing"})
    saved = post(auth, f"{tab}/{rosa_id}/edit", data, tab)
    assert saved.status_code == 200, saved.text
    with app.app_context():
        rosa = db.session.get(Contact, rosa_id)
        emails = {e.email: (e.is_primary, e.opted_out) for e in rosa.emails}
        assert emails["rosa@deli.example"] == (True, False)
        assert [v for k, v in emails.items() if k != "rosa@deli.example"] == [(False, True)]
        assert [link.role for link in rosa.customer_links] == ["billing"]
    # Clearing the first email removes it.
    prefix, data = edit_form(client, tab, rosa_id)
    data[f"{prefix}-emails-0-value"] = ""
    assert post(auth, f"{tab}/{rosa_id}/edit", data, tab).status_code == 200
    assert count(app, ContactEmail, ContactEmail.contact_id == rosa_id) == 1


def test_an_edit_over_someone_elses_change_is_refused(app, client, auth):
    auth.sign_in("sales")
    customer_id, rosa_id = made(app)
    tab = f"/customers/{customer_id}/contacts"
    prefix, data = edit_form(client, tab, rosa_id)
    with app.app_context():
        db.session.get(Contact, rosa_id).notes = "Changed meanwhile"
        db.session.commit()
    data[f"{prefix}-last_name"] = "Mine"
    refused = post(auth, f"{tab}/{rosa_id}/edit", data, tab)
    assert refused.status_code == 409 and "Someone else saved" in refused.text
    assert 'value="Mine"' in refused.text
    with app.app_context():
        assert db.session.get(Contact, rosa_id).last_name != "Mine"


def test_an_email_of_another_person_is_refused_on_edit(app, client, auth):
    auth.sign_in("sales")
    customer_id, rosa_id = made(app)
    _, other_id = made(app)
    with app.app_context():
        taken = db.session.get(Contact, other_id).primary_email.email
    tab = f"/customers/{customer_id}/contacts"
    prefix, data = edit_form(client, tab, rosa_id)
    data[f"{prefix}-emails-1-value"] = taken
    refused = post(auth, f"{tab}/{rosa_id}/edit", data, tab)
    assert refused.status_code == 422 and "Another person already has this email" in refused.text


def test_removing_a_person_keeps_them_on_record(app, client, auth):
    auth.sign_in("sales")
    customer_id, rosa_id = made(app)
    tab = f"/customers/{customer_id}/contacts"
    removed = post(auth, f"{tab}/{rosa_id}/remove", {}, tab)
    assert removed.status_code == 200 and "No contacts yet." in removed.text
    assert count(app, Contact, Contact.id == rosa_id) == 1
    assert post(auth, f"{tab}/{rosa_id}/remove", {}, tab).status_code == 404


def test_addresses_are_standardised(app, client, auth):
    auth.sign_in("sales")
    customer_id, _ = made(app, address=False)
    tab = f"/customers/{customer_id}/contacts"
    url = f"/customers/{customer_id}/addresses"
    bad = post(auth, url, {"kind": "delivery", "street": "12 Elm St", "city": "Chicago",
                           "region": "Ilinois", "postal_code": "6061", "country": "US"}, tab)
    assert bad.status_code == 422
    assert "Not a state of US" in bad.text and "a US ZIP code looks like" in bad.text
    assert 'value="12 Elm St"' in bad.text
    good = post(auth, url, {"kind": "billing", "street": " 12  Elm St ", "city": "Chicago",
                            "region": "illinois", "postal_code": "60614", "country": "US"}, tab)
    assert good.status_code == 200
    canada = post(auth, url, {"kind": "delivery", "street": "1 King St W", "city": "Toronto",
                              "region": "on", "postal_code": "m5h 1a1", "country": "CA"}, tab)
    assert canada.status_code == 200
    with app.app_context():
        places = db.session.scalars(select(Address).order_by(Address.id)).all()
        assert [(p.street, p.region, p.postal_code) for p in places] == [
            ("12 Elm St", "IL", "60614"), ("1 King St W", "ON", "M5H 1A1")]
        first = places[0].id
    edit = f"/customers/{customer_id}/addresses/{first}/edit"
    form = client.get(edit, headers=HTMX).text
    assert 'value="12 Elm St"' in form
    version = re.search(rf'name="address-{first}-version" type="hidden" value="(\d+)"',
                        form).group(1)
    changed = post(auth, edit, {f"address-{first}-version": version,
                                f"address-{first}-kind": "billing",
                                f"address-{first}-street": "14 Elm St",
                                f"address-{first}-city": "Chicago",
                                f"address-{first}-region": "IL",
                                f"address-{first}-postal_code": "60614",
                                f"address-{first}-country": "US"}, tab)
    assert changed.status_code == 200 and "14 Elm St" in changed.text
    gone = post(auth, f"/customers/{customer_id}/addresses/{first}/remove", {}, tab)
    assert gone.status_code == 200 and "14 Elm St" not in gone.text


def test_who_may_change_contacts(app, client, auth):
    customer_id, rosa_id = made(app)
    tab = f"/customers/{customer_id}/contacts"
    auth.sign_in("viewer")
    page = client.get(tab)
    assert page.status_code == 200 and "Add a person" not in page.text
    assert post(auth, tab, person(), tab).status_code == 403
    assert post(auth, f"{tab}/{rosa_id}/remove", {}, tab).status_code == 403


def test_a_person_is_edited_on_their_own_page(app, client, auth):
    auth.sign_in("manager")
    _, rosa_id = made(app)
    page = f"/contacts/{rosa_id}/edit"
    form = client.get(page).text
    assert "Role here" not in form  # roles are per customer, on each customer's tab
    prefix = f"contact-{rosa_id}"
    data = {name: value for name, value in re.findall(
        r'<input id="[^"]*" name="([^"]+)" value="([^"]*)" type="(?:email|tel)"', form)}
    data.update({f"{prefix}-first_name": "ROSA", f"{prefix}-last_name": "van der berg",
                 f"{prefix}-version": re.search(rf'name="{prefix}-version" type="hidden" '
                                                r'value="(\d+)"', form).group(1),
                 f"{prefix}-primary_email": "0", f"{prefix}-primary_phone": "0",
                 f"{prefix}-phones-1-value": "not a phone"})
    refused = auth.post(page, data)
    assert refused.status_code == 422 and 'value="not a phone"' in refused.text
    data[f"{prefix}-phones-1-value"] = "+44 20 7946 0958"
    saved = auth.post(page, data)
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"/contacts/{rosa_id}")
    shown = client.get(f"/contacts/{rosa_id}").text
    assert "Rosa van der Berg" in shown and "+44 20 7946 0958" in shown


def test_an_address_edit_over_someone_elses_change_is_refused(app, client, auth):
    auth.sign_in("sales")
    customer_id, _ = made(app)
    with app.app_context():
        place_id = db.session.scalar(select(Address.id).where(Address.customer_id == customer_id))
    edit = f"/customers/{customer_id}/addresses/{place_id}/edit"
    form = client.get(edit, headers=HTMX).text
    version = re.search(rf'name="address-{place_id}-version" type="hidden" value="(\d+)"',
                        form).group(1)
    with app.app_context():
        db.session.get(Address, place_id).street = "9 Changed Meanwhile St"
        db.session.commit()
    data = {f"address-{place_id}-{k}": v for k, v in {
        "kind": "delivery", "street": "14 Mine St", "city": "Chicago", "region": "IL",
        "postal_code": "60614", "country": "US", "version": version}.items()}
    refused = post(auth, edit, data, f"/customers/{customer_id}/contacts")
    assert refused.status_code == 409 and "Someone else saved this address" in refused.text
    assert 'value="14 Mine St"' in refused.text
    with app.app_context():
        assert db.session.get(Address, place_id).street == "9 Changed Meanwhile St"
    again = post(auth, edit, {**data, f"address-{place_id}-version": re.search(
        rf'name="address-{place_id}-version" type="hidden" value="(\d+)"', refused.text).group(1)},
        f"/customers/{customer_id}/contacts")
    assert again.status_code == 200  # saving again on purpose replaces theirs
    with app.app_context():
        assert db.session.get(Address, place_id).street == "14 Mine St"


def test_adding_and_linking_people_toasts_no_names(app, client, auth):
    """The tab's confirmations name the person by id: with htmx they are a response header,
    without it they are flashed into the session cookie (signed, not encrypted)."""
    auth.sign_in("sales")
    customer_id, _ = made(app, "Sprout Cafe")
    _, rosa_id = made(app, "Other Cafe")
    tab = f"/customers/{customer_id}/contacts"
    with app.app_context():
        rosa = db.session.get(Contact, rosa_id)
        names = {"Maria", "Delgado", rosa.first_name, rosa.last_name, "Sprout Cafe", "Other"}
    added = post(auth, tab, person(), tab)
    with app.app_context():
        maria_id = db.session.scalar(select(Contact.id).order_by(Contact.id.desc()))
    linked = post(auth, f"{tab}/{rosa_id}/link", {"role": "billing"}, tab)
    again = auth.post(f"{tab}/{rosa_id}/link", {"role": "billing"}, page=tab)  # without htmx
    assert (added.status_code, linked.status_code, again.status_code) == (200, 200, 200)
    toasts = added.headers["HX-Trigger"] + linked.headers["HX-Trigger"]
    assert f"Added contact #{maria_id}." in toasts and f"Linked contact #{rosa_id}." in toasts
    assert f"Contact #{rosa_id} was already linked in that role." in again.text
    held = toasts + session_cookie(app, client)
    assert not [name for name in names if name in held], held


CAP = 10  # emails, and as many phones, per person


def test_a_person_has_at_most_ten_emails_and_ten_phones(app, client, auth):
    """The cap is in the service (crm.contacts.services.update_contact), so the forms and the
    import meet the same rule; refused before anything is written."""
    auth.sign_in("sales")
    customer_id, rosa_id = made(app, "Many Lines Deli")
    tab = f"/customers/{customer_id}/contacts"
    prefix, data = edit_form(client, tab, rosa_id)
    for i in range(1, CAP):
        data[f"{prefix}-emails-{i}-value"] = f"rosa{i}@deli.example"
    assert post(auth, f"{tab}/{rosa_id}/edit", data, tab).status_code == 200
    assert count(app, ContactEmail, ContactEmail.contact_id == rosa_id) == CAP

    page = client.get(f"{tab}/{rosa_id}/edit", headers=HTMX).text
    assert f'name="{prefix}-emails-{CAP}-value"' not in page  # no empty line to fill
    assert f"{CAP} is the most a person can have." in page
    prefix, data = edit_form(client, tab, rosa_id)
    data[f"{prefix}-emails-{CAP}-value"] = "one.too.many@deli.example"
    data[f"{prefix}-first_name"] = "Rosalind"
    refused = post(auth, f"{tab}/{rosa_id}/edit", data, tab)
    assert refused.status_code == 422
    assert f"A person can have at most {CAP} emails." in refused.text
    assert 'value="one.too.many@deli.example"' in refused.text  # what was typed stays
    with app.app_context():  # nothing half-written
        rosa = db.session.get(Contact, rosa_id)
        assert rosa.first_name == "Rosa" and len(rosa.emails) == CAP
        assert "one.too.many@deli.example" not in {e.email for e in rosa.emails}

    # the contact's own page: the same rule and message, for phones too
    prefix, data = edit_form(client, tab, rosa_id)
    data.pop(f"{prefix}-role")
    for i in range(CAP + 1):
        data[f"{prefix}-phones-{i}-value"] = f"(312) 555-{1000 + i}"
    refused = auth.post(f"/contacts/{rosa_id}/edit", data)
    assert refused.status_code == 422
    assert f"A person can have at most {CAP} phones." in refused.text
    with app.app_context():
        assert len(db.session.get(Contact, rosa_id).phones) == 1


def test_the_import_meets_the_same_cap(app):
    """add_to_contact (what an import does to a person on record) adds through
    update_contact: a person at the cap gets no eleventh email, and nothing changes."""
    from crm.common import SYSTEM
    from crm.contacts.services import MAX_CHANNELS, TooManyChannels, add_to_contact
    from crm.security.blind_index import email_index

    assert MAX_CHANNELS == CAP
    with app.app_context():
        customer = factories.customer("Capped Cafe")
        rosa = customer.contact_links[0].contact
        for i in range(1, CAP):
            rosa.emails.append(ContactEmail(email=f"rosa{i}@cafe.example", is_primary=False,
                                            email_bidx=email_index(f"rosa{i}@cafe.example")))
        db.session.commit()
        version = rosa.version
        with pytest.raises(TooManyChannels, match=f"at most {CAP} emails"):
            add_to_contact(rosa, {"first_name": "Rosalind"}, emails=["new@cafe.example"],
                           actor=SYSTEM)
        db.session.rollback()
        rosa = db.session.get(Contact, rosa.id)
        assert (rosa.first_name, len(rosa.emails), rosa.version) == ("Rosa", CAP, version)
