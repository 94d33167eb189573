"""`flask demo invoices`: many invoices fast (Core inserts), the books still agreeing."""
from sqlalchemy import func, select

from crm.common import SYSTEM
from crm.credit import services as credit
from crm.credit.models import Invoice, InvoiceCounter, LedgerEntry, Payment
from crm.customers.models import Customer
from crm.extensions import db


def test_bulk_invoices_are_numbered_paid_and_agree_with_the_ledger(app, runner):
    assert runner.invoke(args=["demo", "bulk", "--customers", "40"]).exit_code == 0
    result = runner.invoke(args=["demo", "invoices", "--count", "600",
                                 "--customer", "7:120", "--customer", "8:5"])
    assert result.exit_code == 0 and "Added 600 invoices." in result.output, result.output
    with app.app_context():
        counts = dict(db.session.execute(select(Invoice.customer_id, func.count())
                                         .group_by(Invoice.customer_id)).all())
        assert counts[7] == 120 and counts[8] == 5 and sum(counts.values()) == 600
        assert len(counts) > 30  # the rest spread over the others
        paid = db.session.scalar(select(func.count()).select_from(Payment))
        assert 450 < paid < 600  # most, not the newest
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 600 + 2 * paid
        for year, last in db.session.execute(select(InvoiceCounter.year, InvoiceCounter.last)):
            numbers = db.session.scalars(select(Invoice.number).where(
                Invoice.number.like(f"INV-{year}-%"))
                .order_by(Invoice.issue_date, Invoice.id)).all()
            assert numbers == [f"INV-{year}-{n:05d}" for n in range(1, last + 1)]
        assert credit.verify() == {}
        aging = credit.farm_aging()
        assert aging["total"] == sum(aging["buckets"].values()) > 0
        # The app's next invoice takes the next number of its year.
        customer = db.session.get(Customer, 9)
        invoice = credit.issue_invoice(customer, [("Pea shoots 4 oz", 2, 650)], actor=SYSTEM)
        last = db.session.scalar(select(InvoiceCounter.last).where(
            InvoiceCounter.year == invoice.issue_date.year))
        assert invoice.number == f"INV-{invoice.issue_date.year}-{last:05d}"
        db.session.commit()
    assert runner.invoke(args=["credit", "verify"]).exit_code == 0
    refused = runner.invoke(args=["demo", "invoices", "--count", "10", "--customer", "7:20"])
    assert refused.exit_code != 0 and "more invoices" in refused.output
    assert runner.invoke(args=["demo", "invoices", "--customer", "7"]).exit_code != 0
