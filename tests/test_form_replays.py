"""A form that creates, sent twice, creates once (issue 14, trap 3).

Double-clicking "Create customer" made two customers. Every creating form now carries a
one-time key (crm.forms.FormKeyField), claimed in the transaction that creates
(crm.web.claim): the same key again is answered with the first send's result (a redirect to
what it created) and creates nothing; a new key (the form shown again) creates again. While
the request runs, htmx disables the form's buttons (the `creates` macro).
"""
import re
import secrets
import threading
from dataclasses import dataclass
from io import BytesIO
from typing import Callable

import pytest
from sqlalchemy import func, select

from crm.catalogue.models import Packaging, Product, Route
from crm.communications.models import Interaction, Ticket
from crm.contacts.models import Contact
from crm.customers.models import Address, Customer
from crm.extensions import db
from crm.forms import FORM_OUT_OF_DATE
from crm.preferences.models import DeliveryPause, StandingItem
from crm.web import REPLAYED, FormReplay
from tests import factories
from tests.communications.test_email_file import eml
from tests.communications.test_timeline import entry
from tests.conftest import Auth, csrf_from, form_keys_from
from tests.customers.test_create import VALID


@dataclass
class Case:
    """A creating form: where it is shown and sent, what it sends (the n-th distinct record),
    what it makes, and where that is shown afterwards."""

    page: str
    url: str
    data: Callable[[int], dict]
    model: type
    result: Callable[[], str]  # the URL of what the first send made, read once it exists
    htmx: bool = True
    key: str = "form_key"  # the key's field name (forms with a prefix prefix it)
    form_id: str | None = None  # the <form>'s id, for the disabled-while-sending check


def newest(model):
    return db.session.scalar(select(model).order_by(model.id.desc()).limit(1))


@pytest.fixture
def farm(app):
    """A customer with a contact, the catalogue, a route and a ticket to reply to."""
    with app.app_context():
        products, packaging = factories.catalogue()
        customer = factories.customer("Fern Cafe")
        contact_id = customer.contact_links[0].contact_id
        db.session.add(Route(name="North"))
        from crm.common import SYSTEM, utcnow
        from crm.communications.services import log_interaction

        ticket = log_interaction(customer, {
            "channel": "ticket", "direction": "inbound", "subject": "Wilted pea shoots",
            "occurred_at": utcnow(), "visibility": "internal"}, actor=SYSTEM).ticket
        db.session.commit()
        return {"customer": customer.id, "contact": contact_id, "ticket": ticket.id,
                "products": {k: v.id for k, v in products.items()},
                "packaging": {k: v.id for k, v in packaging.items()}}


def cases(farm) -> dict[str, Case]:
    c, contact, ticket = farm["customer"], farm["contact"], farm["ticket"]
    products, packaging = farm["products"], farm["packaging"]
    tab = f"/customers/{c}"
    log = f"{tab}/communications"

    def on_timeline(base):
        return lambda: f"{base}#entry-{newest(Interaction).id}"

    return {
        "new customer": Case(
            "/customers/new", "/customers/new",
            lambda n: {**VALID, "name": f"Little Fern Kitchen {n}", "new_contact": "y"},
            Customer, lambda: f"/customers/{newest(Customer).id}", form_id="customer-form"),
        "new customer without htmx": Case(
            "/customers/new", "/customers/new",
            lambda n: {**VALID, "name": f"Little Fern Kitchen {n}", "new_contact": "y"},
            Customer, lambda: f"/customers/{newest(Customer).id}", htmx=False),
        "add contact": Case(
            f"{tab}/contacts", f"{tab}/contacts",
            lambda n: {"first_name": f"Maria{n}", "last_name": "Delgado", "role": "kitchen",
                       "email": f"maria{n}@example.com", "phone": "", "save_anyway": "1"},
            Contact, lambda: f"{tab}/contacts", form_id="new-person-form"),
        "add address": Case(
            f"{tab}/contacts", f"{tab}/addresses",
            lambda n: {"kind": "billing", "street": f"{n + 1} Main St", "street2": "",
                       "city": "Chicago", "region": "IL", "postal_code": "60614",
                       "country": "US", "delivery_instructions": ""},
            Address, lambda: f"{tab}/contacts", form_id="new-address-form"),
        "quick log": Case(f"{log}/log", log, lambda n: entry(subject=f"Call {n}"), Interaction,
                          on_timeline(log), form_id="quick-log"),
        "follow-up": Case(f"{log}/log", log, lambda n: entry(subject=f"Call {n}",
                                                   follow_up_due="2026-12-24"),
                          Interaction, on_timeline(log), form_id="quick-log"),
        "new ticket": Case(f"{log}/log", log,
                           lambda n: entry(subject=f"Problem {n}", open_ticket="y"),
                           Ticket, on_timeline(log), form_id="quick-log"),
        "log on the contact's page": Case(
            f"/contacts/{contact}", f"/contacts/{contact}/communications",
            lambda n: {**entry(subject=f"Call {n}"), "customer_id": str(c)}, Interaction,
            on_timeline(f"/contacts/{contact}"), form_id="quick-log"),
        "email file": Case(
            f"{log}/email-file", f"{log}/email-file",
            lambda n: {"file": (BytesIO(eml(n=n)), f"{n}.eml")},
            Interaction, on_timeline(log), form_id="email-file-form"),
        "ticket reply": Case(
            f"/tickets/{ticket}", f"/tickets/{ticket}/replies",
            lambda n: {"direction": "outbound", "body": f"Fresh tray Friday ({n})."},
            Interaction, lambda: f"/tickets/{ticket}", form_id="reply-form"),
        "catalogue product": Case(
            "/catalogue/", "/catalogue/products",
            lambda n: {"name": f"Shiso {n}", "sizes": "1 oz"}, Product, lambda: "/catalogue/",
            htmx=False, form_id="new-product-form"),
        "packaging": Case(
            "/catalogue/", "/catalogue/packaging", lambda n: {"packaging-name": f"Tin {n}"},
            Packaging, lambda: "/catalogue/", htmx=False, key="packaging-form_key",
            form_id="new-packaging-form"),
        "route": Case(
            "/catalogue/", "/catalogue/routes", lambda n: {"route-name": f"South {n}"}, Route,
            lambda: "/catalogue/", htmx=False, key="route-form_key", form_id="new-route-form"),
        "standing item": Case(
            f"{tab}/preferences/items/edit", f"{tab}/preferences/items",
            lambda n: {"product_id": str(products[["Sunflower", "Pea shoots"][n]]),
                       "size": "4 oz", "quantity": "6",
                       "packaging_id": str(packaging["4 oz clamshell"])},
            StandingItem, lambda: f"{tab}/preferences", form_id="new-item-form"),
        "pause": Case(
            f"{tab}/preferences/pauses/edit", f"{tab}/preferences/pauses",
            lambda n: {"starts_on": f"2027-0{n + 1}-01", "ends_on": f"2027-0{n + 1}-05",
                       "reason": "Closed"},
            DeliveryPause, lambda: f"{tab}/preferences", form_id="new-pause-form"),
    }


CASES = list(cases({"customer": 0, "contact": 0, "ticket": 0, "products": {},
                    "packaging": {}}))


def count(app, model):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def where_to(response) -> str:
    """Where an answer sends the browser: a 303's Location, or htmx's HX-Redirect."""
    if response.status_code == 303:
        return response.headers["Location"]
    assert response.status_code == 204, (response.status_code, response.text[:300])
    return response.headers["HX-Redirect"]


@pytest.mark.parametrize("name", CASES)
def test_the_same_form_sent_twice_creates_once_and_answers_with_the_first_result(
        app, client, auth, farm, name):
    case = cases(farm)[name]
    auth.sign_in("admin")
    page = client.get(case.page).text
    assert case.key in form_keys_from(page), "the form carries no key"
    before = count(app, case.model)
    key = secrets.token_urlsafe(16)

    first = auth.post(case.url, {**case.data(0), case.key: key}, page=case.page, htmx=case.htmx)
    assert first.status_code in (200, 204, 303), first.text[:500]
    assert count(app, case.model) == before + 1
    with app.app_context():
        made = case.result()

    again = auth.post(case.url, {**case.data(0), case.key: key}, page=case.page, htmx=case.htmx)
    assert count(app, case.model) == before + 1  # nothing new
    assert where_to(again) == made  # the first send's result
    if first.status_code in (204, 303):
        assert where_to(first) == made
    assert REPLAYED in client.get(made).text

    new_key = auth.post(case.url, {**case.data(1), case.key: secrets.token_urlsafe(16)},
                        page=case.page, htmx=case.htmx)
    assert new_key.status_code in (200, 204, 303), new_key.text[:500]
    assert count(app, case.model) == before + 2  # a form shown again creates again


@pytest.mark.parametrize("name", [n for n in CASES if cases(
    {"customer": 0, "contact": 0, "ticket": 0, "products": {}, "packaging": {}})[n].form_id])
def test_the_buttons_are_disabled_while_the_form_is_sent(app, client, auth, farm, name):
    case = cases(farm)[name]
    auth.sign_in("admin")
    page = client.get(case.page).text
    tag = re.search(rf'<form id="{case.form_id}"[^>]*>', page)
    assert tag, f"no form #{case.form_id}"
    assert f'hx-disabled-elt="#{case.form_id} button"' in tag.group(0)
    assert "data-creates" in tag.group(0)  # app.js does the same for a form sent without htmx


def test_a_form_without_its_key_is_refused_with_a_fresh_key_and_what_was_typed(app, client,
                                                                                auth):
    auth.sign_in("sales")
    token = csrf_from(client.get("/customers/new").text)
    for key in (None, "", "not-a-key", "x" * 65):
        data = {**VALID, **({} if key is None else {"form_key": key})}
        response = client.post("/customers/new", data=data,
                               headers={"X-CSRFToken": token, "HX-Request": "true"})
        assert response.status_code == 422
        assert FORM_OUT_OF_DATE in response.text
        assert 'value="Little Fern Kitchen"' in response.text
        fresh = form_keys_from(response.text)["form_key"]
        assert fresh != key and re.fullmatch(r"[\w-]{22}", fresh)
    assert count(app, Customer) == 0
    sent = client.post("/customers/new", data={**VALID, "form_key": fresh},
                       headers={"X-CSRFToken": token})
    assert sent.status_code == 303 and count(app, Customer) == 1


def test_a_form_that_was_refused_can_be_fixed_and_sent_with_the_same_key(app, client, auth,
                                                                        farm):
    """The key is claimed in the transaction that creates: a refusal, by the form or by the
    service after the claim, rolls it back with everything else."""
    auth.sign_in("sales")
    key = secrets.token_urlsafe(16)
    refused = auth.post("/customers/new", {**VALID, "name": "", "form_key": key})
    assert refused.status_code == 422 and f'value="{key}"' in refused.text
    assert auth.post("/customers/new", {**VALID, "form_key": key}).status_code == 303
    log, key = f"/customers/{farm['customer']}/communications", secrets.token_urlsafe(16)
    blank = entry(subject="", body="", outcome="", form_key=key)  # refused by the service
    assert auth.post(log, blank, htmx=True).status_code == 422
    assert auth.post(log, {**blank, "outcome": "Left a voicemail"}, htmx=True).status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FormReplay)) == 2


def test_someone_elses_key_is_a_bad_request(app, client, auth):
    auth.sign_in("sales")
    key = secrets.token_urlsafe(16)
    assert auth.post("/customers/new", {**VALID, "form_key": key}).status_code == 303
    other = Auth(app, app.test_client())
    other.sign_in("manager")
    response = other.post("/customers/new", {**VALID, "new_contact": "y", "form_key": key})
    assert response.status_code == 400
    assert count(app, Customer) == 1


def test_two_sends_at_the_same_moment_create_once(app, auth, farm):
    """A double click without JavaScript: both requests arrive before either answers. The
    second waits on the key the first has claimed, then answers with its result."""
    me = auth.sign_in("sales")
    second = Auth(app, app.test_client())  # a second session of the same person
    signed_in = second.post("/auth/sign-in", {"email": "sales@farm.test",
                                              "password": Auth.password}, page="/auth/sign-in")
    assert signed_in.status_code == 302
    log = f"/customers/{farm['customer']}/communications"
    clients = [auth.client, second.client]
    tokens = {id(c): csrf_from(c.get(log).text) for c in clients}
    key, start, answers = secrets.token_urlsafe(16), threading.Barrier(2), []

    def send(client):
        start.wait()
        answers.append(client.post(log, data={**entry(), "form_key": key},
                                   headers={"X-CSRFToken": tokens[id(client)]}))

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert sorted(a.status_code for a in answers) == [200, 303]
    with app.app_context():
        [logged] = db.session.scalars(select(Interaction).where(
            Interaction.logged_by_kind == "staff")).all()
        assert logged.logged_by_id == me
        [claimed] = db.session.scalars(select(FormReplay)).all()
        assert claimed.result_url == f"{log}#entry-{logged.id}"
    replay = next(a for a in answers if a.status_code == 303)
    assert replay.headers["Location"] == f"{log}#entry-{logged.id}"


def test_a_key_committed_between_the_check_and_the_claim_is_answered_too(app, auth, farm,
                                                                         monkeypatch):
    """The other send may commit after this one looked (replayed) but before it claims: the
    claim then meets the key and answers with the first result, creating nothing."""
    auth.sign_in("sales")
    log = f"/customers/{farm['customer']}/communications"
    key = secrets.token_urlsafe(16)
    assert auth.post(log, {**entry(), "form_key": key}, htmx=True).status_code == 200
    import crm.web

    monkeypatch.setattr(crm.web, "replayed", lambda form: None)
    again = auth.post(log, {**entry(), "form_key": key}, htmx=True)
    with app.app_context():
        entry_id = db.session.scalar(select(func.max(Interaction.id)))
    assert where_to(again) == f"{log}#entry-{entry_id}"
    assert count(app, Interaction) == 2  # the ticket's message and the one call
