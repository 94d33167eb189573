"""Ids read from query strings and form fields: ASCII digits only, 1..MAX_ID (what the URL
converter allows in paths). Anything else is a 404 (query) or a 422 with a message on the field
(form), never a 500 from the database driver (SQLite cannot bind integers above 2**63 - 1) and
never another record ("２" is not 2)."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.catalogue.models import Route
from crm.common import MAX_ID, parse_id, utcnow
from crm.communications.models import Interaction
from crm.contacts.models import Contact
from crm.customers.models import Customer
from crm.extensions import db
from crm.preferences.models import DeliveryPlan, ProductPreference, StandingItem
from tests import factories
from tests.communications.test_timeline import entry
from tests.preferences.test_tab import plan_data

TOO_BIG = str(2**63 + 1)  # "9223372036854775809"
BAD_IDS = [TOO_BIG, "２", "٢", str(MAX_ID + 1), "0", "-1", "1e3", "١٢"]
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Each bad value made from the site's real id: int() would read "２" as the record 2.
BAD = [pytest.param(lambda real: TOO_BIG, id="2**63+1"),
       pytest.param(lambda real: str(real).translate(FULLWIDTH), id="fullwidth"),
       pytest.param(lambda real: str(real).translate(ARABIC_INDIC), id="arabic-indic")]


@pytest.mark.parametrize("text", BAD_IDS + ["", " 2", "2 ", "0x2", "+2", "2" * 5000, None])
def test_parse_id_refuses_what_is_not_an_id(text):
    assert parse_id(text) is None


@pytest.mark.parametrize("text, expected", [("1", 1), ("42", 42), ("0042", 42),
                                            (str(MAX_ID), MAX_ID)])
def test_parse_id_reads_ascii_digits(text, expected):
    assert parse_id(text) == expected


@pytest.fixture
def world(app, auth):
    """Signed in as an admin; a customer with a contact, timeline entries with both, the
    catalogue. Returns the ids."""
    user_id = auth.sign_in("admin")
    with app.app_context():
        products, packaging = factories.catalogue()
        customer = factories.customer("Id Probe Cafe")
        contact_id = customer.contact_links[0].contact_id
        now = utcnow()
        for i in range(3):
            db.session.add(Interaction(
                customer_id=customer.id, contact_id=contact_id, channel="call",
                direction="outbound", body=f"Entry {i}", occurred_at=now - timedelta(hours=i + 1),
                logged_by_kind="staff", logged_by_id=user_id))
        db.session.commit()
        return {"customer": customer.id, "contact": contact_id, "staff": user_id,
                "product": products["Sunflower"].id, "other": products["Pea shoots"].id,
                "packaging": packaging["4 oz clamshell"].id, "run": 7}


# -- query strings: 404 ---------------------------------------------------------------------

QUERY_SITES = {
    # name: (the kind of record the id names, the URL with the id `v`)
    "timeline customer": ("customer", lambda w, v: f"/timeline?customer={v}"),
    "timeline contact": ("contact", lambda w, v: f"/timeline?contact={v}"),
    "timeline staff": ("staff", lambda w, v: f"/timeline?customer={w['customer']}&staff={v}"),
    "timeline before": ("entry", lambda w, v: f"/timeline?customer={w['customer']}&before={v}"),
    "activity before": ("entry", lambda w, v: f"/activity?before={v}"),
    "activity staff": ("staff", lambda w, v: f"/activity?staff={v}"),
    "tab staff": ("staff", lambda w, v: f"/customers/{w['customer']}/communications?staff={v}"),
    "duplicate scan run": ("run", lambda w, v: f"/contacts/duplicates/scan?run={v}"),
}
HTMX_QUERIES = {"activity before", "activity staff", "duplicate scan run"}
NEWEST_CURSOR = "99999999999999999"  # micros since 1970: later than any entry


def _query(site, world, value):
    kind, url = QUERY_SITES[site]
    if kind == "entry":  # a cursor: "<micros>_<entry id>"
        value = f"{NEWEST_CURSOR}_{value}"
    headers = {"HX-Request": "true"} if site in HTMX_QUERIES else {}
    return url(world, value), headers


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("site", QUERY_SITES)
def test_a_query_id_that_is_not_one_is_404(app, client, world, site, bad):
    kind = QUERY_SITES[site][0]
    url, headers = _query(site, world, bad(world.get(kind, 1)))
    response = client.get(url, headers=headers)
    assert response.status_code == 404, response.status_code


@pytest.mark.parametrize("site", QUERY_SITES)
def test_a_query_id_that_is_one_still_works(app, client, world, site):
    kind = QUERY_SITES[site][0]
    url, headers = _query(site, world, world.get(kind, MAX_ID))
    response = client.get(url, headers=headers)
    assert response.status_code in (200, 286), response.status_code
    if kind != "run":
        assert "Entry 0" in response.text


# -- form fields: 422 with a message on the field --------------------------------------------

def _prefs(path, opened=""):
    """(where the section's form posts, the page with it open)."""
    return lambda w: (f"/customers/{w['customer']}/preferences{path}",
                      f"/customers/{w['customer']}/preferences{opened}")


def _item(w, **changes):
    return {"product_id": str(w["product"]), "size": "4 oz", "quantity": "6",
            "packaging_id": str(w["packaging"]), "substitutions_allowed": "y",
            "substitute_ids": [str(w["other"])], **changes}


def _new_customer(w, **changes):
    return {"name": "Id Probe Two", "kind": "restaurant", "status": "lead",
            "pricing_tier": "standard", "owner_id": "", "parent_number": "", "notes": "",
            "first_name": "Rosa", "last_name": "Newperson", "email": "", "phone": "",
            "street": "", "street2": "", "city": "", "region": "", "postal_code": "",
            "country": "US", "delivery_instructions": "", **changes}


def _tab(w):  # (where the form is sent, where it is fetched)
    tab = f"/customers/{w['customer']}/communications"
    return tab, f"{tab}/log"


FORM_SITES = {
    # name: (the kind of record, where (url, page with the form), the form with the id `v`)
    "likes": ("product", _prefs("/likes"), lambda w, v: {"likes": [v]}),
    "dislikes": ("product", _prefs("/likes"), lambda w, v: {"dislikes": [v]}),
    "standing item product": ("product", _prefs("/items", "/items/edit"),
                              lambda w, v: _item(w, product_id=v)),
    "standing item packaging": ("packaging", _prefs("/items", "/items/edit"),
                                lambda w, v: _item(w, packaging_id=v)),
    "standing item substitute": ("other", _prefs("/items", "/items/edit"),
                                 lambda w, v: _item(w, substitute_ids=[v])),
    "plan route": ("route", _prefs("/plan"),
                   lambda w, v: plan_data(v, weekdays=["1"])),
    "new customer contact_choice": ("contact", lambda w: ("/customers/new",) * 2,
                                    lambda w, v: _new_customer(w, contact_choice=v)),
    "new customer owner": ("staff", lambda w: ("/customers/new",) * 2,
                           lambda w, v: _new_customer(w, owner_id=v)),
    "quick log contact": ("contact", _tab, lambda w, v: entry(contact_id=v)),
    "quick log follow-up assignee": (
        "staff", _tab, lambda w, v: entry(follow_up_assignee_id=v, follow_up_due="2026-12-01")),
    "contact log customer": ("customer", lambda w: (f"/contacts/{w['contact']}/communications",
                                                    f"/contacts/{w['contact']}"),
                             lambda w, v: {**entry(), "customer_id": v}),
}


def _counts(app):
    with app.app_context():
        return [db.session.scalar(select(db.func.count()).select_from(model))
                for model in (StandingItem, ProductPreference, Customer, Contact, Interaction,
                              DeliveryPlan)]


@pytest.fixture
def route(app, world):
    with app.app_context():
        made = Route(name="North")
        db.session.add(made)
        db.session.commit()
        world["route"] = made.id
    return made.id


@pytest.mark.parametrize("bad", BAD)
@pytest.mark.parametrize("site", FORM_SITES)
def test_a_form_id_that_is_not_one_is_422_with_a_message(app, auth, world, route, site, bad):
    kind, where, data = FORM_SITES[site]
    url, page = where(world)
    before = _counts(app)
    response = auth.post(url, data(world, bad(world[kind])), page=page, htmx=True)
    assert response.status_code == 422, response.status_code
    assert "Choose one from the list." in response.text
    assert _counts(app) == before


@pytest.mark.parametrize("site", FORM_SITES)
def test_a_form_id_that_is_one_still_works(app, auth, world, route, site):
    kind, where, data = FORM_SITES[site]
    url, page = where(world)
    before = _counts(app)
    response = auth.post(url, data(world, str(world[kind])), page=page, htmx=True)
    assert response.status_code in (200, 204), response.text
    assert _counts(app) != before  # something was saved
    if site == "new customer contact_choice":  # the person on record became its contact
        with app.app_context():
            made = db.session.scalar(select(Customer).order_by(Customer.id.desc()))
            assert [link.contact_id for link in made.contact_links] == [world["contact"]]


@pytest.mark.parametrize("bad", BAD)
def test_a_path_id_that_is_not_one_is_404(app, client, world, bad):
    for kind, url in (("customer", "/customers/{}"), ("contact", "/contacts/{}")):
        assert client.get(url.format(world[kind])).status_code == 200
        assert client.get(url.format(bad(world[kind]))).status_code == 404
