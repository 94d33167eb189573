"""The grower: the sowing plan, growing data on the catalogue and delivery sheets; no customers,
no money, no communications."""
import pytest

from crm.security.permissions import PERMISSIONS
from tests import factories


def test_the_grower_holds_only_what_the_farm_gives_it(app):
    held = {name for name, roles in PERMISSIONS.items() if "grower" in roles}
    assert held == {"sowing.view", "catalogue.growing", "delivery.view", "main.navigation",
                    "jobs.view"}


def test_the_grower_lands_on_the_sowing_plan_and_its_navigation_has_its_three_things(auth,
                                                                                    client):
    auth.sign_in("grower")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/sowing")
    html = client.get("/sowing").text
    nav = html.split('aria-label="Main"')[1].split("</nav>")[0]
    assert "Sowing plan" in nav and "Growing data" in nav and "Delivery sheets" in nav
    assert "Customers" not in nav and "Tickets" not in nav and "Catalogue<" not in nav


def test_the_grower_sees_delivery_sheets_and_growing_data(app, auth, client):
    with app.app_context():
        factories.catalogue()
    auth.sign_in("grower")
    assert client.get("/delivery/sheets").status_code == 200
    page = client.get("/catalogue/growing")
    assert page.status_code == 200 and "Pea shoots" in page.text and "400 g" in page.text


@pytest.mark.parametrize("url", ["/customers/", "/customers/{id}", "/customers/{id}/credit",
                                 "/customers/{id}/communications", "/follow-ups", "/tickets",
                                 "/contacts/", "/catalogue/", "/prices", "/segments",
                                 "/credit", "/activity", "/tags", "/orders/for-day",
                                 "/contacts/export.csv"])
def test_the_grower_gets_403_on_customers_money_and_communications(app, auth, client, url):
    with app.app_context():
        customer_id = factories.customer("Probe Kitchen").id
    auth.sign_in("grower")
    response = client.get(url.format(id=customer_id))
    assert response.status_code in (403, 404), url
    if response.status_code == 404:  # a URL that is not a route here: check it exists at all
        pytest.fail(f"{url} is not a route: fix the test")
