"""Credit: each customer's account (limit, terms, hold), invoices, payments, and the one
append-only ledger every money event is written to. A balance is the sum of a customer's
ledger entries, never a stored total.

Signs: an entry's `amount` is what it adds to what the customer owes (an invoice +, a payment
-, a credit note or write-off -, a refund +). An entry that settles part of an invoice (an
allocation of a payment, a credit note, a write-off) names the invoice and says how much of it
it settles in `applied`; an allocation moves money already paid onto an invoice, so its
`amount` is 0. A mistake is undone by a reversing entry (`reverses_id`, unique: once).
"""
from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, event, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.common import UTCDateTime, actor_check, utcnow
from crm.extensions import db
from crm.security.encryption import EncryptedString

TERMS = {"cod": "Cash on delivery", "prepaid": "Prepaid", "net7": "Net 7", "net14": "Net 14",
         "net30": "Net 30"}
TERM_DAYS = {"cod": 0, "prepaid": 0, "net7": 7, "net14": 14, "net30": 30}
DEFAULT_TERMS = "net14"
HOLDS = {"manual": "On hold", "auto": "On hold (automatic)"}
PAYMENT_METHODS = {"cash": "Cash", "cheque": "Cheque", "card": "Card",
                   "bank_transfer": "Bank transfer"}
ENTRY_KINDS = {"invoice": "Invoice", "payment": "Payment", "allocation": "Allocation",
               "credit_note": "Credit note", "write_off": "Write-off", "refund": "Refund"}
AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
AGING_LABELS = {"current": "Not yet due", "1-30": "1–30 days", "31-60": "31–60 days",
                "61-90": "61–90 days", "90+": "Over 90 days"}


class CreditAccount(db.Model):
    """A customer's credit terms. No row is the default: no limit, default terms, no hold.
    `credit_limit` None is "no limit"; 0 is a limit of nothing (everything on account is over).
    The row is also what a credit decision locks (SELECT ... FOR UPDATE on PostgreSQL)."""

    __tablename__ = "credit_account"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), primary_key=True)
    credit_limit: Mapped[int | None]  # minor units
    terms: Mapped[str] = mapped_column(String(10), default=DEFAULT_TERMS)
    hold: Mapped[str | None] = mapped_column(String(10))  # HOLDS
    hold_reason: Mapped[str | None] = mapped_column(EncryptedString(500))
    hold_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (CheckConstraint("credit_limit IS NULL OR credit_limit >= 0",
                                      name="credit_limit_not_negative"),)


class InvoiceCounter(db.Model):
    """The last invoice number given in a year; taken under a row lock so numbers are
    gap-free and unique (a rolled-back invoice rolls its number back too)."""

    __tablename__ = "invoice_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(default=0)


class Invoice(db.Model):
    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # INV-2026-00017
    # (indexed by ix_invoice_customer_open, which starts with it)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("sales_order.id"), unique=True)
    issue_date: Mapped[date] = mapped_column(index=True)
    due_date: Mapped[date] = mapped_column(index=True)
    terms: Mapped[str] = mapped_column(String(10))
    total: Mapped[int]  # minor units
    # Nothing left to pay: kept by the entries that settle it (crm.credit.services._entry)
    # so a customer's open invoices are read without summing its whole history; the ledger
    # stays the truth and `flask credit verify` checks the two agree.
    settled: Mapped[bool] = mapped_column(default=False, server_default=false())
    memo: Mapped[str | None] = mapped_column(EncryptedString(500))  # a manual invoice's why
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_kind: Mapped[str] = mapped_column(String(10))
    created_by_id: Mapped[int | None]

    customer = relationship("Customer")
    lines: Mapped[list["InvoiceLine"]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.id")

    __table_args__ = (Index("ix_invoice_customer_open", "customer_id", "settled", "due_date", "id"),
                      CheckConstraint("due_date >= issue_date", name="invoice_due_after_issue"),
                      CheckConstraint("total > 0", name="invoice_total_positive"),
                      actor_check("created_by"))


class InvoiceLine(db.Model):
    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int]
    unit_price: Mapped[int]

    invoice: Mapped[Invoice] = relationship(back_populates="lines")

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


class Payment(db.Model):
    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    method: Mapped[str] = mapped_column(String(20))  # PAYMENT_METHODS
    reference: Mapped[str | None] = mapped_column(EncryptedString(100))
    received_on: Mapped[date]
    amount: Mapped[int]  # minor units, > 0
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_kind: Mapped[str] = mapped_column(String(10))
    created_by_id: Mapped[int | None]

    __table_args__ = (Index("ix_payment_customer", "customer_id", "received_on", "id"),
                      CheckConstraint("amount > 0", name="payment_amount_positive"),
                      actor_check("created_by"))


class LedgerEntry(db.Model):
    """One money event, append-only: never updated or deleted (the ORM refuses, and a trigger
    does on the database; migration 0014). Corrected by a reversing entry."""

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    kind: Mapped[str] = mapped_column(String(20))  # ENTRY_KINDS
    amount: Mapped[int]  # minor units added to what the customer owes (signed)
    applied: Mapped[int | None]  # minor units of `invoice_id` this entry settles (signed)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"))
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_entry.id"), unique=True)
    occurred_on: Mapped[date]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    memo: Mapped[str | None] = mapped_column(EncryptedString(500))
    actor_kind: Mapped[str] = mapped_column(String(10))
    actor_id: Mapped[int | None]

    invoice = relationship("Invoice")
    payment = relationship("Payment")

    # Each index holds the amounts its reads sum (migration 0014): a balance and the ledger's
    # pages, what is settled of each invoice (farm-wide, a customer's), what is used of a
    # payment are read from the index alone.
    __table_args__ = (
        Index("ix_ledger_entry_customer", "customer_id", "occurred_on", "id", "amount"),
        Index("ix_ledger_entry_invoice", "invoice_id", "applied"),
        Index("ix_ledger_entry_customer_settled", "customer_id", "invoice_id", "applied",
              sqlite_where=db.text("applied IS NOT NULL"),
              postgresql_where=db.text("applied IS NOT NULL")),
        Index("ix_ledger_entry_payment", "payment_id", "kind", "applied", "amount"),
        actor_check("actor"))

    @property
    def kind_label(self) -> str:
        label = ENTRY_KINDS.get(self.kind, self.kind)
        return f"{label} reversed" if self.reverses_id else label


@event.listens_for(LedgerEntry, "before_update")
@event.listens_for(LedgerEntry, "before_delete")
def _append_only(mapper, connection, target):
    raise RuntimeError("ledger entries are append-only: reverse one instead")


class CreditAlert(db.Model):
    """Something finance should look at: near or over the limit, an invoice overdue, a hold
    placed or lifted. Listed on the Credit page until someone marks it seen."""

    __tablename__ = "credit_alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # ALERT_KINDS
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)

    customer = relationship("Customer")
    invoice = relationship("Invoice")


ALERT_KINDS = {"near_limit": "Near the credit limit", "over_limit": "Over the credit limit",
               "overdue": "Invoice overdue", "hold_placed": "Hold placed",
               "hold_lifted": "Hold lifted"}


class OutboxEmail(db.Model):
    """An email to send later (sending comes with the portal): the recipient is a contact
    id, its address read at sending time, so no address is copied here or into logs."""

    __tablename__ = "outbox_email"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))
    subject: Mapped[str] = mapped_column(EncryptedString(200))
    body: Mapped[str] = mapped_column(EncryptedString(4000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
