"""One archived-customer rule, in the services: contacts, addresses, preferences and
communications all refuse to change an archived customer, whoever the caller is."""
from datetime import date

import pytest
from sqlalchemy import func, select

from crm.common import SYSTEM, Actor, utcnow
from crm.communications.services import log_interaction
from crm.contacts.services import add_contact
from crm.customers.services import ArchivedError, add_address, set_archived
from crm.extensions import db
from crm.preferences.models import DeliveryPause
from crm.preferences.services import add_pause, save_contact_preference
from tests import factories


def test_every_feature_refuses_to_change_an_archived_customer(app_ctx):
    customer = factories.customer("Closed Kitchen")
    contact_id = customer.contact_links[0].contact_id
    set_archived(customer, True, actor=SYSTEM)
    db.session.commit()
    changes = [
        lambda: add_contact(customer, {"first_name": "Late"}, role="kitchen", actor=SYSTEM),
        lambda: add_address(customer, {"kind": "billing", "street": "1 Main St",
                                       "city": "Chicago"}, actor=SYSTEM),
        lambda: add_pause(customer, {"starts_on": date(2027, 1, 1), "ends_on": date(2027, 1, 2)},
                          actor=Actor.portal(1)),
        lambda: save_contact_preference(customer, contact_id, {"channels": ["email"]},
                                        actor=SYSTEM),
        lambda: log_interaction(customer, {"channel": "call", "direction": "inbound",
                                           "subject": "Hi", "occurred_at": utcnow()},
                                actor=Actor.portal(1)),
    ]
    for change in changes:
        with pytest.raises(ArchivedError, match="is archived"):
            change()
        db.session.rollback()


def test_the_preferences_tab_refuses_an_archived_customer_as_the_edit_page_does(
        app, client, auth):
    auth.sign_in("manager")
    with app.app_context():
        cid = factories.customer("Closed Cafe").id
    auth.post(f"/customers/{cid}/archive", page=f"/customers/{cid}")
    url = f"/customers/{cid}/preferences/pauses"
    page = f"/customers/{cid}/preferences"
    full = auth.post(url, {"starts_on": "2027-01-01", "ends_on": "2027-01-02"}, page=page)
    assert full.status_code == 409 and "is archived" in full.text
    swapped = auth.post(url, {"starts_on": "2027-01-01", "ends_on": "2027-01-02"}, page=page,
                        htmx=True)
    assert swapped.status_code == 204 and swapped.headers["HX-Redirect"] == f"/customers/{cid}"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DeliveryPause)) == 0
