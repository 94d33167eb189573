"""The price list page: a money field per product size and tier, each bad cell marked with its
own error and nothing saved; a good save says how many prices changed."""
import re

from sqlalchemy import func, select

from crm.extensions import db
from crm.orders.forms import cell_name
from crm.orders.models import Price
from crm.orders.services import price_list
from tests.orders.conftest import PEA, SUNFLOWER

HTMX = {"HX-Request": "true"}


def cells(html):
    """{field name: value} of every money cell on the page."""
    return dict(re.findall(r'<input[^>]*name="(p\d+-\w+-[0-9a-f]+)"[^>]*value="([^"]*)"', html))


def form_of(client):
    html = client.get("/prices").text
    data = dict(re.findall(r'name="(csrf_token|seen)" type="hidden" value="([^"]*)"', html))
    return html, {**cells(html), **data}


def price_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Price))


def test_the_page_has_a_labelled_cell_per_size_and_tier(client, auth, shop):
    auth.sign_in("manager")
    html = client.get("/prices").text
    assert "<html" in html and "<h1>Prices</h1>" in html  # opened from the catalogue
    pea_4oz = cell_name(shop.products[PEA], "4 oz", "standard")
    assert cells(html)[pea_4oz] == "6.00"
    assert cells(html)[cell_name(shop.products[PEA], "4 oz", "wholesale")] == ""
    assert re.search(rf'<label class="visually-hidden" for="{pea_4oz}">Pea shoots 4 oz, '
                     r'standard price</label>', html)
    assert len(cells(html)) == 14 * 3 * 3  # the starting catalogue: 14 products, 3 sizes
    assert "Last changed" in html


def test_bad_cells_are_marked_each_and_nothing_is_saved(app, client, auth, shop):
    auth.sign_in("manager")
    _, data = form_of(client)
    before = price_count(app)
    comma = cell_name(shop.products[PEA], "2 oz", "standard")
    negative = cell_name(shop.products[SUNFLOWER], "2 oz", "restaurant")
    decimals = cell_name(shop.products[PEA], "1 lb", "wholesale")
    good = cell_name(shop.products[SUNFLOWER], "1 lb", "standard")
    data.update({comma: "12,50", negative: "-5", decimals: "1.234", good: "20.00"})
    response = client.post("/prices", data=data, headers={"X-CSRFToken": data["csrf_token"]})
    assert response.status_code == 422
    html = response.text
    for name, typed in ((comma, "12,50"), (negative, "-5"), (decimals, "1.234"),
                        (good, "20.00")):
        assert cells(html)[name] == typed  # what was typed is kept
    for name in (comma, negative, decimals):
        assert re.search(rf'<input aria-describedby="{name}-error" aria-invalid="true" '
                         rf'autocomplete="off" id="{name}"', html), name
        assert f'id="{name}-error"' in html
    assert "&#39;12,50&#39; is not an amount" in html
    assert "A price cannot be negative." in html
    assert "At most 2 decimals" in html
    assert f'aria-invalid="true" autocomplete="off" id="{good}"' not in html
    assert html.count('class="cell-error"') == 3
    assert price_count(app) == before  # nothing saved, not even the good cell


def test_a_good_save_says_how_many_changed_and_applies_from_now_on(app, client, auth, shop):
    auth.sign_in("manager")
    _, data = form_of(client)
    pea = cell_name(shop.products[PEA], "4 oz", "standard")
    sunflower = cell_name(shop.products[SUNFLOWER], "4 oz", "standard")
    new = cell_name(shop.products[PEA], "4 oz", "restaurant")
    data.update({pea: "$6.50", sunflower: "", new: "7"})
    response = client.post("/prices", data=data, headers={"X-CSRFToken": data["csrf_token"]},
                           follow_redirects=True)
    assert response.status_code == 200
    assert "3 prices changed. Orders created from now on use them." in response.text
    with app.app_context():
        now = price_list()
        assert now[(shop.products[PEA], "4 oz", "standard")] == 650
        assert now[(shop.products[PEA], "4 oz", "restaurant")] == 700
        assert (shop.products[SUNFLOWER], "4 oz", "standard") not in now  # no longer sold
    assert cells(response.text)[pea] == "6.50"


def test_htmx_save_answers_the_form_with_a_toast(client, auth, shop):
    auth.sign_in("admin")
    _, data = form_of(client)
    data[cell_name(shop.products[PEA], "2 oz", "standard")] = "3.25"
    response = client.post("/prices", data=data, headers={**HTMX, "X-CSRFToken":
                                                          data["csrf_token"]})
    assert response.status_code == 200 and "<html" not in response.text
    assert response.text.lstrip().startswith('<section class="card price-list" id="price-list"')
    assert "1 price changed." in response.headers["HX-Trigger"]


def test_a_list_changed_meanwhile_is_refused_with_what_was_typed(app, client, auth, shop):
    auth.sign_in("manager")
    _, data = form_of(client)
    mine = cell_name(shop.products[PEA], "2 oz", "standard")
    data[mine] = "3.00"
    with app.app_context():
        from crm.common import SYSTEM
        from crm.orders.services import set_prices

        set_prices({(shop.products[SUNFLOWER], "2 oz", "standard"): 300}, actor=SYSTEM)
        db.session.commit()
    before = price_count(app)
    response = client.post("/prices", data=data, headers={"X-CSRFToken": data["csrf_token"]})
    assert response.status_code == 409
    assert "Someone else changed the price list" in response.text
    assert cells(response.text)[mine] == "3.00"
    assert price_count(app) == before
    again = dict(data, seen=re.search(r'name="seen" type="hidden" value="(\d+)"',
                                      response.text)[1])
    assert client.post("/prices", data=again, headers={"X-CSRFToken": data["csrf_token"]}
                       ).status_code == 303  # saving again replaces theirs


def test_only_managers_and_admins_see_prices(client, auth, shop):
    auth.sign_in("finance")
    assert client.get("/prices").status_code == 403
    assert 'href="/prices"' not in client.get("/customers/").text
