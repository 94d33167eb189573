"""The pricing tier is financial data: roles without "customers.pricing" (delivery, viewer)
never see it, and a form that does not show it never changes it."""
import pytest
from sqlalchemy import select

from crm.customers.models import Customer
from crm.extensions import db
from crm.security.permissions import PERMISSIONS
from tests import factories
from tests.customers.test_create import VALID
from tests.customers.test_edit import edit_form, load


@pytest.fixture
def wholesale(app):
    with app.app_context():
        return factories.customer("Big Box Greens", kind="wholesale",
                                  pricing_tier="wholesale").id


@pytest.mark.parametrize("role, shown", [("delivery", False), ("viewer", False),
                                         ("finance", True), ("sales", True), ("admin", True)])
def test_only_roles_with_the_financial_permission_see_the_tier(client, auth, wholesale,
                                                                role, shown):
    auth.sign_in(role)
    page = client.get(f"/customers/{wholesale}")
    assert page.status_code == 200 and ("Pricing tier" in page.text) is shown
    assert "Pricing tier" not in client.get(f"/customers/{wholesale}/contacts").text
    overview = client.get(f"/customers/{wholesale}", headers={"HX-Request": "true"}).text
    assert ("Pricing tier" in overview and "Wholesale</dd>" in overview) is shown
    listing = client.get("/customers/").text
    assert "Big Box Greens" in listing and "Pricing tier" not in listing


def test_the_role_table_keeps_the_tier_from_delivery_and_viewer():
    assert PERMISSIONS["customers.pricing"] == {"admin", "manager", "sales", "finance"}


@pytest.fixture
def sales_without_pricing(monkeypatch):
    """A role that may edit customers but not see the tier (none does today: the forms must
    still keep the tier if the role table changes)."""
    monkeypatch.setitem(PERMISSIONS, "customers.pricing", frozenset({"admin", "finance"}))


def test_editing_without_the_permission_neither_shows_nor_drops_the_tier(
        app, client, auth, wholesale, sales_without_pricing):
    auth.sign_in("sales")
    form = client.get(f"/customers/{wholesale}/edit")
    assert form.status_code == 200 and "Pricing tier" not in form.text
    assert 'name="pricing_tier"' not in form.text
    posted = edit_form(load(app, wholesale), name="Big Box Greens Co-op",
                       pricing_tier="standard")  # a crafted field is ignored too
    response = auth.post(f"/customers/{wholesale}/edit", posted)
    assert response.status_code == 303
    saved = load(app, wholesale)
    assert (saved.name, saved.pricing_tier) == ("Big Box Greens Co-op", "wholesale")


def test_a_conflict_message_does_not_name_the_tier_either(app, client, auth, wholesale,
                                                          sales_without_pricing):
    auth.sign_in("sales")
    mine = load(app, wholesale)
    with app.app_context():
        other = db.session.get(Customer, wholesale)
        other.pricing_tier, other.notes = "restaurant", "Changed meanwhile"
        db.session.commit()
    response = auth.post(f"/customers/{wholesale}/edit", edit_form(mine), htmx=True)
    assert response.status_code == 409 and "Changed meanwhile" in response.text
    assert "Pricing tier" not in response.text


def test_a_new_customer_from_a_form_without_the_tier_gets_the_default(
        app, client, auth, sales_without_pricing):
    auth.sign_in("sales")
    assert "Pricing tier" not in client.get("/customers/new").text
    response = auth.post("/customers/new", {**VALID, "pricing_tier": "wholesale"})
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Customer.pricing_tier)) == "standard"
