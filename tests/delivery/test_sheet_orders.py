"""A stop with a confirmed order for the day gets the order's lines instead of its standing
items, marked with the order's number; the totals count what each stop will get; a confirmed
order whose customer has no stop that day is listed apart; the statements stay the same."""
import random
from datetime import date

import pytest
from sqlalchemy import select

from crm.common import SYSTEM
from crm.customers.models import Customer
from crm.delivery.services import delivery_sheet
from crm.demo.bulk import bulk, bulk_stops
from crm.extensions import db
from crm.orders import services as orders
from crm.preferences.models import DeliveryPause, StandingItem
from crm.preferences.schedule import customers_delivering
from tests import factories
from tests.delivery.test_sheets import DAY, pdf_tool
from tests.orders.test_tab import count_queries

TUESDAY = date.fromisoformat(DAY)


def _order(customer, lines, status="confirmed", day=TUESDAY):
    order = orders.create_order(customer, day, [orders.Line(*line) for line in lines],
                                actor=SYSTEM)
    if status in ("confirmed", "delivered"):
        orders.confirm_order(order, actor=SYSTEM)
    if status == "delivered":
        orders.deliver_order(order, actor=SYSTEM)
    if status == "cancelled":
        orders.cancel_order(order, actor=SYSTEM)
    return order


@pytest.fixture
def ordered_day(app):
    """Fern Cafe (standing: 6 sunflower) has ORD for 10 pea shoots + 2 sunflower on DAY;
    Oak Bistro (standing: 4 sunflower) a draft only; Elm Deli delivers on Fridays only but has
    a confirmed order for DAY. Returns {name: id} and the order numbers."""
    with app.app_context():
        products, packaging = factories.catalogue()
        pea, sun = products["Pea shoots"], products["Sunflower"]
        orders.set_prices({(pea.id, "4 oz", "standard"): 600, (sun.id, "4 oz", "standard"): 500},
                          actor=SYSTEM)
        fern, oak, elm = (factories.customer(n) for n in ("Fern Cafe", "Oak Bistro", "Elm Deli"))
        factories.delivery_plan(fern, stop=1)
        factories.delivery_plan(oak, stop=2)
        factories.delivery_plan(elm, stop=3, weekdays=("Fri",))
        clam = packaging["4 oz clamshell"]
        for customer, qty in ((fern, 6), (oak, 4), (elm, 3)):
            db.session.add(StandingItem(customer_id=customer.id, product=sun, size="4 oz",
                                        quantity=qty, packaging=clam, substitutions_allowed=True))
        db.session.flush()
        fern_order = _order(fern, [(pea.id, "4 oz", 10, clam.id), (sun.id, "4 oz", 2, None)])
        _order(fern, [(pea.id, "4 oz", 99, clam.id)], status="cancelled")
        _order(oak, [(pea.id, "4 oz", 50, clam.id)], status="draft")
        elm_order = _order(elm, [(pea.id, "4 oz", 7, clam.id)])
        db.session.commit()
        return ({"fern": fern.id, "oak": oak.id, "elm": elm.id},
                {"fern": fern_order.number, "elm": elm_order.number})


def test_a_confirmed_order_replaces_the_standing_items_and_counts_in_the_totals(app, app_ctx,
                                                                               ordered_day):
    ids, numbers = ordered_day
    sheet = delivery_sheet(TUESDAY)
    fern, oak = sheet.routes["North"]
    assert fern.customer.id == ids["fern"] and [o.number for o in fern.orders] == [numbers["fern"]]
    assert [(i.quantity, i.product.name) for i in fern.items] == [(10, "Pea shoots"),
                                                                   (2, "Sunflower")]
    assert oak.orders == [] and [i.quantity for i in oak.items] == [4]  # a draft packs nothing
    assert len(oak.drafts) == 1 and fern.drafts == []  # but is said (ask before packing)
    assert sheet.totals == [("Pea shoots", "4 oz", "4 oz clamshell", 10),
                            ("Sunflower", "4 oz", "4 oz clamshell", 4),
                            ("Sunflower", "4 oz", "packaging not set", 2)]
    # Elm Deli delivers on Fridays: its order makes no stop, is listed apart, is not packed.
    assert [o.number for o in sheet.orders_without_stop] == [numbers["elm"]]
    north = delivery_sheet(TUESDAY, route=fern.plan.route)
    assert north.orders_without_stop == [] and north.totals == sheet.totals


def test_a_delivered_order_still_shows_and_a_paused_customer_has_no_stop(app, app_ctx,
                                                                        ordered_day):
    ids, numbers = ordered_day
    fern = db.session.get(Customer, ids["fern"])
    order = db.session.scalar(select(orders.Order).where(
        orders.Order.customer_id == fern.id, orders.Order.status == "confirmed"))
    orders.deliver_order(order, actor=SYSTEM)
    db.session.commit()
    stop = delivery_sheet(TUESDAY).routes["North"][0]
    assert stop.from_order and stop.orders[0].status == "delivered"
    db.session.add(DeliveryPause(customer_id=fern.id, starts_on=TUESDAY, ends_on=TUESDAY))
    db.session.commit()
    sheet = delivery_sheet(TUESDAY)
    assert [s.customer.id for s in sheet.routes["North"]] == [ids["oak"]]
    assert sorted(o.number for o in sheet.orders_without_stop) == sorted(numbers.values())
    assert ids["fern"] not in customers_delivering(TUESDAY)


def test_the_page_and_the_pdf_mark_the_order(app, client, auth, ordered_day, tmp_path):
    _, numbers = ordered_day
    auth.sign_in("delivery")
    html = client.get(f"/delivery/sheets?date={DAY}").text
    fern = html[html.index("Fern Cafe"):html.index("Oak Bistro")]
    assert f"Order {numbers['fern']}" in fern and "not the standing items" in fern
    assert "10 ×</strong> Pea shoots 4 oz · 4 oz clamshell" in fern
    assert "2 ×</strong> Sunflower 4 oz · packaging not set" in fern
    assert "6 ×" not in fern and "if short" not in fern  # neither the standing item nor a guess
    oak = html[html.index("Oak Bistro"):html.index("Packing totals")]
    assert "4 ×</strong> Sunflower" in oak and "if short: any substitute" in oak
    assert "not confirmed</strong> · ask the office before packing the standing items" in oak
    assert "not confirmed" not in fern
    assert "Confirmed orders with no stop" in html and numbers["elm"] in html
    assert "$" not in html  # the order's prices stay off the driver's sheet
    pdf = client.get(f"/delivery/sheets.pdf?date={DAY}")
    text = pdf_tool("pdftotext", pdf.data, tmp_path)
    assert f"Order {numbers['fern']}" in text and "packaging not set" in text
    assert "Confirmed orders with no stop" in text


def _statements(app, day):
    with count_queries(app) as found:
        sheet = delivery_sheet(day)
        for stops in sheet.routes.values():  # what the template reads, too
            for stop in stops:
                for item in stop.items:
                    (item.product.name, item.packaging and item.packaging.name)
                for order in stop.orders:
                    (order.number, order.lines)
                (stop.address, stop.receiver and stop.receiver.primary_phone)
        for order in sheet.orders_without_stop:
            (order.customer.name, order.lines)
    return len(found), sheet


def test_a_500_stop_sheet_with_orders_runs_the_statements_of_a_small_one(app, app_ctx,
                                                                         ordered_day):
    """The orders are one statement for the whole sheet. (The customers' addresses and people
    are selected in per 500 customers: past 500 stops, one statement more per 500.)"""
    small, sheet = _statements(app, TUESDAY)
    assert sum(map(len, sheet.routes.values())) == 2
    sunday = date(2026, 11, 29)
    rng = random.Random(7)
    bulk(1200, rng, echo=lambda *a: None)  # about half of them active
    stops = bulk_stops(500, sunday, rng)
    assert len(stops) == 500
    prices = {(i.product_id, i.size, "standard"): 300 for i in db.session.scalars(
        select(StandingItem).where(StandingItem.customer_id.in_(stops)))}
    orders.set_prices(prices, actor=SYSTEM)
    customers = db.session.scalars(select(Customer).where(Customer.id.in_(stops[::5]))).all()
    for customer in customers:  # every fifth stop has its order
        orders.confirm_order(orders.from_standing_items(customer, sunday, actor=SYSTEM),
                             actor=SYSTEM)
    db.session.commit()
    big, sheet = _statements(app, sunday)
    assert sum(map(len, sheet.routes.values())) == 500
    assert sum(bool(s.orders) for stops in sheet.routes.values() for s in stops) == 100
    assert big == small
