"""The Preferences tab: edited inline, every change kept with who/when/old/new, bad input."""
import re

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.preferences.models import (
    ContactPreference,
    DeliveryPause,
    DeliveryPlan,
    PreferenceChange,
    StandingItem,
)
from tests.customers.test_list import count_queries


def plan_data(route, **changes):
    return {"weekdays": ["1", "4"], "frequency": "weekly", "anchor_date": "",
            "window_start": "07:00", "window_end": "09:30", "route_id": str(route),
            "stop_order": "3", "delivery_instructions": "Back door, ring twice",
            "returnables": "y", "labelling": "", "invoice_method": "email",
            "substitution_policy": "ask", "special_handling": "", "version": "", **changes}


def post(auth, customer_id, path, data):
    """POST as the section's form does, from the page with that form open (the forms that add
    carry a one-time key)."""
    tab = f"/customers/{customer_id}/preferences"
    if path in ("/likes",) or path.startswith("/contacts/"):  # as loaded (the `seen` field)
        html = auth.client.get(tab + path + "/edit").text
        data = {**dict(re.findall(r'name="((?:c\d+-)?seen)" type="hidden" value="(\d+)"',
                                  html)), **data}
    opened = {"/items": "/items/edit", "/pauses": "/pauses/edit"}.get(path, "")
    return auth.post(tab + path, data, page=tab + opened, htmx=True)


def history(app, customer_id):
    with app.app_context():
        return [(c.field, c.old, c.new) for c in db.session.scalars(
            select(PreferenceChange).where(PreferenceChange.customer_id == customer_id)
            .order_by(PreferenceChange.id))]


def test_saving_the_delivery_plan_keeps_history(app, client, auth, setup):
    customer_id, _, _, _, route_id = setup
    auth.sign_in("sales")
    response = post(auth, customer_id, "/plan", plan_data(route_id))
    assert response.status_code == 200, response.text
    assert "Delivery plan saved." in response.headers["HX-Trigger"]
    assert "Tue, Fri" in response.text and "North route, stop 3" in response.text
    with app.app_context():
        plan = db.session.get(DeliveryPlan, customer_id)
        assert plan.weekdays == 0b10010 and plan.returnables and plan.version == 1
    again = post(auth, customer_id, "/plan", plan_data(route_id, window_start="06:30",
                                                       version="1"))
    assert again.status_code == 200
    changes = history(app, customer_id)
    assert ("window_start", "07:00", "06:30") in changes
    assert ("weekdays", "none", "Tue, Fri") in changes
    assert "Sales Person" in again.text and "06:30" in again.text  # shown on the tab


def test_a_stale_plan_save_is_a_conflict(app, client, auth, setup):
    customer_id, _, _, _, route_id = setup
    auth.sign_in("sales")
    post(auth, customer_id, "/plan", plan_data(route_id))
    post(auth, customer_id, "/plan", plan_data(route_id, stop_order="4", version="1"))
    stale = post(auth, customer_id, "/plan", plan_data(route_id, stop_order="9", version="1"))
    assert stale.status_code == 409 and "Someone else saved this plan" in stale.text
    assert 'value="9"' in stale.text  # the form keeps what was typed
    with app.app_context():
        assert db.session.get(DeliveryPlan, customer_id).stop_order == 4


@pytest.mark.parametrize("changes, message", [
    ({"window_start": "10:00", "window_end": "09:00"}, "The window ends before it starts."),
    ({"window_start": "10:00", "window_end": ""}, "Give both ends of the window, or neither."),
    ({"frequency": "biweekly"}, "Every other week needs a delivery date to count from."),
    ({"route_id": "99999"}, "Choose a route from the list."),
    ({"weekdays": []}, "Tick the days this customer takes deliveries."),
    ({"stop_order": "0"}, "Number must be between 1 and 999."),
    ({"window_start": "soon"}, "Not a valid time value."),
])
def test_bad_plans_are_explained_and_nothing_is_saved(app, client, auth, setup, changes,
                                                      message):
    customer_id, _, _, _, route_id = setup
    auth.sign_in("sales")
    response = post(auth, customer_id, "/plan", plan_data(route_id, **changes))
    assert response.status_code == 422 and message in response.text
    with app.app_context():
        assert db.session.get(DeliveryPlan, customer_id) is None
        assert history(app, customer_id) == []


def item(products, packaging, **changes):
    return {"product_id": str(products["Sunflower"]), "size": "4 oz", "quantity": "6",
            "packaging_id": str(packaging["4 oz clamshell"]), "substitutions_allowed": "y",
            "substitute_ids": [str(products["Pea shoots"])], **changes}


def test_standing_items_are_added_and_removed(app, client, auth, setup):
    customer_id, _, products, packaging, _ = setup
    auth.sign_in("sales")
    added = post(auth, customer_id, "/items", item(products, packaging))
    assert added.status_code == 200 and "Sunflower" in added.text and "Pea shoots" in added.text
    with app.app_context():
        item_id = db.session.scalar(select(StandingItem.id))
    removed = post(auth, customer_id, f"/items/{item_id}/delete", {})
    assert removed.status_code == 200 and "No standing items." in removed.text
    assert [c[0] for c in history(app, customer_id)] == ["standing item", "standing item"]
    assert history(app, customer_id)[1][1].startswith("6 × Sunflower 4 oz, 4 oz clamshell")


def test_bad_standing_items_are_refused(app, client, auth, setup):
    customer_id, _, products, packaging, _ = setup
    auth.sign_in("sales")
    with app.app_context():
        from crm.catalogue.models import Product
        from crm.common import utcnow

        db.session.get(Product, products["Kale"]).retired_at = utcnow()
        db.session.commit()
    for changes, message in (
            ({"quantity": "0"}, "Between 1 and 100 per delivery."),
            ({"quantity": "1000"}, "Between 1 and 100 per delivery."),
            ({"product_id": str(products["Kale"])}, "Kale is retired; choose another product."),
            ({"size": "10x20 tray"}, "Sunflower comes in 2 oz, 4 oz, 1 lb."),
            ({"product_id": "99999"}, "That product does not exist.")):
        response = post(auth, customer_id, "/items", item(products, packaging, **changes))
        assert response.status_code == 422 and message in response.text, message
    with app.app_context():
        assert db.session.scalar(select(StandingItem)) is None


def test_likes_dislikes_and_pauses(app, client, auth, setup):
    customer_id, _, products, _, _ = setup
    auth.sign_in("sales")
    both = post(auth, customer_id, "/likes", {"likes": [str(products["Radish"])],
                                             "dislikes": [str(products["Radish"])]})
    assert both.status_code == 422 and "cannot be both liked and disliked" in both.text
    saved = post(auth, customer_id, "/likes", {"likes": [str(products["Basil"])],
                                              "dislikes": [str(products["Radish"])]})
    assert saved.status_code == 200
    assert ("dislikes", None, "Radish") in history(app, customer_id)
    backwards = post(auth, customer_id, "/pauses", {"starts_on": "2026-08-20",
                                                   "ends_on": "2026-08-01"})
    assert backwards.status_code == 422 and "The pause ends before it starts." in backwards.text
    not_a_date = post(auth, customer_id, "/pauses", {"starts_on": "August", "ends_on": ""})
    assert not_a_date.status_code == 422 and "Not a valid date value." in not_a_date.text
    away = post(auth, customer_id, "/pauses", {"starts_on": "2026-08-01",
                                              "ends_on": "2026-08-31", "reason": "Away"})
    assert away.status_code == 200 and "Aug 1, 2026 – Aug 31, 2026" in away.text
    with app.app_context():
        assert db.session.scalar(select(DeliveryPause).where(
            DeliveryPause.customer_id == customer_id)).reason == "Away"


def test_contact_channels_and_consent_are_recorded_and_withdrawable(app, client, auth, setup):
    customer_id, contact_id, _, _, _ = setup
    auth.sign_in("sales")
    prefix = f"c{contact_id}-"
    no_source = post(auth, customer_id, f"/contacts/{contact_id}",
                     {prefix + "channels": ["email"], prefix + "marketing_consent": "y"})
    assert no_source.status_code == 422 and "Say how the consent was given." in no_source.text
    wrong = post(auth, customer_id, f"/contacts/{contact_id}",
                 {prefix + "channels": ["email"], prefix + "preferred": "sms"})
    assert wrong.status_code == 422 and "must be one of the channels ticked" in wrong.text
    given = post(auth, customer_id, f"/contacts/{contact_id}",
                 {prefix + "channels": ["email", "sms"], prefix + "preferred": "sms",
                  prefix + "marketing_consent": "y", prefix + "consent_source": "market"})
    assert given.status_code == 200
    with app.app_context():
        pref = db.session.get(ContactPreference, contact_id)
        assert pref.marketing_consent and pref.consent_at and pref.consent_source == "market"
    withdrawn = post(auth, customer_id, f"/contacts/{contact_id}",
                     {prefix + "channels": ["email", "sms"], prefix + "preferred": "sms"})
    assert withdrawn.status_code == 200
    with app.app_context():
        pref = db.session.get(ContactPreference, contact_id)
        assert not pref.marketing_consent and pref.consent_withdrawn_at and pref.consent_at
    assert ("contact %d marketing consent" % contact_id, "yes", "withdrawn") in history(
        app, customer_id)


def test_tab_query_count_does_not_grow_with_history(app, client, auth, setup):
    customer_id, _, _, _, route_id = setup
    auth.sign_in("viewer")
    with app.app_context():
        for i in range(3):
            db.session.add(PreferenceChange(customer_id=customer_id, field="x", new=str(i),
                                            actor_kind="system"))
        db.session.commit()
    url = f"/customers/{customer_id}/preferences"
    with count_queries(app) as few:
        assert client.get(url).status_code == 200
    with app.app_context():
        for i in range(300):
            db.session.add(PreferenceChange(customer_id=customer_id, field="x", new=str(i),
                                            actor_kind="system"))
        db.session.commit()
    with count_queries(app) as many:
        client.get(url)
    assert len(few) == len(many)
