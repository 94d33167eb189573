"""Marketing lists that respect consent: who is in, who is left out and why, the summary page
and the CSV download (formula-safe, audited without personal data)."""
import csv
import io
from itertools import count

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.common import SYSTEM
from crm.contacts.models import ContactEmail, ContactPhone
from crm.contacts.services import add_contact
from crm.customers.models import Customer
from crm.customers.services import set_archived
from crm.extensions import db
from crm.preferences.services import save_contact_preference
from crm.segments.marketing import marketing_contacts, summary
from crm.segments.models import Segment
from tests import factories

_n = count(1)


def person(customer, *, consent=True, channels=("email", "sms", "phone"), email=True,
           phone=True, first="Ann", **flags):
    """A contact of `customer` with an email and a phone (flags: email_opted_out,
    email_invalid, phone_opted_out, phone_invalid) and their channels and consent."""
    n = next(_n)
    contact = add_contact(customer, {
        "first_name": first, "last_name": f"Person{n}",
        "email": f"ann{n}@mail.example.com" if email else None,
        "phone": f"+1312557{n:04d}" if phone else None}, role="ordering", actor=SYSTEM)
    db.session.flush()
    for model, kind in ((ContactEmail, "email"), (ContactPhone, "phone")):
        for row in db.session.scalars(select(model).where(model.contact_id == contact.id)):
            row.opted_out = flags.get(f"{kind}_opted_out", False)
            row.invalid = flags.get(f"{kind}_invalid", False)
    db.session.commit()
    if consent is not None:
        db.session.refresh(customer)
        save_contact_preference(customer, contact.id, {
            "channels": list(channels), "preferred": None, "marketing_consent": consent,
            "consent_source": "staff" if consent else None}, actor=SYSTEM)
        db.session.commit()
    return contact


def ids_of(*customers):
    return select(Customer.id).where(Customer.id.in_([c.id for c in customers]))


@pytest.fixture
def farm(app_ctx):
    """Two customers whose people cover every reason on email."""
    a = factories.customer("Blue Heron Bistro", contact=False)
    b = factories.customer("Golden Fern Market", contact=False)
    made = {
        "ok": person(a),
        "ok_sms_only": person(a, channels=("sms",)),  # email not ticked: left out on email
        "no_channels": person(b, channels=()),  # no channel named: any channel will do
        "no_consent": person(a, consent=False),
        "never_asked": person(b, consent=None),
        "no_email": person(b, email=False),
        "opted_out": person(b, email_opted_out=True),
        "invalid": person(b, email_invalid=True),
        "both": person(b, email_opted_out=True, email_invalid=True),
    }
    return a, b, made


def test_each_left_out_reason_on_email(farm):
    a, b, made = farm
    rows, left_out = marketing_contacts(ids_of(a, b), "email")
    assert {r.contact_id for r in rows} == {made["ok"].id, made["no_channels"].id}
    assert dict(left_out) == {"no marketing consent": 2,
                              "prefers not to be contacted by email": 1,
                              "no email": 1, "email opted out": 2, "email invalid": 1}
    assert summary(rows, left_out, "email") == (
        "2 people in the list; 7 left out: 2 no marketing consent, 1 prefers not to be "
        "contacted by email, 1 no email, 2 email opted out, 1 email invalid.")


def test_sms_and_phone_use_the_phone_and_the_channel_ticked(farm):
    a, b, made = farm
    rows, left_out = marketing_contacts(ids_of(a, b), "sms")
    # everyone with consent has a usable phone; only the channels differ
    assert {r.contact_id for r in rows} == {
        made[k].id for k in ("ok", "ok_sms_only", "no_channels", "no_email", "opted_out",
                             "invalid", "both")}
    assert dict(left_out) == {"no marketing consent": 2}
    rows, left_out = marketing_contacts(ids_of(a), "phone")
    assert {r.contact_id for r in rows} == {made["ok"].id}
    assert dict(left_out) == {"no marketing consent": 1, "prefers not to be contacted by phone": 1}


def test_a_usable_second_email_is_used_and_a_bad_primary_is_not(app_ctx):
    c = factories.customer(contact=False)
    contact = person(c)
    db.session.add(ContactEmail(contact_id=contact.id, email="second@mail.example.com",
                                email_bidx="x" * 32, is_primary=False))
    primary = db.session.scalar(select(ContactEmail).where(ContactEmail.contact_id == contact.id,
                                                           ContactEmail.is_primary))
    primary.invalid = True
    db.session.commit()
    rows, left_out = marketing_contacts(ids_of(c), "email")
    assert [r.address for r in rows] == ["second@mail.example.com"] and not left_out


def test_withdrawn_consent_archived_customers_and_one_row_per_person(app_ctx):
    a = factories.customer(contact=False)
    b = factories.customer(contact=False)
    gone = factories.customer(contact=False)
    shared = person(a)
    from crm.contacts.services import link_contact

    link_contact(b, shared, "billing", actor=SYSTEM)
    db.session.commit()
    withdrawn = person(b)
    db.session.refresh(b)
    save_contact_preference(b, withdrawn.id, {"channels": ["email"], "preferred": None,
                                              "marketing_consent": False,
                                              "consent_source": None}, actor=SYSTEM)
    person(gone)
    set_archived(gone, True, actor=SYSTEM)
    db.session.commit()
    rows, left_out = marketing_contacts(ids_of(a, b, gone), "email")
    assert [r.contact_id for r in rows] == [shared.id]
    assert [c for c, _ in rows[0].customers] == sorted([a.id, b.id])
    assert dict(left_out) == {"no marketing consent": 1}


@pytest.fixture
def segment(app, auth):
    """A shared segment "has tag Campaign" holding two customers (a third is left outside)."""
    import json

    from crm.segments.tags import add_tag, find_or_create_tag

    auth.sign_in("manager")
    with app.app_context():
        a = factories.customer("=HYPERLINK(\"x\") Cafe", contact=False)
        b = factories.customer(contact=False)
        outside = factories.customer(contact=False)
        person(a, first="@Ann")
        person(a, consent=False)
        person(b, email_opted_out=True)
        person(outside)
        tag = find_or_create_tag("Campaign", actor=SYSTEM)
        add_tag([a.id, b.id], tag, actor=SYSTEM)
        rules = {"match": "all", "rules": [{"field": "tags", "op": "any", "value": [tag.id]}]}
        made = Segment(name="North route", owner_id=auth.user_id, shared=True,
                       rules=json.dumps(rules))
        db.session.add(made)
        db.session.commit()
        return made.id, [a.id, b.id]





def test_the_summary_page_says_who_is_in_and_why_others_are_not(client, segment):
    segment_id, _ = segment
    page = client.get(f"/segments/{segment_id}/marketing?channel=email")
    assert page.status_code == 200 and "<html" in page.text
    assert "1 person in the list; 2 left out: 1 no marketing consent, 1 email opted out." \
        in page.text
    assert f"/segments/{segment_id}/marketing.csv?channel=email" in page.text
    part = client.get(f"/segments/{segment_id}/marketing?channel=sms",
                      headers={"HX-Request": "true"})
    assert "<html" not in part.text
    assert "2 people in the list; 1 left out: 1 no marketing consent." in part.text


def test_the_csv_is_formula_safe_and_audited_without_personal_data(app, client, segment):
    segment_id, _ = segment
    response = client.get(f"/segments/{segment_id}/marketing.csv?channel=email")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0] == ["First name", "Last name", "Email", "Customer numbers", "Customers",
                       "Consent given", "Consent source"]
    assert len(rows) == 2
    assert rows[1][0] == "'@Ann" and rows[1][4].startswith("'=HYPERLINK")
    assert rows[1][2].endswith("@mail.example.com") and rows[1][6] == "staff"
    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "export", AuditEvent.entity_type == "segment")).one()
        assert event.entity_id == segment_id
        text = repr(event.fields)
        assert "rows:1" in text and "left_out:2" in text and "marketing:email" in text
        assert "Ann" not in text and "example.com" not in text


@pytest.mark.parametrize("role", ["sales", "finance", "delivery", "viewer", "grower"])
def test_only_the_export_roles_may_download(app, client, auth, role):
    auth.sign_in(role)
    assert client.get("/segments/1/marketing.csv?channel=email").status_code == 403
    assert client.get("/segments/1/marketing?channel=email").status_code == 403


def test_a_segment_the_user_may_not_use_is_not_found(client, auth, segment):
    segment_id, _ = segment
    assert client.get("/segments/999999/marketing").status_code == 404
    other = auth.make_user("admin")  # a private segment of someone else's is not the manager's
    with client.application.app_context():
        made = db.session.get(Segment, segment_id)
        made.owner_id, made.shared = other, False
        db.session.commit()
    assert client.get(f"/segments/{segment_id}/marketing").status_code == 404
