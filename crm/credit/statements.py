"""What the printed credit documents read: a customer's statement of account for a period and
an invoice with what has been paid, credited and written off on it. Read-only, in a fixed
number of queries whatever the number of entries (a statement: three).

A statement is the ledger between two dates: the balance before them (the opening), every
entry with a balance effect in date order with the running balance, the closing balance
(opening + movements; for a period ending today, crm.credit.services.balance), and the aging
as of the end date. Allocations (amount 0: money already paid moved onto an invoice) change no
balance and are left out.

The aging is read from the ledger *as of the end date*: invoices issued by then, less what had
settled them by then, bucketed by how far past due they were then. For an end of today that is
crm.credit.services.aging(customer_id, today); for an earlier end it is what the customer owed
then, not today's open invoices aged against a past date (which would show invoices issued
after the period and hide ones paid since). So the buckets add up to the invoices open at the
end, and those less the credit on account then are the closing balance.
"""
from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload, selectinload

from crm.credit.models import AGING_BUCKETS, ENTRY_KINDS, PAYMENT_METHODS, Invoice, LedgerEntry
from crm.credit.services import bucket_of
from crm.extensions import db

MAX_STATEMENT_DAYS = 3 * 366  # a longer period is refused: print it in parts


class StatementError(ValueError):
    """The period asked for cannot be a statement; the message says why."""


@dataclass(frozen=True)
class Movement:
    """One line of a statement: an entry with a balance effect and the balance after it."""

    entry_id: int
    on: date
    kind: str  # ENTRY_KINDS
    reversal: bool
    description: str
    amount: int  # signed: + what the customer owes more (a charge), - less (a credit)
    running: int

    @property
    def charge(self) -> int | None:
        return self.amount if self.amount > 0 else None

    @property
    def credit(self) -> int | None:
        return -self.amount if self.amount < 0 else None


@dataclass(frozen=True)
class OpenInvoice:
    invoice_id: int
    number: str
    issue_date: date
    due_date: date
    total: int
    open: int
    bucket: str  # AGING_BUCKETS


@dataclass(frozen=True)
class Statement:
    customer_id: int
    start: date
    end: date
    opening: int
    movements: list[Movement]
    closing: int
    aging: dict  # {"buckets": {bucket: minor units}, "total": minor units}
    open_invoices: list[OpenInvoice]  # open at the end, oldest due first

    @property
    def charges(self) -> int:
        return sum(m.amount for m in self.movements if m.amount > 0)

    @property
    def credits(self) -> int:
        return -sum(m.amount for m in self.movements if m.amount < 0)

    @property
    def credit_on_account(self) -> int:
        """Money paid by the end and not allocated to an invoice: what makes the invoices open
        at the end (the aging total) differ from the closing balance."""
        return self.aging["total"] - self.closing


def statement(customer, start: date, end: date) -> Statement:
    """`customer`'s statement of account from `start` to `end` (both included)."""
    if start > end:
        raise StatementError("The period must start on or before its end.")
    if (end - start).days > MAX_STATEMENT_DAYS:
        raise StatementError("A statement covers at most three years; print it in parts.")
    opening = db.session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .where(LedgerEntry.customer_id == customer.id, LedgerEntry.occurred_on < start))
    entries = db.session.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.customer_id == customer.id, LedgerEntry.occurred_on >= start,
               LedgerEntry.occurred_on <= end, LedgerEntry.amount != 0)
        .options(joinedload(LedgerEntry.invoice).load_only(Invoice.number, Invoice.due_date),
                 joinedload(LedgerEntry.payment))
        .order_by(LedgerEntry.occurred_on, LedgerEntry.id)).all()
    movements, running = [], opening
    for entry in entries:
        running += entry.amount
        movements.append(Movement(entry.id, entry.occurred_on, entry.kind,
                                  entry.reverses_id is not None, describe(entry), entry.amount,
                                  running))
    invoices = open_at(customer.id, end)
    buckets = dict.fromkeys(AGING_BUCKETS, 0)
    for invoice in invoices:
        buckets[invoice.bucket] += invoice.open
    return Statement(customer.id, start, end, opening, movements, running,
                     {"buckets": buckets, "total": sum(buckets.values())}, invoices)


def open_at(customer_id: int, day: date) -> list[OpenInvoice]:
    """The customer's invoices open at the end of `day` (issued by then, less what settled
    them by then), oldest due first, each in its aging bucket as of `day`. One query."""
    settled = func.coalesce(func.sum(LedgerEntry.applied), 0)
    rows = db.session.execute(
        select(Invoice.id, Invoice.number, Invoice.issue_date, Invoice.due_date, Invoice.total,
               Invoice.total - settled)
        .outerjoin(LedgerEntry, and_(LedgerEntry.invoice_id == Invoice.id,
                                     LedgerEntry.applied.is_not(None),
                                     LedgerEntry.occurred_on <= day))
        .where(Invoice.customer_id == customer_id, Invoice.issue_date <= day)
        .group_by(Invoice.id, Invoice.number, Invoice.issue_date, Invoice.due_date,
                  Invoice.total)
        .having(Invoice.total - settled > 0)
        .order_by(Invoice.due_date, Invoice.id))
    return [OpenInvoice(i, number, issued, due, total, left, bucket_of(due, day))
            for i, number, issued, due, total, left in rows]


def describe(entry: LedgerEntry) -> str:
    """A statement line's words: what the entry is and what it concerns (an invoice number, a
    payment's method and reference), never its internal memo."""
    kind = ENTRY_KINDS.get(entry.kind, entry.kind)
    if entry.kind == "invoice":
        words = f"Invoice {entry.invoice.number}, due {entry.invoice.due_date:%b %-d, %Y}"
    elif entry.kind == "payment":
        words = f"Payment, {PAYMENT_METHODS.get(entry.payment.method, entry.payment.method)}"
        if entry.payment.reference:
            words += f" {entry.payment.reference}"
    elif entry.kind == "refund":
        words = f"Refund of the payment of {entry.payment.received_on:%b %-d, %Y}"
    elif entry.invoice is not None:  # a credit note, a write-off
        words = f"{kind} on {entry.invoice.number}"
    else:
        words = kind
    return f"Reversal: {words[0].lower()}{words[1:]}" if entry.reverses_id else words


# -- an invoice ------------------------------------------------------------------------------

@dataclass(frozen=True)
class InvoiceDocument:
    invoice: Invoice
    paid: int  # allocations of payments (net of their reversals)
    credited: int  # credit notes
    written_off: int

    @property
    def open(self) -> int:
        return self.invoice.total - self.paid - self.credited - self.written_off


def get_invoice(customer, invoice_id: int) -> Invoice | None:
    """The customer's invoice `invoice_id` with its lines; None when there is no such invoice
    *of this customer* (another customer's id finds nothing)."""
    return db.session.scalar(
        select(Invoice).where(Invoice.customer_id == customer.id, Invoice.id == invoice_id)
        .options(selectinload(Invoice.lines)))


def invoice_document(invoice: Invoice) -> InvoiceDocument:
    """The invoice with what has settled it so far, by kind. One query (besides its lines)."""
    settled = dict(db.session.execute(
        select(LedgerEntry.kind, func.sum(LedgerEntry.applied))
        .where(LedgerEntry.invoice_id == invoice.id, LedgerEntry.applied.is_not(None))
        .group_by(LedgerEntry.kind)).all())
    return InvoiceDocument(invoice, settled.get("allocation", 0), settled.get("credit_note", 0),
                           settled.get("write_off", 0))
