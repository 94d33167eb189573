"""Each report's rows against small hand-computed data, and parameter validation."""
from datetime import date, datetime, timezone

import pytest

from crm.common import SYSTEM
from crm.credit.services import issue_invoice, record_payment
from crm.extensions import db
from crm.reports.catalog import ReportError, get_report, validate
from tests import factories


def _user(role):
    from sqlalchemy import select

    from crm.auth.models import StaffUser
    from crm.auth.services import create_user

    found = db.session.scalar(select(StaffUser).where(StaffUser.role == role))
    if found is not None:
        return found
    user = create_user(f"{role}-rows@farm.test", f"{role.title()} Rows", role, "x" * 12,
                       actor=SYSTEM)
    db.session.commit()
    return user


def _rows(key, params, role="admin"):
    user = _user(role)
    report = get_report(key)
    return list(report.rows(validate(report, params, user), user))


@pytest.fixture
def invoiced(app_ctx):
    a = factories.customer("Alder Bistro")
    b = factories.customer("Birch Grocer")
    issue_invoice(a, [("Pea shoots 4 oz", 2, 500), ("Radish 2 oz", 1, 300)], actor=SYSTEM,
                  issue_date=date(2026, 10, 5), due_date=date(2026, 10, 19))
    issue_invoice(a, [("Pea shoots 4 oz", 3, 500)], actor=SYSTEM,
                  issue_date=date(2026, 11, 2), due_date=date(2026, 11, 16))
    issue_invoice(b, [("Radish 2 oz", 4, 300)], actor=SYSTEM,
                  issue_date=date(2026, 11, 20), due_date=date(2026, 12, 4))
    issue_invoice(b, [("Sunflower 1 lb", 1, 2000)], actor=SYSTEM,  # outside the period
                  issue_date=date(2026, 12, 1), due_date=date(2026, 12, 15))
    db.session.commit()
    return a, b


PERIOD = {"from": "2026-10-01", "to": "2026-11-30"}


def test_sales_by_customer_product_and_month(invoiced):
    a, b = invoiced
    assert _rows("sales", {**PERIOD, "group": "customer"}) == [
        (a.number, "Alder Bistro", 2, 3, "28.00"),  # 10.00 + 3.00 + 15.00
        (b.number, "Birch Grocer", 1, 1, "12.00")]
    assert _rows("sales", {**PERIOD, "group": "product"}) == [
        ("Pea shoots 4 oz", 2, 5, "25.00"), ("Radish 2 oz", 2, 5, "15.00")]
    assert _rows("sales", {**PERIOD, "group": "month"}) == [
        ("2026-10", 1, 2, "13.00"), ("2026-11", 2, 2, "27.00")]


def test_aging_lists_open_invoices_in_their_buckets(invoiced):
    a, b = invoiced
    # 8.00 paid by Alder: the oldest invoice (13.00) has 5.00 left
    record_payment(a, 800, method="cash", received_on=date(2026, 11, 1), actor=SYSTEM)
    db.session.commit()
    rows = _rows("aging", {"as_of": "2026-11-25"})
    assert [(r[0][-5:], r[1], r[6], r[7], r[8]) for r in rows] == [
        ("00001", a.number, "5.00", 37, "31-60"),
        ("00002", a.number, "15.00", 9, "1-30"),
        ("00003", b.number, "12.00", 0, "current")]  # the December invoice is not issued yet


def test_interactions_by_staff_member(app_ctx):
    from crm.communications.models import Interaction

    customer = factories.customer()
    zoe, max_ = _user("sales"), _user("manager")
    def log(who, channel, day, deleted=False):
        db.session.add(Interaction(
            customer_id=customer.id, channel=channel, direction="outbound",
            occurred_at=datetime(2026, 11, day, 15, tzinfo=timezone.utc),
            logged_by_kind="staff", logged_by_id=who.id,
            deleted_at=datetime(2026, 11, 28, tzinfo=timezone.utc) if deleted else None))
    for args in ((zoe, "call", 3), (zoe, "call", 4), (zoe, "email", 5), (max_, "visit", 6),
                 (max_, "visit", 6, True), (zoe, "call", 30)):
        log(*args)
    db.session.commit()
    report = get_report("interactions")
    params = validate(report, {"from": "2026-11-01", "to": "2026-11-29"}, zoe)
    assert list(report.rows(params, zoe)) == [
        ("Manager Rows", "visit", 1), ("Sales Rows", "call", 2), ("Sales Rows", "email", 1)]


def test_delivery_volumes_by_route(app_ctx):
    factories.catalogue()
    factories.delivery_plan(factories.customer(), route_name="North", weekdays=("Tue", "Fri"))
    factories.delivery_plan(factories.customer(), route_name="North", weekdays=("Tue",))
    factories.delivery_plan(factories.customer(status="churned"), route_name="North",
                            weekdays=("Tue",))
    db.session.commit()
    assert _rows("deliveries", {}) == [("North", "Tuesday", 2, 0), ("North", "Friday", 1, 0)]


@pytest.mark.parametrize(("key", "params", "message"), [
    ("sales", {"from": "2026-11-30", "to": "2026-11-01"}, "ends before it starts"),
    ("sales", {"from": "1970-01-01", "to": "2026-11-01"}, "longer than five years"),
    ("sales", {"from": "yesterday", "to": "2026-11-01"}, "YYYY-MM-DD"),
    ("sales", {"from": "2026-11-01", "to": "2026-11-30", "group": "colour"}, "by customer"),
    ("sales", {"from": "2026-11-01", "to": "2026-11-30", "limit": "5"}, "no parameter “limit”"),
    ("aging", {"as_of": "2026-13-01"}, "YYYY-MM-DD"),
    ("segment", {"segment": "999999"}, "one of your segments"),
])
def test_bad_parameters_are_refused_with_a_message(app_ctx, key, params, message):
    with pytest.raises(ReportError, match=message):
        _rows(key, params)


def test_an_unknown_report_is_refused(app_ctx):
    with pytest.raises(ReportError, match="no such report"):
        get_report("payroll")


def test_csv_cells_are_formula_safe_but_numbers_stay_numbers():
    from crm.reports.runs import _cell

    assert [_cell(v) for v in ("=HYPERLINK(1)", "+1", "@x", "-12.50", "Alder", 7, None)] == [
        "'=HYPERLINK(1)", "'+1", "'@x", "-12.50", "Alder", 7, ""]
