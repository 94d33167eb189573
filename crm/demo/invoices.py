"""Fast synthetic invoices for the load benchmark (`flask demo invoices`): invoices with a line
each, their ledger entries, and the payments of most of them, written in batches straight to
the tables (crm.demo.bulk's way: Core inserts, one commit per batch, no audit events), so that
the books still agree (`flask credit verify`):

- each invoice has its invoice entry (+ total); a paid one has a payment of its total, the
  payment's entry (- total) and an allocation of all of it to the invoice (0, applied total),
  all on the day the payment came;
- numbers are INV-YYYY-NNNNN in issue-date order within each year, continuing from the
  invoice counter (which is moved on to the last number given), so the next invoice the app
  issues gets the next number.

Invoices are issued over the last two years (DAYS), due by net 14 (or the customer's terms
when it has a credit account). A payment comes 3 to 20 days after the invoice; one that would
come after today has not come yet (the invoice is open), and one invoice in 200 is never paid
(open and, mostly, long overdue), so the farm's aging has every bucket.
"""
import random
import time
from datetime import timedelta

from sqlalchemy import func, insert, select

from crm.common import farm_today, utcnow
from crm.credit.models import (
    TERM_DAYS,
    CreditAccount,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    LedgerEntry,
    Payment,
)
from crm.customers.models import Customer
from crm.demo.bulk import _analyze
from crm.extensions import db

DAYS = 730
UNPAID = 0.005  # never paid
LINES = [("Pea shoots 1 lb", 2200), ("Sunflower 1 lb", 2200), ("Radish 4 oz", 630),
         ("Broccoli 4 oz", 720), ("Spicy mix 1 lb", 2450), ("Basil 2 oz", 510),
         ("Wheatgrass 10x20 tray", 2520), ("Rainbow mix 4 oz", 765)]
TABLES = (Invoice, InvoiceLine, Payment, LedgerEntry)


def bulk_invoices(count: int, rng: random.Random, fixed: dict[int, int] | None = None,
                  echo=print, batch: int = 20_000) -> int:
    """Insert `count` invoices (with their entries, and payments of most): `fixed` {customer
    id: invoices} gives those customers exactly that many; the rest go at random to customers
    that have no invoice yet. Commits after each batch. Returns the invoices made."""
    started = time.monotonic()
    fixed = dict(fixed or {})
    today = farm_today()
    pool = db.session.scalars(select(Customer.id).where(
        ~select(Invoice.id).where(Invoice.customer_id == Customer.id).exists(),
        Customer.id.not_in(list(fixed) or [0])).order_by(Customer.id)).all()
    rest = count - sum(fixed.values())
    if rest < 0 or (rest and not pool):
        raise ValueError("more invoices named for customers than in all, or nobody to bill")
    customers = [c for c, n in fixed.items() for _ in range(n)]
    customers += [rng.choice(pool) for _ in range(rest)]
    terms = dict(db.session.execute(
        select(CreditAccount.customer_id, CreditAccount.terms)).all())
    # (issue date, customer): numbered in date order within each year
    issued = sorted((today - timedelta(days=rng.randint(1, DAYS)), c) for c in customers)
    counters = dict(db.session.execute(
        select(InvoiceCounter.year, InvoiceCounter.last)).all())
    ids = {model: (db.session.scalar(select(func.max(model.id))) or 0) + 1 for model in TABLES}
    now = utcnow()
    done = 0
    while done < count:
        rows = {model: [] for model in TABLES}
        for issue_date, customer_id in issued[done:done + batch]:
            year = issue_date.year
            counters[year] = counters.get(year, 0) + 1
            invoice_id, terms_of = ids[Invoice], terms.get(customer_id, "net14")
            description, price = rng.choice(LINES)
            quantity = rng.randint(1, 20)
            total = quantity * price
            rows[Invoice].append({
                "id": invoice_id, "number": f"INV-{year}-{counters[year]:05d}",
                "customer_id": customer_id, "order_id": None, "issue_date": issue_date,
                "due_date": issue_date + timedelta(days=TERM_DAYS.get(terms_of, 14)),
                "terms": terms_of, "total": total, "settled": False, "memo": None,
                "created_at": now,
                "created_by_kind": "system", "created_by_id": None})
            rows[InvoiceLine].append({"id": ids[InvoiceLine], "invoice_id": invoice_id,
                                      "description": description, "quantity": quantity,
                                      "unit_price": price})
            rows[LedgerEntry].append(_entry(ids[LedgerEntry], customer_id, "invoice", total,
                                            issue_date, now, invoice_id=invoice_id))
            ids[Invoice] += 1
            ids[InvoiceLine] += 1
            ids[LedgerEntry] += 1
            received = issue_date + timedelta(days=rng.randint(3, 20))
            if received > today or rng.random() < UNPAID:
                continue
            payment_id = ids[Payment]
            rows[Invoice][-1]["settled"] = True
            rows[Payment].append({
                "id": payment_id, "customer_id": customer_id, "method": "bank_transfer",
                "reference": None, "received_on": received, "amount": total,
                "created_at": now, "created_by_kind": "system", "created_by_id": None})
            rows[LedgerEntry].append(_entry(ids[LedgerEntry], customer_id, "payment", -total,
                                            received, now, payment_id=payment_id))
            rows[LedgerEntry].append(_entry(ids[LedgerEntry] + 1, customer_id, "allocation", 0,
                                            received, now, invoice_id=invoice_id,
                                            payment_id=payment_id, applied=total))
            ids[Payment] += 1
            ids[LedgerEntry] += 2
        for model in TABLES:
            if rows[model]:
                db.session.execute(insert(model.__table__), rows[model])
        done += len(rows[Invoice])
        _save_counters(counters)
        db.session.commit()
        echo(f"{done}/{count} invoices ({time.monotonic() - started:.0f} s)")
    if db.engine.dialect.name == "postgresql":
        for model in TABLES:
            table = model.__tablename__
            db.session.execute(db.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT MAX(id) FROM {table}))"))
        db.session.commit()
    for model in TABLES:
        _analyze(model.__tablename__)
    return done


def _entry(entry_id, customer_id, kind, amount, occurred_on, now, *, invoice_id=None,
           payment_id=None, applied=None) -> dict:
    return {"id": entry_id, "customer_id": customer_id, "kind": kind, "amount": amount,
            "applied": applied, "invoice_id": invoice_id, "payment_id": payment_id,
            "reverses_id": None, "occurred_on": occurred_on, "recorded_at": now, "memo": None,
            "actor_kind": "system", "actor_id": None}


def _save_counters(counters: dict[int, int]):
    """Each year's counter at the last number given (in the batch's transaction)."""
    known = set(db.session.scalars(select(InvoiceCounter.year)))
    for year, last in counters.items():
        if year in known:
            db.session.execute(InvoiceCounter.__table__.update()
                               .where(InvoiceCounter.year == year).values(last=last))
        else:
            db.session.execute(insert(InvoiceCounter.__table__), [{"year": year, "last": last}])
