"""Growing data on the catalogue: managers and growers edit it (click to edit), bad input is
refused with clear messages keeping what was typed, a stale form gets 409."""
import pytest
from sqlalchemy import select

from crm.catalogue.models import Product
from crm.extensions import db
from tests import factories


@pytest.fixture
def pea(app):
    with app.app_context():
        products, _ = factories.catalogue()
        return products["Pea shoots"].id


def product(app, product_id):
    with app.app_context():
        found = db.session.get(Product, product_id)
        return found.days_to_harvest, found.tray_yield_g, found.loss_pct, found.growing_version


def test_the_starting_catalogue_has_typical_growing_data(app):
    with app.app_context():
        factories.catalogue()
        products = {p.name: p for p in db.session.scalars(select(Product))}
    assert all(p.has_growing_data for p in products.values())
    assert 10 <= products["Pea shoots"].days_to_harvest <= 12
    assert 300 <= products["Pea shoots"].tray_yield_g <= 450
    assert 7 <= products["Radish"].days_to_harvest <= 9
    assert 16 <= products["Basil"].days_to_harvest <= 21
    assert all(0 <= p.loss_pct <= 50 for p in products.values())


@pytest.mark.parametrize("role", ["grower", "manager"])
def test_a_grower_or_manager_saves_growing_data_and_gets_the_item_back(app, auth, client, pea,
                                                                       role):
    auth.sign_in(role)
    form = client.get(f"/catalogue/growing/{pea}/edit", headers={"HX-Request": "true"})
    assert form.status_code == 200 and "<html" not in form.text
    assert 'name="days_to_harvest"' in form.text and 'value="11"' in form.text
    response = auth.post(f"/catalogue/growing/{pea}", {
        "days_to_harvest": "12", "tray_yield_g": "380", "loss_pct": "15", "version": "1"},
        page=f"/catalogue/growing/{pea}/edit", htmx=True)
    assert response.status_code == 200 and "<html" not in response.text
    assert "380 g" in response.text and "15 %" in response.text
    assert "saved" in response.headers["HX-Trigger"]
    assert product(app, pea) == (12, 380, 15, 2)


def test_without_htmx_the_save_goes_back_to_the_list(app, auth, client, pea):
    auth.sign_in("grower")
    response = auth.post(f"/catalogue/growing/{pea}", {
        "days_to_harvest": "10", "tray_yield_g": "400", "loss_pct": "0", "version": "1"},
        page=f"/catalogue/growing/{pea}/edit")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/catalogue/growing#growing-{pea}")
    assert product(app, pea)[:3] == (10, 400, 0)


@pytest.mark.parametrize(("data", "message"), [
    ({"days_to_harvest": "0"}, "Days to harvest is from 1 to 60."),
    ({"days_to_harvest": "2.5"}, "Give the days as a whole number from 1 to 60"),
    ({"days_to_harvest": ""}, "Give the days from sowing to harvest."),
    ({"tray_yield_g": "-300"}, "Yield per tray is from 1 to 5,000 g."),
    ({"tray_yield_g": "lots"}, "Give the grams as a whole number"),
    ({"tray_yield_g": "٣٠٠"}, "Give the grams as a whole number"),
    ({"loss_pct": "51"}, "Loss allowance is from 0 to 50 %."),
    ({"loss_pct": "-1"}, "Loss allowance is from 0 to 50 %."),
])
def test_bad_input_is_refused_with_what_was_typed_kept(app, auth, client, pea, data, message):
    auth.sign_in("grower")
    sent = {"days_to_harvest": "9", "tray_yield_g": "350", "loss_pct": "10", "version": "1",
            **data}
    response = auth.post(f"/catalogue/growing/{pea}", sent,
                         page=f"/catalogue/growing/{pea}/edit", htmx=True)
    assert response.status_code == 422 and message in response.text
    typed = next(iter(data.values()))
    if typed:
        assert f'value="{typed}"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert product(app, pea) == (11, 400, 10, 1)  # nothing saved


def test_a_stale_form_gets_409_with_the_newer_values(app, auth, client, pea):
    auth.sign_in("manager")
    page = f"/catalogue/growing/{pea}/edit"
    first = auth.post(f"/catalogue/growing/{pea}", {
        "days_to_harvest": "12", "tray_yield_g": "420", "loss_pct": "10", "version": "1"},
        page=page, htmx=True)
    assert first.status_code == 200
    second = auth.post(f"/catalogue/growing/{pea}", {
        "days_to_harvest": "9", "tray_yield_g": "300", "loss_pct": "5", "version": "1"},
        page=page, htmx=True)
    assert second.status_code == 409
    assert "Someone else saved this product&#39;s growing data meanwhile" in second.text
    assert 'value="420"' in second.text and 'name="version" type="hidden" value="2"' in second.text
    assert product(app, pea) == (12, 420, 10, 2)


@pytest.mark.parametrize("role", ["sales", "finance", "delivery", "viewer"])
def test_other_roles_may_not_see_or_change_growing_data(app, auth, client, pea, role):
    auth.sign_in(role)
    assert client.get("/catalogue/growing").status_code == 403
    response = auth.post(f"/catalogue/growing/{pea}", {
        "days_to_harvest": "1", "tray_yield_g": "1", "loss_pct": "0", "version": "1"},
        page="/customers/")
    assert response.status_code == 403
    assert product(app, pea) == (11, 400, 10, 1)


def test_the_grower_may_not_reach_the_rest_of_the_catalogue(app, auth, client, pea):
    auth.sign_in("grower")
    assert client.get("/catalogue/").status_code == 403
    response = auth.post(f"/catalogue/products/{pea}/sizes", {"sizes": "1 g"},
                         page="/catalogue/growing")
    assert response.status_code == 403
