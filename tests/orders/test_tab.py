"""The Orders tab: recent orders, a new order, an order from the standing items; each order
with its actions by status and role, credit reasons without amounts for sales, an override
for finance, 409 on a stale version, 404 for another customer's order."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from config import TestingConfig
from crm.common import SYSTEM
from crm.credit import services as credit
from crm.customers.models import Customer
from crm.extensions import db
from crm.orders import services as orders
from crm.orders.models import Order
from tests import factories
from tests.conftest import csrf_from, form_keys_from
from tests.customers.test_list import count_queries

HTMX = {"HX-Request": "true"}


def tomorrow():
    """The farm's tomorrow (farm_today() needs the app; tests ask outside requests too)."""
    return datetime.now(ZoneInfo(TestingConfig.FARM_TIMEZONE)).date() + timedelta(days=1)


def tab(shop):
    return f"/customers/{shop.customer_id}/orders"


def make_order(app, shop, quantity=10, customer_id=None, confirm=False):
    with app.app_context():
        customer = db.session.get(Customer, customer_id or shop.customer_id)
        order = orders.create_order(customer, tomorrow(), [shop.line(quantity=quantity)],
                                    actor=SYSTEM)
        if confirm:
            orders.confirm_order(order, actor=SYSTEM)
        db.session.commit()
        return order.id


def set_limit(app, shop, amount):
    with app.app_context():
        customer = db.session.get(Customer, shop.customer_id)
        credit.set_terms(customer, credit_limit=amount, terms="net14", version=None,
                         actor=SYSTEM)
        db.session.commit()


def version_of(html):
    return re.search(r'name="version" type="hidden" value="(\d+)"', html)[1]


def act(client, shop, order_id, action, data=None, htmx=False):
    url = f"{tab(shop)}/{order_id}"
    page = client.get(url).text
    body = {"csrf_token": csrf_from(page), "version": version_of(page), **(data or {})}
    return client.post(f"{url}/{action}", data=body, headers=HTMX if htmx else {})


def test_the_tab_lists_orders_and_offers_a_new_one(app, client, auth, shop):
    auth.sign_in("sales")
    order_id = make_order(app, shop)
    html = client.get(tab(shop)).text
    assert "<html" in html and 'aria-current="page">Orders</a>' in html
    assert f"ORD-{order_id:06d}" in html and "Draft" in html
    assert 'id="new-order-form"' in html and html.count('name="lines-') >= 5 * 4
    assert "$" not in html.split('id="tab-heading"')[1]  # sales sees no amounts
    fragment = client.get(tab(shop), headers=HTMX).text
    assert "<html" not in fragment and 'id="new-order-form"' in fragment


def test_creating_an_order_from_the_form(app, client, auth, shop):
    auth.sign_in("sales")
    data = {"delivery_date": tomorrow().isoformat(),
            "lines-0-product_id": shop.products["Pea shoots"], "lines-0-size": "4 oz",
            "lines-0-quantity": "12", "lines-0-packaging_id": shop.packaging["4 oz clamshell"],
            "lines-2-product_id": shop.products["Sunflower"], "lines-2-size": "2 oz",
            "lines-2-quantity": "3"}
    response = auth.post(tab(shop), data)
    assert response.status_code == 303
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert [(line.size, line.quantity) for line in order.lines] == [("4 oz", 12),
                                                                         ("2 oz", 3)]
        assert response.headers["Location"] == f"{tab(shop)}/{order.id}"
    page = client.get(response.headers["Location"]).text
    assert "created as a draft" in page and "Confirm order" in page


def test_a_bad_new_order_keeps_what_was_typed_with_errors_per_cell(app, client, auth, shop):
    auth.sign_in("sales")
    data = {"delivery_date": tomorrow().isoformat(),
            "lines-0-product_id": shop.products["Pea shoots"], "lines-0-size": "",
            "lines-0-quantity": "x", "lines-1-quantity": "4"}
    response = auth.post(tab(shop), data)
    assert response.status_code == 422
    html = response.text
    assert 'aria-invalid="true" id="lines-0-size"' in html
    assert 'aria-describedby="lines-0-quantity-error"' in html and 'value="x"' in html
    assert 'aria-describedby="lines-1-product_id-error"' in html and 'value="4"' in html
    assert "Line 1, size" in html
    with app.app_context():
        assert db.session.scalar(select(Order)) is None
    nothing = auth.post(tab(shop), {"delivery_date": tomorrow().isoformat()})
    assert nothing.status_code == 422 and "Add at least one line." in nothing.text


@pytest.mark.parametrize("role", ["delivery", "viewer", "grower"])
def test_delivery_and_viewer_roles_may_not_open_the_tab(app, client, auth, shop, role):
    order_id = make_order(app, shop)
    auth.sign_in(role)
    assert client.get(tab(shop)).status_code == 403
    assert client.get(f"{tab(shop)}/{order_id}").status_code == 403
    assert 'href="/customers/%d/orders"' % shop.customer_id not in client.get(
        f"/customers/{shop.customer_id}").text


def test_another_customers_order_is_not_found(app, client, auth, shop):
    auth.sign_in("admin")
    with app.app_context():
        other = factories.customer("Oak Bistro").id
    theirs = make_order(app, shop, customer_id=other)
    assert client.get(f"{tab(shop)}/{theirs}").status_code == 404
    token = csrf_from(client.get(tab(shop)).text)
    assert client.post(f"{tab(shop)}/{theirs}/confirm", data={"csrf_token": token,
                                                              "version": "1"}).status_code == 404
    assert client.get(f"/customers/{other}/orders/{theirs}").status_code == 200


def test_sales_sees_why_a_confirmation_is_blocked_without_amounts(app, client, auth, shop):
    set_limit(app, shop, 1000)  # $10; the order is $60
    order_id = make_order(app, shop)
    auth.sign_in("sales")
    response = act(client, shop, order_id, "confirm", htmx=True)
    assert response.status_code == 422 and "<html" not in response.text
    assert "This would take the account over its credit limit." in response.text
    assert "$" not in response.text
    assert "Confirm anyway" not in response.text  # sales may not override
    page = client.get(f"{tab(shop)}/{order_id}").text
    assert "This would take the account over its credit limit." in page  # kept on the draft
    assert "$" not in page.split('id="tab-heading"')[1]
    with app.app_context():
        assert db.session.get(Order, order_id).status == "draft"
    refused = act(client, shop, order_id, "confirm", {"override": "vouched"})
    assert refused.status_code == 403


def test_finance_sees_the_amounts_and_overrides_with_a_reason(app, client, auth, shop):
    set_limit(app, shop, 1000)
    order_id = make_order(app, shop)
    auth.sign_in("finance")
    blocked = act(client, shop, order_id, "confirm")
    assert blocked.status_code == 422
    assert "over the limit of $10.00" in blocked.text and "Confirm anyway" in blocked.text
    empty = act(client, shop, order_id, "confirm", {"override": "  "})
    assert empty.status_code == 422 and "Say why the order is confirmed" in empty.text
    done = act(client, shop, order_id, "confirm", {"override": "Owner vouched; pays Friday"},
               htmx=True)
    assert done.status_code == 200
    assert "confirmed past the credit block" in done.headers["HX-Trigger"]
    assert "Owner vouched; pays Friday" in done.text and "$60.00" in done.text
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert (order.status, order.override_reason) == ("confirmed",
                                                         "Owner vouched; pays Friday")


def test_a_warning_is_said_after_confirming(app, client, auth, shop):
    set_limit(app, shop, 6500)  # $60 of $65: near the limit
    order_id = make_order(app, shop)
    auth.sign_in("sales")
    done = act(client, shop, order_id, "confirm", htmx=True)
    assert done.status_code == 200
    trigger = done.headers["HX-Trigger"]
    assert "near its credit limit" in trigger and '"warning"' in trigger and "$" not in trigger


def test_a_stale_version_is_refused_with_the_order_as_it_is(app, client, auth, shop):
    order_id = make_order(app, shop)
    auth.sign_in("sales")
    url = f"{tab(shop)}/{order_id}"
    page = client.get(url).text
    with app.app_context():
        orders.cancel_order(db.session.get(Order, order_id), actor=SYSTEM)
        db.session.commit()
    response = client.post(f"{url}/confirm", data={"csrf_token": csrf_from(page),
                                                   "version": version_of(page)})
    assert response.status_code == 409
    assert "Someone else changed this order" in response.text and "Cancelled" in response.text
    assert "Reopen as a draft" in response.text


def test_the_life_of_an_order(app, client, auth, shop):
    order_id = make_order(app, shop)
    auth.sign_in("finance")
    assert act(client, shop, order_id, "confirm").status_code == 303
    assert act(client, shop, order_id, "deliver").status_code == 303
    invoiced = act(client, shop, order_id, "invoice", htmx=True)
    assert invoiced.status_code == 200 and "invoiced as INV-" in invoiced.headers["HX-Trigger"]
    assert "Invoiced" in invoiced.text and "Cancel order" not in invoiced.text
    page = client.get(f"{tab(shop)}/{order_id}").text
    duplicated = client.post(f"{tab(shop)}/{order_id}/duplicate", data={
        "csrf_token": csrf_from(page), **form_keys_from(page),
        "delivery_date": (tomorrow() + timedelta(days=7)).isoformat()})
    assert duplicated.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(Order).order_by(Order.id.desc())).status == "draft"


def test_sales_may_not_deliver_or_invoice(app, client, auth, shop):
    order_id = make_order(app, shop, confirm=True)
    auth.sign_in("sales")
    page = client.get(f"{tab(shop)}/{order_id}").text
    assert "Mark delivered" not in page and "Cancel order" in page
    assert act(client, shop, order_id, "deliver").status_code == 403


def test_changing_the_lines_of_a_draft(app, client, auth, shop):
    order_id = make_order(app, shop)
    auth.sign_in("sales")
    url = f"{tab(shop)}/{order_id}"
    page = client.get(url).text
    assert 'name="lines-0-quantity"' in page and 'name="lines-2-quantity"' in page
    response = client.post(f"{url}/lines", data={
        "csrf_token": csrf_from(page), "version": version_of(page),
        "lines-0-product_id": shop.products["Pea shoots"], "lines-0-size": "4 oz",
        "lines-0-quantity": "4", "lines-1-product_id": shop.products["Sunflower"],
        "lines-1-size": "4 oz", "lines-1-quantity": "2"}, headers=HTMX)
    assert response.status_code == 200 and "lines saved" in response.headers["HX-Trigger"]
    with app.app_context():
        assert [line.quantity for line in db.session.get(Order, order_id).lines] == [4, 2]


def test_standing_items_make_the_next_delivery_days_order(app, client, auth, shop):
    with app.app_context():
        from crm.preferences.models import StandingItem

        customer = db.session.get(Customer, shop.customer_id)
        factories.delivery_plan(customer, weekdays=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
                                                    "Sun"))
        db.session.add(StandingItem(customer_id=customer.id, product_id=shop.products[
            "Pea shoots"], size="4 oz", quantity=6, packaging_id=shop.packaging[
            "4 oz clamshell"]))
        db.session.commit()
    auth.sign_in("sales")
    html = client.get(tab(shop)).text
    assert f'name="delivery_date" value="{tomorrow().isoformat()}"' in html
    response = auth.post(f"{tab(shop)}/from-standing-items", {
        "delivery_date": tomorrow().isoformat()}, page=tab(shop))
    assert response.status_code == 303
    with app.app_context():
        order = db.session.scalar(select(Order))
        assert order.delivery_date == tomorrow() and order.lines[0].quantity == 6


def test_without_a_plan_the_standing_form_asks_for_a_date(app, client, auth, shop):
    with app.app_context():
        from crm.preferences.models import StandingItem

        db.session.add(StandingItem(customer_id=shop.customer_id, product_id=shop.products[
            "Pea shoots"], size="4 oz", quantity=6, packaging_id=shop.packaging[
            "4 oz clamshell"]))
        db.session.commit()
    auth.sign_in("sales")
    html = client.get(tab(shop)).text
    assert "choose the day" in html and 'type="date"' in html


def test_an_archived_customer_has_no_order_forms(app, client, auth, shop):
    order_id = make_order(app, shop)
    with app.app_context():
        from crm.customers.services import set_archived

        set_archived(db.session.get(Customer, shop.customer_id), True, actor=SYSTEM)
        db.session.commit()
    auth.sign_in("admin")
    html = client.get(tab(shop)).text
    assert "is archived; restore it to change it." in html
    assert 'id="new-order-form"' not in html
    page = client.get(f"{tab(shop)}/{order_id}").text
    assert "Confirm order" not in page and "is archived" in page
    token = csrf_from(page)
    refused = client.post(f"{tab(shop)}/{order_id}/confirm", data={"csrf_token": token,
                                                                   "version": "1"})
    assert refused.status_code == 409 and "is archived" in refused.text


@pytest.mark.parametrize("role", ["finance", "sales"])
def test_the_tab_reads_a_fixed_number_of_queries(app, client, auth, shop, role):
    auth.sign_in(role)

    def queries():
        with count_queries(app) as found:
            assert client.get(tab(shop)).status_code == 200
        return len(found)

    for _ in range(3):
        make_order(app, shop, confirm=True)
    few = queries()
    for _ in range(27):
        make_order(app, shop)
    assert queries() == few
