"""Merging two customers or two contacts: the screen, what moves, redirects, conflicts."""
import re

from sqlalchemy import func, select

from crm.audit.models import AuditEvent, MergedRecord
from crm.common import utcnow
from crm.communications.models import Interaction
from crm.contacts.models import Contact, ContactEmail, ContactPhone, CustomerContact
from crm.customers.models import Address, Customer
from crm.extensions import db
from crm.preferences.models import DeliveryPlan, ProductPreference
from crm.security.blind_index import email_index, phone_index
from tests import factories
from tests.conftest import session_cookie


def two_customers(app):
    """Two records of one restaurant, each with a contact, an address, a timeline entry, a
    delivery plan and a like of the same product: {"a": id, "b": id, "products": ...}."""
    with app.app_context():
        products, _ = factories.catalogue()
        a = factories.customer("Golden Radish Cafe", notes="Chef: Ana")
        b = factories.customer("Golden Radish Café", notes=None)
        factories.delivery_plan(a, route_name="North", stop=3)
        factories.delivery_plan(b, route_name="North", stop=9)
        for customer, kind in ((a, "like"), (b, "dislike")):
            db.session.add(ProductPreference(customer_id=customer.id,
                                             product_id=products["Sunflower"].id, kind=kind))
            contact_id = customer.contact_links[0].contact_id
            db.session.add(Interaction(customer_id=customer.id, contact_id=contact_id,
                                       channel="call", direction="outbound",
                                       body=f"Call with {customer.name}", occurred_at=utcnow(),
                                       logged_by_kind="system"))
        db.session.commit()
        return {"a": a.id, "b": b.id}


def merge_form(client, kind, a, b):
    page = client.get(f"/merge/{kind}/{a}/{b}")
    assert page.status_code == 200, page.text
    versions = dict(re.findall(r'name="version_(a|b)" value="(\d+)"', page.text))
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return page, {"csrf_token": token, **{f"version_{k}": v for k, v in versions.items()}}


def test_merging_two_customers_moves_everything_and_the_old_page_leads_on(app, client, auth):
    auth.sign_in("manager")
    ids = two_customers(app)
    page, form = merge_form(client, "customer", ids["a"], ids["b"])
    assert "Golden Radish Cafe" in page.text and "Golden Radish Café" in page.text
    assert "1 timeline entries" in page.text and "1 delivery plan" in page.text
    # Keep A, but B's spelling of the name; A's notes (B has none).
    done = client.post(f"/merge/customer/{ids['a']}/{ids['b']}",
                       data={**form, "survivor": "a", "name": "b", "kind": "a", "status": "a",
                             "pricing_tier": "a", "owner_id": "a", "parent_id": "a",
                             "notes": "a"})
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/customers/{ids['a']}")
    with app.app_context():
        survivor = db.session.get(Customer, ids["a"])
        assert survivor.name == "Golden Radish Café" and survivor.notes == "Chef: Ana"
        assert db.session.get(Customer, ids["b"]) is None
        assert db.session.scalar(select(func.count()).select_from(Address)
                                 .where(Address.customer_id == ids["a"])) == 2
        assert db.session.scalar(select(func.count()).select_from(CustomerContact)
                                 .where(CustomerContact.customer_id == ids["a"])) == 2
        assert db.session.scalar(select(func.count()).select_from(Interaction)
                                 .where(Interaction.customer_id == ids["a"])) == 2
        plans = db.session.scalars(select(DeliveryPlan)).all()
        assert [(p.customer_id, p.stop_order) for p in plans] == [(ids["a"], 3)]  # A's kept
        prefs = db.session.scalars(select(ProductPreference)).all()
        assert [(p.customer_id, p.kind) for p in prefs] == [(ids["a"], "like")]
        assert db.session.get(MergedRecord, ("customer", ids["b"])).survivor_id == ids["a"]
        actions = db.session.execute(select(AuditEvent.action, AuditEvent.entity_id, AuditEvent.fields)
                                     .where(AuditEvent.action.in_(["merge", "merged_away"]))).all()
        assert sorted(actions) == [("merge", ids["a"], ["name"]), ("merged_away", ids["b"], [])]
    # The old page, its tabs and its number lead to the survivor; the name search finds it once.
    old = client.get(f"/customers/{ids['b']}")
    assert old.status_code == 301 and old.headers["Location"].endswith(f"/customers/{ids['a']}")
    assert client.get(f"/customers/{ids['b']}/contacts").headers["Location"].endswith(
        f"/customers/{ids['a']}/contacts")
    assert "Golden Radish Café" in client.get(f"/customers/{ids['a']}").text
    found = client.post("/customers/search", data={"q": f"CUST-{ids['b']:05d}"},
                        headers={"X-CSRFToken": auth.token(), "HX-Request": "true"})
    assert found.text.count(f"/customers/{ids['a']}\"") == 1


def test_merging_two_contacts_keeps_every_email_phone_and_customer_once(app, client, auth):
    auth.sign_in("admin")
    with app.app_context():
        north, south = factories.customer("North Deli"), factories.customer("South Deli")
        ana = north.contact_links[0].contact
        ana2 = south.contact_links[0].contact
        # The second record has Ana's email again (shared) and a second phone.
        ana2.emails.append(ContactEmail(email=ana.primary_email.email, opted_out=True,
                                        email_bidx=email_index(ana.primary_email.email)))
        db.session.add(Interaction(customer_id=south.id, contact_id=ana2.id, channel="email",
                                   direction="inbound", body="Order", occurred_at=utcnow(),
                                   logged_by_kind="system"))
        db.session.commit()
        a, b, customers = ana.id, ana2.id, {north.id, south.id}
        phones = {ana.primary_phone.phone, ana2.primary_phone.phone}
        shared_email = ana.primary_email.email
    page, form = merge_form(client, "contact", a, b)
    assert "Emails and phones" in page.text
    done = client.post(f"/merge/contact/{a}/{b}", data={
        **form, "survivor": "a", "first_name": "a", "last_name": "b", "notes": "a"})
    assert done.status_code == 303
    with app.app_context():
        kept = db.session.get(Contact, a)
        assert db.session.get(Contact, b) is None
        emails = db.session.scalars(select(ContactEmail).where(ContactEmail.contact_id == a)).all()
        assert len(emails) == 2  # Ana's address once (flags of both), the other record's own
        shared = next(e for e in emails if e.email_bidx == email_index(shared_email))
        assert sum(e.is_primary for e in emails) == 1 and shared.is_primary and shared.opted_out
        numbers = db.session.scalars(select(ContactPhone.phone).where(ContactPhone.contact_id == a))
        assert set(numbers) == phones
        assert sum(p.is_primary for p in db.session.scalars(
            select(ContactPhone).where(ContactPhone.contact_id == a))) == 1
        assert {link.customer_id for link in kept.customer_links} == customers
        assert db.session.scalar(select(Interaction.contact_id)) == a
        assert phone_index(next(iter(phones)))  # indexes are still usable
    assert client.get(f"/contacts/{b}").headers["Location"].endswith(f"/contacts/{a}")


def test_a_change_made_meanwhile_stops_the_merge(app, client, auth):
    auth.sign_in("manager")
    ids = two_customers(app)
    _, form = merge_form(client, "customer", ids["a"], ids["b"])
    with app.app_context():
        db.session.get(Customer, ids["b"]).notes = "Changed by someone else"
        db.session.commit()
    refused = client.post(f"/merge/customer/{ids['a']}/{ids['b']}",
                          data={**form, "survivor": "a", "notes": "b"})
    assert refused.status_code == 409
    assert "changed by someone else" in refused.text
    assert "Changed by someone else" in refused.text  # the fresh values, to choose again
    with app.app_context():
        assert db.session.get(Customer, ids["b"]) is not None
        assert db.session.scalar(select(func.count()).select_from(MergedRecord)) == 0


def test_bad_choices_and_bad_pairs(app, client, auth):
    auth.sign_in("admin")
    ids = two_customers(app)
    _, form = merge_form(client, "customer", ids["a"], ids["b"])
    bad = client.post(f"/merge/customer/{ids['a']}/{ids['b']}",
                      data={**form, "survivor": "c"})
    assert bad.status_code == 422 and "Choose A or B for every line." in bad.text
    assert client.get(f"/merge/customer/{ids['a']}/{ids['a']}").status_code == 400
    assert client.get(f"/merge/customer/{ids['a']}/999999").status_code == 404
    assert client.get(f"/merge/invoice/{ids['a']}/{ids['b']}").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 2


def test_a_location_merged_with_its_group_is_part_of_neither(app, client, auth):
    auth.sign_in("admin")
    with app.app_context():
        group = factories.customer("Blue Heron Group")
        location = factories.customer("Blue Heron Bistro", parent_id=group.id)
        ids = (group.id, location.id)
    _, form = merge_form(client, "customer", *ids)
    done = client.post(f"/merge/customer/{ids[0]}/{ids[1]}", data={**form, "survivor": "b",
                                                                   "parent_id": "b"})
    assert done.status_code == 303
    with app.app_context():
        assert db.session.get(Customer, ids[1]).parent_id is None


def test_only_admins_and_managers_merge(app, client, auth):
    ids = two_customers(app)
    auth.sign_in("sales")
    assert client.get(f"/merge/customer/{ids['a']}/{ids['b']}").status_code == 403


def test_the_session_cookie_names_nobody_after_a_merge(app, client, auth):
    """Flashes ride in the session cookie, which is signed, not encrypted: a merge's message
    names the survivor by number or id, never by a person's or customer's name."""
    auth.sign_in("admin")
    with app.app_context():
        north, south = factories.customer("North Deli"), factories.customer("South Deli")
        ana, ana2 = north.contact_links[0].contact, south.contact_links[0].contact
        a, b, number, north_id, south_id = ana.id, ana2.id, north.number, north.id, south.id
        names = {ana.first_name, ana.last_name, ana2.last_name, "North Deli", "South Deli"}
    _, form = merge_form(client, "contact", a, b)
    done = client.post(f"/merge/contact/{a}/{b}", data={
        **form, "survivor": "a", "first_name": "a", "last_name": "b", "notes": "a"})
    assert done.status_code == 303
    held = session_cookie(app, client)
    assert f"Merged into contact #{a}." in held
    assert not [name for name in names if name in held], held

    _, form = merge_form(client, "customer", north_id, south_id)
    done = client.post(f"/merge/customer/{north_id}/{south_id}", data={
        **form, "survivor": "a", "name": "b", "kind": "a", "status": "a", "pricing_tier": "a",
        "owner_id": "a", "parent_id": "a", "notes": "a"}, headers={"HX-Request": "true"})
    assert done.status_code == 204  # htmx: HX-Redirect, the message flashed for the next page
    held = session_cookie(app, client)
    assert f"Merged into {number}." in held
    assert not [name for name in names if name in held], held
    shown = client.get(done.headers["HX-Redirect"])
    assert f"Merged into {number}." in shown.text  # still shown where the user lands
