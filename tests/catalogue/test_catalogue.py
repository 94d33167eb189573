"""The catalogue: managers add products, packaging and routes, change sizes, retire items."""
from sqlalchemy import select

from crm.catalogue.models import Product
from crm.extensions import db
from crm.preferences.models import StandingItem
from tests import factories


def test_managers_add_and_retire_products_and_history_keeps_them(app, client, auth):
    with app.app_context():
        products, packaging = factories.catalogue()
        customer = factories.customer("Fern Cafe")
        db.session.add(StandingItem(customer_id=customer.id, product=products["Basil"],
                                    size="2 oz", quantity=3, packaging=packaging["2 oz clamshell"]))
        db.session.commit()
        basil, customer_id = products["Basil"].id, customer.id
    auth.sign_in("manager")
    page = client.get("/catalogue/")
    assert page.status_code == 200 and "Pea shoots" in page.text and "Returnable crate" in page.text
    added = auth.post("/catalogue/products", {"name": "Shiso", "sizes": "1 oz,  2 oz , 1 oz"},
                      page="/catalogue/")
    assert added.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Product.sizes).where(Product.name == "Shiso")) == "1 oz, 2 oz"
    retired = auth.post(f"/catalogue/products/{basil}/retire", page="/catalogue/")
    assert retired.status_code == 303
    tab = client.get(f"/customers/{customer_id}/preferences").text
    assert "Basil" in tab and "retired" in tab  # still on the customer's standing items
    adding = client.get(f"/customers/{customer_id}/preferences/items/edit").text
    assert f'<option value="{basil}">Basil</option>' not in adding  # not offered any more
    assert f'value="{basil}"' not in adding  # nor as a substitute
    auth.post(f"/catalogue/products/{basil}/restore", page="/catalogue/")
    with app.app_context():
        assert db.session.get(Product, basil).retired_at is None


def test_catalogue_bad_input(app, client, auth):
    with app.app_context():
        factories.catalogue()
    auth.sign_in("admin")
    duplicate = auth.post("/catalogue/products", {"name": "pea SHOOTS", "sizes": "2 oz"},
                          page="/catalogue/")
    assert duplicate.status_code == 422 and "There is already a product called pea SHOOTS" in duplicate.text
    no_sizes = auth.post("/catalogue/products", {"name": "Chervil", "sizes": " , "},
                         page="/catalogue/")
    assert no_sizes.status_code == 422 and "Give at least one size" in no_sizes.text
    route = auth.post("/catalogue/routes", {"route-name": "North"}, page="/catalogue/")
    assert route.status_code == 303
    again = auth.post("/catalogue/routes", {"route-name": "north"}, page="/catalogue/")
    assert again.status_code == 422 and "There is already a route called north" in again.text


def test_only_managers_and_admins_edit_the_catalogue(app, client, auth):
    auth.sign_in("sales")
    assert client.get("/catalogue/").status_code == 403
    assert 'href="/catalogue/"' not in client.get("/customers/").text
