"""The demo farm's money (crm.orders.demo): a price list, a year of orders invoiced on their
delivery dates and paid as each kind of customer pays, and an account of each kind to show:
one on hold, one near its limit, one with credit on account, a few blocked as overdue."""
from datetime import timedelta

from sqlalchemy import func, select

from crm.catalogue.models import Product
from crm.common import farm_today
from crm.credit import services as credit
from crm.credit.models import CreditAccount, Invoice, InvoiceCounter, LedgerEntry, Payment
from crm.customers.models import PRICING_TIERS, Customer
from crm.extensions import db
from crm.orders.models import Order
from crm.orders.services import price_list
from crm.preferences.models import StandingItem


def test_the_demo_farm_has_a_year_of_books_and_an_account_of_each_kind(app, runner):
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        today = farm_today()
        prices = price_list()
        for product in db.session.scalars(select(Product)):
            for size in product.size_list:
                for tier in PRICING_TIERS:
                    assert prices[(product.id, size, tier)] > 0, (product.name, size, tier)

        buyers = db.session.scalars(select(Customer).where(Customer.id.in_(
            select(StandingItem.customer_id)))).all()
        assert len(buyers) > 30
        accounts = {a.customer_id: a for a in db.session.scalars(select(CreditAccount))}
        for customer in buyers:
            account = accounts[customer.id]
            if customer.kind == "csa_member":
                assert account.terms == "prepaid"
            elif customer.kind == "restaurant":
                assert account.terms in ("net14", "net30")
            elif customer.kind == "grocer":
                assert account.terms == "net30" and account.credit_limit
            first, last, count = db.session.execute(
                select(func.min(Invoice.issue_date), func.max(Invoice.issue_date), func.count())
                .where(Invoice.customer_id == customer.id)).one()
            assert first <= today - timedelta(weeks=50) and today - timedelta(days=14) <= last
            assert last < today and count >= 25  # weekly, or every other week
        # Every invoice is an order's, issued on its delivery date; the orders left open are
        # the next deliveries' (confirmed, or drafts that check_credit refused).
        assert not db.session.scalar(select(func.count()).select_from(Invoice).join(
            Order, Order.id == Invoice.order_id).where(Invoice.issue_date != Order.delivery_date))
        assert db.session.scalar(select(func.count()).select_from(Invoice).where(
            Invoice.order_id.is_(None))) == 0
        statuses = dict(db.session.execute(
            select(Order.status, func.count()).group_by(Order.status)).all())
        assert statuses["invoiced"] == db.session.scalar(
            select(func.count()).select_from(Invoice))
        assert statuses["invoiced"] > 1500 and statuses["confirmed"] > 20
        assert not db.session.scalar(select(Order.id).where(
            Order.status.in_(("draft", "confirmed")), Order.delivery_date <= today))
        # Numbers run gap-free per year, in date order.
        for year, last in db.session.execute(select(InvoiceCounter.year, InvoiceCounter.last)):
            numbers = db.session.scalars(select(Invoice.number).where(
                Invoice.number.like(f"INV-{year}-%")).order_by(Invoice.issue_date,
                                                               Invoice.id)).all()
            assert numbers == [f"INV-{year}-{n:05d}" for n in range(1, last + 1)]
        assert db.session.scalar(select(func.max(Payment.received_on))) <= today
        assert db.session.scalar(select(func.count()).select_from(Payment)) > 500

        held = [a for a in accounts.values() if a.hold]
        assert len(held) == 1 and held[0].hold == "manual" and held[0].hold_reason
        near, credit_on_account, blocked = [], [], []
        for customer in buyers:
            account = accounts[customer.id]
            exposure = credit.balance(customer.id) + credit.open_orders_total([customer.id])
            if account.credit_limit and exposure >= account.credit_limit * 0.8:
                near.append((customer, exposure / account.credit_limit))
            if credit.credit_on_account(customer.id) > 0:
                credit_on_account.append(customer)
            status = credit.credit_status(customer)
            if "overdue" in [r.code for r in status.reasons]:
                blocked.append(customer)
                assert status.blocked
        assert len(near) == 1 and 0.8 <= near[0][1] <= 1
        assert len(credit_on_account) == 1
        assert credit.balance(credit_on_account[0].id) < 0
        assert 2 <= len(blocked) <= 5
        for customer in blocked:  # 35 to 70 days overdue, and check_credit says no
            oldest = min(row.due_date for row in credit.open_rows(customer.id))
            assert 35 <= (today - oldest).days <= 70
            assert credit.check_credit(customer, 100).blocked
            draft = db.session.scalar(select(Order).where(Order.customer_id == customer.id,
                                                          Order.status == "draft"))
            assert draft is None or draft.credit_reasons
        db.session.rollback()  # check_credit's locks (and any alert it raised)
        assert not [c for c in buyers if credit.credit_status(c).outcome == "block"
                    and c not in blocked and c.id != held[0].customer_id]

        assert credit.verify() == {}
        aging = credit.farm_aging()
        assert aging["total"] == sum(aging["buckets"].values()) > 0
        assert aging["buckets"]["31-60"] > 0
        # Balances are sums of the ledger: they match the open invoices less credit.
        owed = db.session.scalar(select(func.sum(LedgerEntry.amount)))
        assert owed == aging["total"] - sum(credit.credit_on_account(c.id)
                                            for c in credit_on_account)
        db.session.commit()

    verified = runner.invoke(args=["credit", "verify"])
    assert verified.exit_code == 0, verified.output
    nightly = runner.invoke(args=["credit", "nightly"])
    assert nightly.exit_code == 0 and "new alerts" in nightly.output, nightly.output
    assert runner.invoke(args=["credit", "verify"]).exit_code == 0


def test_fewer_weeks_make_a_shorter_history(app, runner):
    result = runner.invoke(args=["demo", "seed", "--weeks", "3"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        first = db.session.scalar(select(func.min(Invoice.issue_date)))
        assert farm_today() - timedelta(weeks=3) <= first
        assert credit.verify() == {}
