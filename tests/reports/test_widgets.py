"""Each widget's numbers against data made by hand through the services (issue 17, item 1)."""
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from crm.auth.models import StaffUser
from crm.common import SYSTEM
from crm.communications.services import log_interaction, open_ticket
from crm.credit.services import farm_aging, issue_invoice
from crm.extensions import db
from crm.preferences.models import StandingItem
from crm.reports import widgets as w
from crm.segments.models import CustomerCategory
from crm.segments.services import create_segment
from tests import factories

TODAY = date(2026, 6, 15)
ADMIN = SimpleNamespace(role="admin", id=None, is_authenticated=True)
SALES = SimpleNamespace(role="sales", id=None, is_authenticated=True)


@pytest.fixture
def ctx(app):
    with app.test_request_context():
        yield
        db.session.remove()


def invoice(customer, on, *lines):
    made = issue_invoice(customer, list(lines), actor=SYSTEM, issue_date=on)
    db.session.commit()
    return made


@pytest.fixture
def sales_book(ctx):
    """Invoices this year and last: restaurant Fern and grocer Oak."""
    factories.catalogue()
    fern = factories.customer("Fern", kind="restaurant")
    oak = factories.customer("Oak", kind="grocer")
    invoice(fern, date(2026, 3, 2), ("Pea shoots 1 lb", 1, 3000))
    invoice(oak, date(2026, 3, 20), ("Radish 4 oz", 2, 1000))
    invoice(fern, date(2026, 6, 10), ("Pea shoots 1 lb", 1, 1000))
    invoice(fern, date(2025, 1, 5), ("Mystery box", 1, 1000))
    invoice(oak, date(2025, 3, 9), ("Radish 4 oz", 4, 1000))
    invoice(fern, date(2025, 6, 20), ("Pea shoots 1 lb", 1, 500))  # after this day last year
    return fern, oak


def test_revenue_by_month_this_year_against_last(sales_book):
    data = w.revenue_by_month(None, TODAY, ADMIN)
    assert data["this"][:6] == [0, 0, 5000, 0, 0, 1000]
    assert data["last"][:6] == [1000, 0, 4000, 0, 0, 500]
    assert data["last_ytd"] == 5000  # 1 Jan – 15 Jun 2025: not the 20 June invoice
    shown = w.present_revenue_by_month(data, None, ADMIN)
    assert shown["total"] == 6000 and shown["change"] == 20
    summary = shown["chart"].summary
    assert "up 20 %" in summary and "best month Mar" in summary
    assert [row[0] for row in shown["chart"].rows] == ["Jan", "Feb", "Mar", "Apr", "May", "Jun"]
    assert shown["chart"].rows[2] == ["Mar", "$50.00", "$40.00"]


def test_revenue_by_product_maps_lines_to_the_catalogue(sales_book):
    assert w.revenue_by_product("this_year", TODAY, ADMIN)["items"] == [
        ["Pea shoots", 4000], ["Radish", 2000]]
    last = w.revenue_by_product("last_year", TODAY, ADMIN)["items"]
    assert last == [["Radish", 4000], ["Other", 1000], ["Pea shoots", 500]]
    assert w.revenue_by_product("this_month", TODAY, ADMIN)["items"] == [["Pea shoots", 1000]]


def test_revenue_by_kind_and_top_customers(sales_book):
    fern, oak = sales_book
    assert w.revenue_by_kind("this_year", TODAY, ADMIN)["items"] == [
        ["restaurant", 4000], ["grocer", 2000]]
    shown = w.present_revenue_by_kind(w.revenue_by_kind("this_year", TODAY, ADMIN),
                                      "this_year", ADMIN)
    assert shown["chart"].rows[0] == ["Restaurant", "$40.00", "67 %"]
    assert shown["chart"].links[0] == "/customers/?kind=restaurant"
    assert w.top_customers("last_year", TODAY, ADMIN)["items"] == [[oak.id, 4000],
                                                                    [fern.id, 1500]]


def test_money_widgets_refuse_a_role_without_amounts(sales_book):
    data = w.revenue_by_kind("this_year", TODAY, ADMIN)
    with pytest.raises(PermissionError):
        w.present_revenue_by_kind(data, "this_year", SALES)


def test_customers_by_status_and_kind(ctx):
    factories.customer(kind="restaurant", status="active")
    factories.customer(kind="restaurant", status="active")
    factories.customer(kind="grocer", status="lead")
    factories.customer(kind="grocer", status="churned")
    shown = w.present_customers_by_status_kind(
        w.customers_by_status_kind(None, TODAY, ADMIN), None, ADMIN)
    assert shown["total"] == 4
    assert shown["chart"].rows == [["Lead", "1", "25 %"], ["Active", "2", "50 %"],
                                   ["Churned", "1", "25 %"]]
    assert shown["chart"].links[1] == "/customers/?status=active"
    assert shown["chart"].summary.startswith("4 customers, 2 of them active (50 %)")


def test_new_and_lost_in_the_period(ctx):
    from crm.common import farm_today

    today = farm_today()
    factories.customer(status="active")
    gone = factories.customer(status="churned")
    old = factories.customer(status="active")
    old.created_at = datetime(2020, 1, 1, tzinfo=timezone.utc)
    db.session.commit()
    assert w.new_and_lost("this_month", today, ADMIN) == {"new": 2, "lost": 1}
    gone.updated_at = old.updated_at = datetime(2020, 1, 1, tzinfo=timezone.utc)
    db.session.commit()
    assert w.new_and_lost("last_month", today, ADMIN) == {"new": 0, "lost": 0}


def test_ar_aging_is_the_farms_aging(ctx):
    from crm.common import farm_today

    today = farm_today()
    fern = factories.customer("Fern")
    invoice(fern, today - timedelta(days=50), ("Pea shoots 1 lb", 1, 2000))  # 36 days late
    invoice(fern, today, ("Radish 4 oz", 1, 700))  # not yet due
    data = w.ar_aging(None, today, ADMIN)
    assert data["buckets"] == farm_aging(today)["buckets"]
    assert data["buckets"]["31-60"] == 2000 and data["buckets"]["current"] == 700
    shown = w.present_ar_aging(data, None, ADMIN)
    assert shown["chart"].rows[0] == ["Not yet due", "$7.00"]
    assert "owed $27.00; $20.00 of it is overdue" in shown["chart"].summary


def test_overdue_follow_ups_are_the_users_own(app, ctx, auth):
    me = db.session.get(StaffUser, auth.make_user("sales"))
    other = db.session.get(StaffUser, auth.make_user("manager"))
    fern = factories.customer("Fern")
    for due, who in ((TODAY - timedelta(days=3), me), (TODAY - timedelta(days=1), me),
                     (TODAY, me), (TODAY - timedelta(days=5), other)):
        log_interaction(fern, {"channel": "call", "direction": "outbound", "subject": "Call",
                               "occurred_at": datetime(2026, 6, 1, tzinfo=timezone.utc),
                               "follow_up_due": due, "follow_up_assignee_id": who.id},
                        actor=who.actor)
    db.session.commit()
    data = w.overdue_follow_ups(None, TODAY, me)
    assert (data["overdue"], data["today"]) == (2, 1)
    assert [d for _, d in data["oldest"]] == ["2026-06-12", "2026-06-14"]


def test_open_tickets(app, ctx, auth):
    me = db.session.get(StaffUser, auth.make_user("sales"))
    fern = factories.customer("Fern")
    for _ in range(3):
        open_ticket(fern, {"subject": "Wilted", "body": "x", "direction": "inbound",
                           "occurred_at": datetime(2026, 6, 1, tzinfo=timezone.utc)},
                    actor=me.actor)
    db.session.commit()
    from crm.communications.models import Ticket

    db.session.scalars(select(Ticket)).first().status = "pending"
    db.session.commit()
    data = w.open_tickets(None, TODAY, me)
    assert (data["open"], data["pending"], len(data["oldest"])) == (2, 1, 3)


def test_churn_risk_counts_and_the_list(ctx):
    a, b, c = (factories.customer(n) for n in ("A", "B", "C"))
    for customer, risk, days, cadence in ((a, "high", 40, 7), (b, "high", 90, 10),
                                          (c, "rising", 20, 10)):
        db.session.add(CustomerCategory(customer_id=customer.id, computed_on=TODAY,
                                        churn_risk=risk, days_since_order=days,
                                        cadence_days=cadence))
    db.session.commit()
    data = w.churn_risk(None, TODAY, ADMIN)
    assert data["counts"] == {"high": 2, "rising": 1}
    assert [row[0] for row in data["high"]] == [b.id, a.id]  # 9 × cadence before 5.7 ×


def test_deliveries_per_route_and_weekday(ctx):
    factories.delivery_plan(factories.customer(), "North", ("Tue", "Fri"))
    factories.delivery_plan(factories.customer(), "North", ("Tue",))
    factories.delivery_plan(factories.customer(), "South", ("Mon",))
    factories.delivery_plan(factories.customer(status="paused"), "South", ("Mon",))
    data = w.deliveries_by_route(None, TODAY, ADMIN)
    counts = {route: days for route, days in data["routes"]}
    shown = w.present_deliveries_by_route(data, None, ADMIN)
    by_name = {r["name"]: [c["n"] for c in r["cells"]] for r in shown["rows"]}
    assert by_name == {"North": [0, 2, 0, 0, 1, 0, 0], "South": [1, 0, 0, 0, 0, 0, 0]}
    assert len(counts) == 2 and shown["totals"][1] == 2
    tuesday = shown["rows"][0]["cells"][1]["link"]
    assert tuesday.startswith("/delivery/sheets?date=") and "route=North" in tuesday


def test_packaging_mix(ctx):
    products, packaging = factories.catalogue()
    fern, oak = factories.customer(), factories.customer()
    pea, clam, bag = products["Pea shoots"], packaging["2 oz clamshell"], packaging["1 lb bulk bag"]
    for customer, pack, qty in ((fern, clam, 4), (oak, clam, 6), (oak, bag, 2)):
        db.session.add(StandingItem(customer_id=customer.id, product_id=pea.id, size="2 oz",
                                    quantity=qty, packaging_id=pack.id))
    db.session.commit()
    shown = w.present_packaging_mix(w.packaging_mix("this_month", TODAY, ADMIN), "this_month",
                                    ADMIN)
    assert shown["chart"].rows == [["2 oz clamshell", "10", "0"], ["1 lb bulk bag", "2", "0"]]


def test_segment_counts_link_to_the_filtered_list(app, ctx, auth):
    me = db.session.get(StaffUser, auth.make_user("sales"))
    factories.customer(kind="grocer")
    factories.customer(kind="grocer")
    factories.customer(kind="restaurant")
    grocers = create_segment("Grocers", {"match": "all", "rules": [
        {"field": "kind", "op": "in", "value": ["grocer"]}]}, shared=False, user=me,
        actor=me.actor)
    db.session.commit()
    data = w.segment_counts(None, TODAY, None)
    assert data["counts"] == {str(grocers.id): 2}
    shown = w.present_segment_counts(data, None, me)
    assert shown["chart"].rows == [["Grocers", "2"]]
    assert shown["chart"].links == [f"/customers/?segment={grocers.id}"]
    # a segment saved after the count was kept is counted when shown
    create_segment("All restaurants", {"match": "all", "rules": [
        {"field": "kind", "op": "in", "value": ["restaurant"]}]}, shared=False, user=me,
        actor=me.actor)
    db.session.commit()
    shown = w.present_segment_counts(data, None, me)
    assert shown["chart"].rows == [["All restaurants", "1"], ["Grocers", "2"]]


def test_periods():
    assert w.period_range("this_month", TODAY) == (date(2026, 6, 1), TODAY)
    assert w.period_range("last_month", TODAY) == (date(2026, 5, 1), date(2026, 5, 31))
    assert w.period_range("last_12_months", TODAY) == (date(2025, 6, 16), TODAY)
    assert w.period_range("last_year", TODAY) == (date(2025, 1, 1), date(2025, 12, 31))
    assert w.same_day_last_year(date(2028, 2, 29)) == date(2027, 2, 28)
    with pytest.raises(ValueError):
        w.period_range("forever", TODAY)
    assert w.WIDGETS["top_customers"].period_or_default("forever") == "last_12_months"
