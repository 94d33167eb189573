"""Computed categories (crm.segments.categories.refresh), against hand-computed expectations."""
from datetime import date, datetime, time, timedelta, timezone

import pytest
from sqlalchemy import select

from crm.common import SYSTEM, utcnow
from crm.communications.models import Interaction
from crm.credit.services import issue_invoice, settle_invoice
from crm.extensions import db
from crm.orders.models import Order
from crm.segments.categories import refresh
from crm.segments.models import CustomerCategory
from tests import factories

TODAY = date(2026, 6, 30)


@pytest.fixture
def ctx(app_ctx):
    return app_ctx


def customer(**fields):
    return factories.customer(contact=False, address=False, **fields)


def invoice(c, total, on=TODAY - timedelta(days=10)):
    made = issue_invoice(c, [("Pea shoots", 1, total)], actor=SYSTEM, issue_date=on)
    db.session.commit()
    return made


def orders(c, *days_ago, status="delivered"):
    for n in days_ago:
        db.session.add(Order(customer_id=c.id, delivery_date=TODAY - timedelta(days=n),
                             status=status, created_by_kind="system"))
    db.session.commit()


def talks(c, *days_ago, channel="call", deleted=False):
    for n in days_ago:
        when = datetime.combine(TODAY - timedelta(days=n), time(12), timezone.utc)
        db.session.add(Interaction(customer_id=c.id, channel=channel, direction="outbound",
                                   occurred_at=when, logged_by_kind="system",
                                   deleted_at=utcnow() if deleted else None))
    db.session.commit()


def rows(today=TODAY):
    stats = refresh(today)
    db.session.commit()
    return stats, {r.customer_id: r for r in db.session.scalars(select(CustomerCategory))}


def test_value_tiers_the_customer_crossing_80_per_cent_is_in_a(ctx):
    # revenues 500, 300, 100, 60, 40 (total 1000): before = 0, 500, 800, 900, 960
    made = [customer() for _ in range(6)]
    for c, amount in zip(made, (50000, 30000, 10000, 6000, 4000)):
        invoice(c, amount)
    stats, got = rows()
    assert [got[c.id].value_tier for c in made] == ["A", "A", "B", "B", "C", None]
    assert [got[c.id].revenue_12m for c in made] == [50000, 30000, 10000, 6000, 4000, 0]
    assert stats["tiers"] == {"A": 2, "B": 2, "C": 1, "none": 1}


def test_value_tier_crossing_inside_a_customer_and_ties_share_a_tier(ctx):
    # 700, 200, 50, 50 (total 1000): 700 alone is below 80 %, 200 crosses it -> A;
    # the two of 50 have before = 900 each (< 950) -> both B, though 900 + 50 reaches 95 %.
    made = [customer() for _ in range(4)]
    for c, amount in zip(made, (70000, 20000, 5000, 5000)):
        invoice(c, amount)
    _, got = rows()
    assert [got[c.id].value_tier for c in made] == ["A", "A", "B", "B"]


def test_revenue_counts_12_months_less_credit_notes(ctx):
    c, old = customer(), customer()
    invoice(c, 10000, on=TODAY)  # today: in
    invoice(c, 5000, on=TODAY - timedelta(days=364))  # the window's first day: in
    invoice(old, 9000, on=TODAY - timedelta(days=365))  # one day too old
    credited = invoice(c, 4000, on=TODAY - timedelta(days=30))
    settle_invoice(credited, 1500, kind="credit_note", memo="Wilted", actor=SYSTEM)
    db.session.commit()
    _, got = rows()
    assert got[c.id].revenue_12m == 10000 + 5000 + 4000 - 1500
    assert got[old.id].revenue_12m == 0 and got[old.id].value_tier is None


@pytest.mark.parametrize(("days_ago", "cadence"), [
    ((1, 8, 15, 29), 7),  # gaps 7, 7, 14: odd -> the middle one
    ((1, 8, 22), 11),  # gaps 7, 14: even -> (7 + 14) / 2 = 10.5, half up -> 11
    ((0, 6), 6),  # one gap
    # 13 order days: only the last 10 gaps count (gaps 2 x 10, then 30 x 2 ignored)
    (tuple(range(0, 21, 2)) + (50, 80), 2),
    # 12 order days, last 10 gaps 3,3,3,3,3,9,9,9,9,9 -> (3 + 9) / 2 = 6; the 11th gap (100)
    # would move the median to 9 if it counted
    ((0, 3, 6, 9, 12, 15, 24, 33, 42, 51, 60, 160), 6),
])
def test_cadence_is_the_median_of_the_last_10_gaps(ctx, days_ago, cadence):
    c = customer()
    orders(c, *days_ago)
    _, got = rows()
    assert got[c.id].cadence_days == cadence
    assert got[c.id].last_order_on == TODAY - timedelta(days=min(days_ago))
    assert got[c.id].days_since_order == min(days_ago)


def test_cadence_counts_order_days_of_real_orders_only(ctx):
    c, one, none = customer(), customer(), customer()
    orders(c, 20, 10)
    orders(c, 10)  # a second order the same day: still one order day
    orders(c, 15, status="draft")
    orders(c, 5, status="cancelled")
    orders(c, -3, status="confirmed")  # tomorrow and later: not yet
    orders(one, 4, status="invoiced")
    _, got = rows()
    assert got[c.id].cadence_days == 10 and got[c.id].days_since_order == 10
    assert got[c.id].orders_12m == 3
    assert got[one.id].cadence_days is None and got[one.id].churn_risk is None
    assert got[one.id].days_since_order == 4
    assert got[none.id].last_order_on is None and got[none.id].churn_risk is None


@pytest.mark.parametrize(("since", "risk"), [
    (0, "low"), (15, "low"), (16, "rising"), (30, "rising"), (31, "high")])
def test_churn_risk_against_the_customers_own_cadence(ctx, since, risk):
    c = customer()
    orders(c, since, since + 10, since + 20)  # cadence 10
    _, got = rows()
    assert got[c.id].cadence_days == 10
    assert got[c.id].churn_risk == risk


def test_churn_thresholds_with_an_odd_cadence(ctx):
    # cadence 7: 1.5 x 7 = 10.5 -> 10 low, 11 rising; 3 x 7 = 21 rising, 22 high
    made = {}
    for since in (10, 11, 21, 22):
        made[since] = customer()
        orders(made[since], since, since + 7)
    _, got = rows()
    assert {s: got[c.id].churn_risk for s, c in made.items()} == {
        10: "low", 11: "rising", 21: "rising", 22: "high"}


@pytest.mark.parametrize(("count", "level"), [
    (0, "none"), (1, "low"), (2, "low"), (3, "medium"), (5, "medium"), (6, "high")])
def test_engagement_from_interactions_of_the_last_90_days(ctx, count, level):
    c = customer()
    talks(c, *range(count))
    talks(c, 90, 120)  # too old (the window is today - 89 ... today)
    talks(c, 1, deleted=True)
    talks(c, 1, channel="note")  # an internal note is not being in touch
    _, got = rows()
    assert got[c.id].interactions_90d == count
    assert got[c.id].engagement == level


def test_rfm_quintiles_on_a_tiny_set(ctx):
    # 7 customers with orders: NTILE(5) fifths hold 2, 2, 1, 1, 1 (ties by customer number)
    made = [customer() for _ in range(8)]
    for i, c in enumerate(made[:7]):
        # customer i: last order 7 - i days ago, i + 1 orders in the year, revenue (i + 1) x 10
        orders(c, *[(7 - i) + 30 * k for k in range(i + 1)])
        invoice(c, (i + 1) * 1000)
    _, got = rows()
    scores = [(got[c.id].recency, got[c.id].frequency, got[c.id].monetary) for c in made[:7]]
    assert scores == [(1, 1, 1), (1, 1, 1), (2, 2, 2), (2, 2, 2), (3, 3, 3), (4, 4, 4),
                      (5, 5, 5)]
    last = got[made[7].id]  # no orders: no score (its revenue does not matter)
    assert (last.recency, last.frequency, last.monetary) == (None, None, None)


def test_refresh_is_idempotent_replaces_yesterday_and_leaves_archived_out(ctx):
    from crm.customers.services import set_archived

    kept, gone = customer(), customer()
    orders(kept, 3, 10)
    orders(gone, 3, 10)
    invoice(kept, 5000)
    first_stats, first = rows(TODAY - timedelta(days=1))
    assert set(first) >= {kept.id, gone.id}
    assert first[kept.id].computed_on == TODAY - timedelta(days=1)
    assert first[kept.id].days_since_order == 2
    set_archived(gone, True, actor=SYSTEM)
    db.session.commit()
    stats, again = rows()
    assert gone.id not in again
    assert again[kept.id].computed_on == TODAY and again[kept.id].days_since_order == 3
    snapshot = {k: (r.value_tier, r.cadence_days, r.churn_risk, r.recency) for k, r in
                again.items()}
    stats2, third = rows()
    assert stats2["customers"] == stats["customers"] == first_stats["customers"] - 1
    assert {k: (r.value_tier, r.cadence_days, r.churn_risk, r.recency) for k, r in
            third.items()} == snapshot


def test_flask_segments_refresh_prints_counts(app, runner):
    with app.app_context():
        c = customer()
        orders(c, 1, 8)
        customer_id = c.id
    result = runner.invoke(args=["segments", "refresh", "--date", TODAY.isoformat()])
    assert result.exit_code == 0, result.output
    assert "1 customers" in result.output or "1 customer" in result.output
    with app.app_context():
        assert db.session.get(CustomerCategory, customer_id).cadence_days == 7
    bad = runner.invoke(args=["segments", "refresh", "--date", "30/06/2026"])
    assert bad.exit_code == 2


def test_the_nightly_job_runs_inline(app):
    from crm.jobs.services import enqueue

    with app.app_context():
        c = customer()
        orders(c, 1, 5)
        run = enqueue("segments_refresh", actor=SYSTEM)
        db.session.commit()
        db.session.refresh(run)
        assert run.status == "finished", run.message
        assert db.session.get(CustomerCategory, c.id).cadence_days == 4


def test_refresh_runs_the_same_statements_for_3_or_30_customers(ctx):
    from sqlalchemy import event

    def statements(n):
        for _ in range(n):
            c = customer()
            orders(c, 2, 9)
            invoice(c, 1000)
        seen = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            refresh(TODAY)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        db.session.commit()
        return len(seen)

    assert statements(3) == statements(27)  # set-based: nothing per customer
