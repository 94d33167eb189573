"""Races: many confirmations for one customer, two clerks on one payment, invoices numbered
at the same moment. Threads with sessions of their own, on SQLite and on PostgreSQL."""
import threading

from sqlalchemy import select

from crm.common import SYSTEM, farm_today
from crm.credit import services as credit
from crm.credit.models import Invoice, Payment
from crm.credit.services import CreditBlocked, CreditError
from crm.customers.models import Customer
from crm.extensions import db
from crm.orders import services as orders
from crm.orders.models import Order
from tests import factories


def race(app, work, ids):
    """Run work(id) for every id in threads started together; {id: outcome}."""
    start, outcomes = threading.Barrier(len(ids)), {}

    def run(ident):
        with app.app_context():
            start.wait()
            try:
                outcomes[ident] = work(ident)
                db.session.commit()
            except (CreditBlocked, CreditError) as refused:
                db.session.rollback()
                outcomes[ident] = refused
            except Exception as failed:  # noqa: BLE001 - the test reports it
                db.session.rollback()
                outcomes[ident] = failed
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_twenty_confirmations_at_once_never_pass_the_limit(app, farm, staff):
    customer = factories.customer("Fern Cafe")
    credit.set_terms(customer, credit_limit=60000, terms="net14", version=None, actor=staff)
    drafts = [orders.create_order(customer, farm_today(), [farm.line(quantity=10)], actor=staff)
              for _ in range(20)]  # $60 each: ten fit under $600
    db.session.commit()
    ids, customer_id = [o.id for o in drafts], customer.id
    db.session.remove()

    def confirm(order_id):
        return orders.confirm_order(db.session.get(Order, order_id), actor=SYSTEM).outcome

    outcomes = race(app, confirm, ids)
    unexpected = [o for o in outcomes.values() if not isinstance(o, (str, CreditBlocked))]
    assert not unexpected
    assert sum(1 for o in outcomes.values() if isinstance(o, str)) == 10
    assert credit.open_orders_total([customer_id]) == 60000


def test_two_clerks_allocating_one_payment_allocate_it_once(app, farm, staff):
    customer = factories.customer("Fern Cafe")
    first = credit.issue_invoice(customer, [("Pea", 1, 5000)], actor=staff)
    second = credit.issue_invoice(customer, [("Sunflower", 1, 5000)], actor=staff)
    db.session.commit()
    payment = credit.record_payment(customer, 5000, method="cash", received_on=farm_today(),
                                    actor=staff)
    db.session.commit()
    assert credit.unapplied(payment.id) == 0  # oldest first took it: undo that for the race
    allocation = db.session.scalar(select(credit.LedgerEntry).where(
        credit.LedgerEntry.kind == "allocation"))
    credit.reverse(allocation, memo="To allocate by hand", actor=staff)
    db.session.commit()
    assert credit.unapplied(payment.id) == 5000
    ids, payment_id = {1: first.id, 2: second.id}, payment.id
    db.session.remove()

    def allocate(clerk):
        credit.allocate(db.session.get(Payment, payment_id), {ids[clerk]: 5000}, actor=SYSTEM)
        return "allocated"

    outcomes = race(app, allocate, [1, 2])
    assert sorted(map(str, outcomes.values())) == ["Only $0.00 of this payment is left to "
                                                   "allocate.", "allocated"]
    assert credit.unapplied(payment_id) == 0
    left = credit.open_amounts([first.id, second.id])
    assert sorted(left.values()) == [0, 5000]


def test_invoices_numbered_at_the_same_moment_are_unique_and_gap_free(app, app_ctx, staff):
    customers = [factories.customer(f"Kitchen {i}").id for i in range(8)]
    db.session.remove()

    def bill(customer_id):
        return credit.issue_invoice(db.session.get(Customer, customer_id), [("Pea", 1, 600)],
                                    actor=SYSTEM).number

    outcomes = race(app, bill, customers)
    assert all(isinstance(n, str) for n in outcomes.values()), outcomes
    year = farm_today().year
    assert sorted(outcomes.values()) == [f"INV-{year}-{n:05d}" for n in range(1, 9)]
    assert len(db.session.scalars(select(Invoice)).all()) == 8
