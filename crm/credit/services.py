"""Credit: the ledger and everything read from it (balances, open invoices, aging), invoices,
payments and their allocation, holds, and check_credit — the one decision on whether a
customer may owe more, taken under a lock on its credit account.

Every function that writes takes an actor, writes the document and its ledger entries in the
caller's transaction (the caller commits once) and never commits itself.
"""
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import and_, bindparam, case, false, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import joinedload

from crm.audit.services import record
from crm.common import farm_today, utcnow
from crm.credit.models import (
    AGING_BUCKETS,
    DEFAULT_TERMS,
    TERM_DAYS,
    CreditAccount,
    CreditAlert,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    LedgerEntry,
    OutboxEmail,
    Payment,
)
from crm.customers.models import Customer
from crm.extensions import db
from crm.money import format_money


class CreditError(ValueError):
    """A money operation that cannot be done as asked; the message says why, for the form."""


# -- accounts and locks -------------------------------------------------------------------

def _insert(model):
    dialect = db.session.get_bind().dialect.name
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(model)


def ensure_accounts(customer_ids):
    """Make sure each customer has a credit account row (the defaults: no limit, default
    terms, no hold). On SQLite the insert also takes the database's write lock, so what a
    caller reads after it is not changed under it before it commits."""
    ids = sorted(set(customer_ids))
    if ids:
        db.session.execute(_insert(CreditAccount).on_conflict_do_nothing(),
                           [{"customer_id": i} for i in ids])


def get_account(customer_id: int, *, lock: bool = False) -> CreditAccount:
    ensure_accounts([customer_id])
    statement = select(CreditAccount).where(CreditAccount.customer_id == customer_id)
    if lock:
        statement = statement.with_for_update()
    return db.session.scalars(statement.execution_options(populate_existing=lock)).one()


def lock_accounts(customer) -> dict[int, CreditAccount]:
    """Lock the credit accounts a decision about `customer` reads: its own and its group's
    (in id order, so two decisions never wait on each other crosswise)."""
    ids = sorted({customer.id, *([customer.parent_id] if customer.parent_id else [])})
    ensure_accounts(ids)
    rows = db.session.scalars(
        select(CreditAccount).where(CreditAccount.customer_id.in_(ids))
        .order_by(CreditAccount.customer_id).with_for_update()
        .execution_options(populate_existing=True)).all()
    return {row.customer_id: row for row in rows}


def set_terms(customer, *, credit_limit, terms, version, actor):
    """Change a customer's limit (None: no limit) and terms; a stale `version` is a
    ConflictError (crm.common.save_versioned)."""
    from crm.common import ConflictError

    account = get_account(customer.id, lock=True)
    if version is not None and account.version != version:
        raise ConflictError(account)
    if credit_limit is not None and credit_limit < 0:
        raise CreditError("A credit limit cannot be negative.")
    if terms not in TERM_DAYS:
        raise CreditError("Choose the payment terms.")
    changed = [name for name, value in (("credit_limit", credit_limit), ("terms", terms))
               if getattr(account, name) != value]
    account.credit_limit, account.terms = credit_limit, terms
    if changed:
        db.session.flush()  # the mapper moves the version on
        record("update", "credit_account", customer.id, actor=actor, fields=changed)
    return account


# -- reading the ledger ---------------------------------------------------------------------

def balance(customer_id: int) -> int:
    """What the customer owes (minor units; negative: credit on account)."""
    return db.session.scalar(_balance(), {"customer": customer_id})


# The statements a customer's pages run on every request are built once, each value a bound
# parameter, so neither they nor SQLAlchemy's cache keys for them are made again per request.
@cache
def _balance():
    return (select(func.coalesce(func.sum(LedgerEntry.amount), 0))
            .where(LedgerEntry.customer_id == bindparam("customer")))


def balances(customer_ids) -> dict[int, int]:
    rows = db.session.execute(
        select(LedgerEntry.customer_id, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.customer_id.in_(list(customer_ids)))
        .group_by(LedgerEntry.customer_id))
    found = dict(rows.all())
    return {i: found.get(i, 0) for i in customer_ids}


def _settled(where=None):
    """Per invoice: how much of it is settled (allocations, credit notes, write-offs); `where`
    narrows the entries read (a customer's), so a page never sums the whole farm's ledger."""
    statement = (select(LedgerEntry.invoice_id, func.sum(LedgerEntry.applied).label("settled"))
                 .where(LedgerEntry.applied.is_not(None)))
    if where is not None:
        statement = statement.where(where)
    return statement.group_by(LedgerEntry.invoice_id).subquery()


@dataclass(frozen=True)
class OpenInvoice:
    """An invoice not fully settled, as the pages and the decision read it (no entity)."""

    id: int
    customer_id: int
    number: str
    issue_date: date
    due_date: date
    total: int
    open: int


def open_rows(customer_id: int) -> list[OpenInvoice]:
    """The customer's open invoices, oldest due first, in one statement: what the status,
    the aging and the Credit tab's list are all computed from (read once a request)."""
    return [OpenInvoice(*row) for row in db.session.execute(_open_rows(), {"customer": customer_id})]


@cache
def _open_rows():
    """open_rows' statement, built once (the customer a bound parameter): the invoices not
    marked settled (an index walk), and what is settled of those only."""
    unsettled = and_(Invoice.customer_id == bindparam("customer"), Invoice.settled == false())
    settled = _settled(LedgerEntry.invoice_id.in_(select(Invoice.id).where(unsettled)))
    left = Invoice.total - func.coalesce(settled.c.settled, 0)
    return (select(Invoice.id, Invoice.customer_id, Invoice.number, Invoice.issue_date,
                   Invoice.due_date, Invoice.total, left)
            .outerjoin(settled, settled.c.invoice_id == Invoice.id)
            .where(unsettled, left > 0).order_by(Invoice.due_date, Invoice.id))


def open_amounts(invoice_ids) -> dict[int, int]:
    settled = _settled(LedgerEntry.invoice_id.in_(list(invoice_ids)))
    rows = db.session.execute(
        select(Invoice.id, Invoice.total - func.coalesce(settled.c.settled, 0))
        .outerjoin(settled, settled.c.invoice_id == Invoice.id)
        .where(Invoice.id.in_(list(invoice_ids))))
    return dict(rows.all())


def unapplied(payment_id: int) -> int:
    """What of a payment is not yet allocated to invoices (nor refunded)."""
    used = _used(LedgerEntry.payment_id == payment_id)
    return db.session.scalar(select(Payment.amount - func.coalesce(used.c.used, 0))
                             .outerjoin(used, used.c.payment_id == Payment.id)
                             .where(Payment.id == payment_id))


def credit_on_account(customer_id: int) -> int:
    """Money paid and not allocated to an invoice (what a new invoice can be paid from)."""
    return max(0, sum(r.open for r in open_rows(customer_id)) - balance(customer_id))


def open_orders_total(customer_ids) -> int:
    """What the customers will owe and is not invoiced yet (confirmed and delivered orders:
    each feature that has such things declares it, crm.features.Feature.owed_soon)."""
    from crm.features import registry

    return sum(owed(list(customer_ids)) for owed in registry().owed_soon)


def bucket_of(due_date: date, today: date) -> str:
    days = (today - due_date).days
    if days <= 0:
        return "current"
    if days <= 30:
        return "1-30"
    if days <= 60:
        return "31-60"
    if days <= 90:
        return "61-90"
    return "90+"


def _farm_aging(today: date):
    """({bucket: open amount}, {bucket: invoices}) of the whole farm in one aggregate
    statement (no invoice is loaded): each open invoice in exactly one bucket (bucket_of's)."""
    settled = _settled()
    left = Invoice.total - func.coalesce(settled.c.settled, 0)
    bucket = case((Invoice.due_date >= today, "current"),
                  (Invoice.due_date >= today - timedelta(days=30), "1-30"),
                  (Invoice.due_date >= today - timedelta(days=60), "31-60"),
                  (Invoice.due_date >= today - timedelta(days=90), "61-90"), else_="90+")
    statement = (select(bucket.label("bucket"), func.sum(left), func.count())
                 .select_from(Invoice).outerjoin(settled, settled.c.invoice_id == Invoice.id)
                 .where(left > 0))
    buckets, counts = dict.fromkeys(AGING_BUCKETS, 0), dict.fromkeys(AGING_BUCKETS, 0)
    for name, amount, count in db.session.execute(statement.group_by(bucket)):
        buckets[name], counts[name] = int(amount), count
    return buckets, counts


def aging(customer_id: int, today: date | None = None) -> dict:
    """A customer's open invoice amounts by how far past due (AGING_BUCKETS) and their total;
    every open invoice is in exactly one bucket, so the buckets add up to the total. The
    farm's: farm_aging (the same buckets, summed by the database)."""
    return aging_of(open_rows(customer_id), today or farm_today())


def aging_of(rows: list[OpenInvoice], today: date) -> dict:
    buckets = dict.fromkeys(AGING_BUCKETS, 0)
    for row in rows:
        buckets[bucket_of(row.due_date, today)] += row.open
    return {"buckets": buckets, "total": sum(buckets.values())}


LEDGER_PAGE = 25
OPEN_SHOWN = 20  # open invoices listed on the tab, oldest due first (all count in the aging)


def ledger_page(customer_id: int, page: int = 1, owed: int | None = None,
                per_page: int = LEDGER_PAGE):
    """(entries newest first, each with the balance after it, and whether there are more).
    The balance after each is counted back from the balance now (`owed`, if read): less what
    the entries newer than it added. Fixed statements however long the ledger, and only the
    page's entries and those before it on newer pages are read."""
    offset = (page - 1) * per_page
    entries_of, newer_sum = _ledger_page()
    entries = db.session.scalars(entries_of, {"customer": customer_id, "offset": offset,
                                              "limit": per_page + 1}).all()
    running = (balance(customer_id) if owed is None else owed) - db.session.scalar(
        newer_sum, {"customer": customer_id, "offset": offset})
    rows = []
    for entry in entries[:per_page]:
        rows.append((entry, running))
        running -= entry.amount
    return rows, len(entries) > per_page


@cache
def _ledger_page():
    """(a page of the customer's entries, newest first; the sum of the entries newer than
    the page)."""
    newest_first = (LedgerEntry.occurred_on.desc(), LedgerEntry.id.desc())
    mine = LedgerEntry.customer_id == bindparam("customer")
    entries = (select(LedgerEntry).where(mine)
               .options(joinedload(LedgerEntry.invoice).load_only(Invoice.number))
               .order_by(*newest_first).offset(bindparam("offset")).limit(bindparam("limit")))
    newer = (select(LedgerEntry.amount).where(mine).order_by(*newest_first)
             .limit(bindparam("offset")))
    return entries, select(func.coalesce(func.sum(newer.subquery().c.amount), 0))


def _used(where=None):
    """Per payment: how much of it is allocated to invoices or refunded; `where` narrows the
    entries read (a customer's)."""
    statement = (select(LedgerEntry.payment_id,
                        func.sum(case((LedgerEntry.kind == "allocation", LedgerEntry.applied),
                                      (LedgerEntry.kind == "refund", LedgerEntry.amount),
                                      else_=0)).label("used"))
                 .where(LedgerEntry.payment_id.is_not(None)))
    if where is not None:
        statement = statement.where(where)
    return statement.group_by(LedgerEntry.payment_id).subquery()


def recent_payments(customer_id: int, limit: int = 10):
    """[(payment, unallocated)] newest first; only the shown payments' entries are read."""
    return db.session.execute(_recent_payments(),
                              {"customer": customer_id, "limit": limit}).all()


@cache
def _recent_payments():
    newest_first = (Payment.received_on.desc(), Payment.id.desc())
    shown = (select(Payment.id).where(Payment.customer_id == bindparam("customer"))
             .order_by(*newest_first).limit(bindparam("limit")))
    used = _used(LedgerEntry.payment_id.in_(shown.scalar_subquery()))
    return (select(Payment, Payment.amount - func.coalesce(used.c.used, 0))
            .outerjoin(used, used.c.payment_id == Payment.id)
            .where(Payment.id.in_(shown.scalar_subquery())).order_by(*newest_first))


def get_payment(customer, payment_id: int) -> Payment | None:
    """The customer's payment (another customer's id finds nothing)."""
    return db.session.scalar(select(Payment).where(Payment.id == payment_id,
                                                   Payment.customer_id == customer.id))


def get_entry(customer, entry_id: int) -> LedgerEntry | None:
    """The customer's ledger entry (another customer's id finds nothing)."""
    return db.session.scalar(select(LedgerEntry).where(LedgerEntry.id == entry_id,
                                                       LedgerEntry.customer_id == customer.id))


def customer_alerts(customer_id: int):
    return db.session.scalars(_customer_alerts(), {"customer": customer_id}).all()


@cache
def _customer_alerts():
    return (select(CreditAlert).where(CreditAlert.customer_id == bindparam("customer"),
                                      CreditAlert.seen_at.is_(None))
            .options(joinedload(CreditAlert.invoice)).order_by(CreditAlert.raised_at.desc()))


def credit_summary(customer, *, amounts: bool, page: int = 1) -> dict:
    """What the Credit tab shows. `amounts` False (a role that may not see money): the
    status and its reasons in words, and nothing else — no balance, limit or invoice leaves
    this function for such a caller. A fixed number of queries however long the history:
    the open invoices and the balance are read once and everything else is counted from them."""
    today = farm_today()
    rows, owed = open_rows(customer.id), balance(customer.id)
    status = credit_status(customer, today, rows, owed)
    summary = {"status": status, "amounts": amounts,
               "reasons": [r.text(amounts) for r in status.reasons]}
    if not amounts:
        return summary
    account = db.session.get(CreditAccount, customer.id) or CreditAccount(
        customer_id=customer.id, credit_limit=None, terms=DEFAULT_TERMS, hold=None, version=0)
    orders = open_orders_total([customer.id])
    entries, more = ledger_page(customer.id, page, owed)
    owed_on_invoices = aging_of(rows, today)
    summary.update(
        account=account, balance=owed, open_orders=orders,
        credit=max(0, owed_on_invoices["total"] - owed),
        available=None if account.credit_limit is None
        else account.credit_limit - owed - orders,
        aging=owed_on_invoices, invoices=rows[:OPEN_SHOWN], invoices_open=len(rows),
        payments=recent_payments(customer.id), ledger=entries, ledger_page=page,
        ledger_more=more, alerts=customer_alerts(customer.id), today=today)
    return summary


# -- the decision ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Reason:
    """Why a decision was not a plain yes: `words` for anyone who may see the credit status
    (no amounts), `detail` with the amounts for those who may see money."""

    code: str
    words: str
    detail: str = ""

    def text(self, amounts: bool) -> str:
        return self.detail if amounts and self.detail else self.words


@dataclass
class Decision:
    outcome: str  # "allow" | "warn" | "block"
    reasons: list[Reason] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return self.outcome == "block"

    @property
    def label(self) -> str:
        return {"allow": "OK", "warn": "Warning", "block": "New orders blocked"}[self.outcome]


def _overdue_reasons(rows: list[OpenInvoice], today, who=""):
    """([a block], [a warning]) for the oldest overdue of the open invoices `rows` with at
    least the threshold open: a block past CREDIT_OVERDUE_DAYS, else a warning."""
    days = current_app.config["CREDIT_OVERDUE_DAYS"]
    threshold = current_app.config["CREDIT_OVERDUE_THRESHOLD"]
    found = next((r for r in rows if r.due_date < today and r.open >= threshold), None)
    if found is None:
        return [], []
    late = (today - found.due_date).days
    detail = f"{found.number}{who} is {late} days overdue ({format_money(found.open)} open)."
    if late > days:
        return [Reason("overdue", f"An invoice{who} is more than {days} days overdue.",
                       detail)], []
    return [], [Reason("late", f"An invoice{who} is overdue.", detail)]


def _limit_reason(limit, owed, orders, amount, whose=""):
    """("block" | "warn" | None, Reason) for a limit; `amount` 0 asks how the account
    stands now (its status) rather than about owing more."""
    exposure = owed + orders + amount
    name = whose or "the account"
    detail = (f"Balance {format_money(owed)} + open orders {format_money(orders)}"
              + (f" + this {format_money(amount)}" if amount else "")
              + f" = {format_money(exposure)}")
    if exposure > limit:
        words = (f"This would take {name} over its credit limit." if amount
                 else f"{name.capitalize()} is over its credit limit.")
        return "block", Reason("over_limit", words,
                               f"{detail}, over the limit of {format_money(limit)}.")
    if limit and exposure >= limit * current_app.config["CREDIT_WARN_SHARE"]:
        return "warn", Reason("near_limit", f"{name.capitalize()} is near its credit limit.",
                              f"{detail} of the limit of {format_money(limit)}.")
    return None, None


def check_credit(customer, amount: int, *, today: date | None = None) -> Decision:
    """May `customer` owe `amount` more (minor units) on top of its balance and open orders?
    Allow, warn or block, with the reasons. Locks the customer's (and its group's) credit
    account until the caller's transaction ends, so two decisions for one customer take
    turns: call it in the transaction that then writes what it allowed."""
    accounts = lock_accounts(customer)
    decision = _decide(customer, amount, accounts, today or farm_today(),
                       open_rows(customer.id), None)
    for reason in decision.reasons:
        if reason.code in ("near_limit", "over_limit"):
            _alert(customer.id, reason.code)
    return decision


def credit_status(customer, today: date | None = None, rows=None, owed=None) -> Decision:
    """How the account stands now (OK, a warning, or blocked: what a new order would meet),
    for showing; reads without locking. `rows` (open_rows) and `owed` (balance), if read;
    the balance is read only when a limit needs it."""
    ids = [customer.id, *([customer.parent_id] if customer.parent_id else [])]
    accounts = {a.customer_id: a for a in db.session.scalars(_accounts(), {"ids": ids})}
    accounts.setdefault(customer.id, CreditAccount(customer_id=customer.id, credit_limit=None,
                                                   terms=DEFAULT_TERMS, hold=None))
    return _decide(customer, 0, accounts, today or farm_today(),
                   open_rows(customer.id) if rows is None else rows, owed)


@cache
def _accounts():
    return select(CreditAccount).where(
        CreditAccount.customer_id.in_(bindparam("ids", expanding=True)))


def _decide(customer, amount, accounts, today, rows, owed) -> Decision:
    """`owed`: the customer's balance, or None to read it if its limit needs it."""
    blocks, warns = [], []

    def weigh(outcome, reason):
        if outcome:
            (blocks if outcome == "block" else warns).append(reason)

    own = accounts[customer.id]
    if own.hold:
        blocks.append(Reason("hold", "The account is on hold.",
                             f"The account is on hold: {own.hold_reason or 'no reason given'}."))
    if own.credit_limit is not None:
        owed = balance(customer.id) if owed is None else owed
        weigh(*_limit_reason(own.credit_limit, owed, open_orders_total([customer.id]), amount))
    b, w = _overdue_reasons(rows, today)
    blocks += b
    warns += w
    group = accounts.get(customer.parent_id)
    if group is not None:
        members = [customer.parent_id, *db.session.scalars(
            select(Customer.id).where(Customer.parent_id == customer.parent_id))]
        if group.hold:
            blocks.append(Reason("group_hold", "The group account is on hold.",
                                 f"The group account is on hold: "
                                 f"{group.hold_reason or 'no reason given'}."))
        if group.credit_limit is not None:
            weigh(*_limit_reason(group.credit_limit, sum(balances(members).values()),
                                 open_orders_total(members), amount, whose="the group"))
    if blocks:
        return Decision("block", blocks + warns)
    return Decision("warn", warns) if warns else Decision("allow")


# -- holds ----------------------------------------------------------------------------------

def place_hold(customer, reason: str, *, actor, kind: str = "manual"):
    account = get_account(customer.id, lock=True)
    if not (reason or "").strip():
        raise CreditError("Say why the account is put on hold.")
    account.hold, account.hold_reason, account.hold_at = kind, reason.strip(), utcnow()
    _alert(customer.id, "hold_placed")
    record("hold", "credit_account", customer.id, actor=actor, fields=["hold", "hold_reason"])
    return account


def lift_hold(customer, *, actor):
    account = get_account(customer.id, lock=True)
    if account.hold:
        account.hold, account.hold_reason, account.hold_at = None, None, None
        _alert(customer.id, "hold_lifted")
        record("lift_hold", "credit_account", customer.id, actor=actor, fields=["hold"])
    return account


def refresh_automatic_hold(customer, *, actor, today: date | None = None):
    """Place or lift the automatic hold by the rules (over the limit, or an invoice overdue
    past CREDIT_OVERDUE_DAYS); a manual hold is left to people. After each payment and
    nightly (crm.credit.jobs)."""
    today = today or farm_today()
    account = get_account(customer.id, lock=True)
    overdue, _ = _overdue_reasons(open_rows(customer.id), today)
    over = (account.credit_limit is not None
            and balance(customer.id) + open_orders_total([customer.id]) > account.credit_limit)
    due = overdue[0].words if overdue else ("Over the credit limit." if over else None)
    if due and account.hold is None:
        place_hold(customer, due, actor=actor, kind="auto")
    elif not due and account.hold == "auto":
        lift_hold(customer, actor=actor)
    return account


CUSTOMER_EMAILS = {  # alerts the customer hears about: (subject, body); sent later
    "overdue": ("An invoice is overdue", "Our records show an invoice past its due date. "
                "Please get in touch if it has been paid."),
    "hold_placed": ("Your account is on hold", "New orders are paused on your account. Please "
                    "get in touch with us to settle it."),
    "hold_lifted": ("Your account is open again", "Thank you: new orders go through again."),
}


def _alert(customer_id: int, kind: str, invoice_id: int | None = None,
           email: bool = True) -> bool:
    """Raise an alert unless the same one is still unseen; the alerts a customer hears about
    also go to the outbox (unless `email` is False), addressed to its billing (or primary)
    contact by id."""
    exists = db.session.scalar(select(CreditAlert.id).where(
        CreditAlert.customer_id == customer_id, CreditAlert.kind == kind,
        CreditAlert.invoice_id.is_(None) if invoice_id is None
        else CreditAlert.invoice_id == invoice_id,
        CreditAlert.seen_at.is_(None)).limit(1))
    if exists is not None:
        return False
    db.session.add(CreditAlert(customer_id=customer_id, kind=kind, invoice_id=invoice_id))
    if email and kind in CUSTOMER_EMAILS:
        from crm.contacts.models import CustomerContact

        contact_id = db.session.scalar(
            select(CustomerContact.contact_id).where(CustomerContact.customer_id == customer_id)
            .order_by(case((CustomerContact.role == "billing", 0),
                           (CustomerContact.role == "primary", 1), else_=2),
                      CustomerContact.contact_id).limit(1))
        subject, body = CUSTOMER_EMAILS[kind]
        db.session.add(OutboxEmail(customer_id=customer_id, contact_id=contact_id,
                                   subject=subject, body=body))
    return True


def unseen_alerts_badge(user) -> int:
    """The number on the "Credit" navigation item: alerts nobody has marked seen."""
    return db.session.scalar(select(func.count()).select_from(CreditAlert)
                             .where(CreditAlert.seen_at.is_(None)))


def alerts(limit: int = 100):
    return db.session.scalars(
        select(CreditAlert).where(CreditAlert.seen_at.is_(None))
        .options(joinedload(CreditAlert.customer), joinedload(CreditAlert.invoice))
        .order_by(CreditAlert.raised_at.desc(), CreditAlert.id.desc()).limit(limit)).all()


def mark_seen(alert_ids, *, actor) -> int:
    seen = db.session.scalars(select(CreditAlert).where(CreditAlert.id.in_(list(alert_ids)),
                                                        CreditAlert.seen_at.is_(None))).all()
    for alert in seen:
        alert.seen_at = utcnow()
    if seen:
        record("seen", "credit_alert", None, actor=actor, fields=["seen_at"])
    return len(seen)


# -- farm-wide -----------------------------------------------------------------------------

def farm_aging(today: date | None = None) -> dict:
    """The farm's aging (as aging()), how many invoices are in each bucket, and DSO."""
    today = today or farm_today()
    buckets, counts = _farm_aging(today)
    total = sum(buckets.values())
    since = today - timedelta(days=90)
    billed = db.session.scalar(select(func.coalesce(func.sum(Invoice.total), 0))
                               .where(Invoice.issue_date > since, Invoice.issue_date <= today))
    return {"buckets": buckets, "counts": counts, "total": total,
            # days sales outstanding: what is owed against the last 90 days' invoicing
            "dso": round(total * 90 / billed) if billed else None}


def on_hold(limit: int = 100):
    return db.session.execute(
        select(Customer, CreditAccount).join(CreditAccount,
                                             CreditAccount.customer_id == Customer.id)
        .where(CreditAccount.hold.is_not(None)).order_by(CreditAccount.hold_at.desc())
        .limit(limit)).all()


def nightly(*, actor, today: date | None = None) -> dict:
    """Every night (flask credit nightly, or the job of that name): an alert for each invoice
    newly overdue (one email a customer, however many), and each customer with an overdue
    invoice, a limit or an automatic hold looked at again for the automatic hold and the near
    / over limit alerts. Set-based reads: no invoice is loaded whole."""
    today = today or farm_today()
    settled = _settled()
    left = Invoice.total - func.coalesce(settled.c.settled, 0)
    overdue = db.session.execute(
        select(Invoice.customer_id, Invoice.id)
        .outerjoin(settled, settled.c.invoice_id == Invoice.id)
        .where(Invoice.due_date < today,
               left >= current_app.config["CREDIT_OVERDUE_THRESHOLD"])).all()
    alerted = set(db.session.scalars(select(CreditAlert.invoice_id).where(
        CreditAlert.kind == "overdue", CreditAlert.seen_at.is_(None))))
    raised, emailed = 0, set()
    for customer_id, invoice_id in overdue:
        if invoice_id not in alerted:
            raised += _alert(customer_id, "overdue", invoice_id,
                             email=customer_id not in emailed)
            emailed.add(customer_id)
    ids = {customer_id for customer_id, _ in overdue} | set(db.session.scalars(
        select(CreditAccount.customer_id).where(
            CreditAccount.credit_limit.is_not(None) | (CreditAccount.hold == "auto"))))
    customers = db.session.scalars(select(Customer).where(Customer.id.in_(ids))).all()
    for customer in customers:
        refresh_automatic_hold(customer, actor=actor, today=today)
        for reason in credit_status(customer, today).reasons:
            if reason.code in ("near_limit", "over_limit"):
                raised += _alert(customer.id, reason.code)
    return {"alerts": raised, "customers": len(customers)}


# -- writing: invoices, payments, adjustments ----------------------------------------------

def _entry(customer_id, kind, amount, *, actor, occurred_on, applied=None, invoice_id=None,
           payment_id=None, reverses_id=None, memo=None) -> LedgerEntry:
    entry = LedgerEntry(customer_id=customer_id, kind=kind, amount=amount, applied=applied,
                        invoice_id=invoice_id, payment_id=payment_id, reverses_id=reverses_id,
                        occurred_on=occurred_on, memo=memo, actor_kind=actor.kind,
                        actor_id=actor.id)
    db.session.add(entry)
    if invoice_id is not None and applied is not None:
        db.session.flush()
        _mark_settled([invoice_id])
    return entry


def _mark_settled(invoice_ids):
    """Set each invoice's `settled` from its entries (after one settled or reopened it)."""
    settled = (select(func.coalesce(func.sum(LedgerEntry.applied), 0))
               .where(LedgerEntry.invoice_id == Invoice.id, LedgerEntry.applied.is_not(None))
               .scalar_subquery())
    db.session.execute(update(Invoice).where(Invoice.id.in_(list(invoice_ids)))
                       .values(settled=settled >= Invoice.total)
                       .execution_options(synchronize_session=False))


def next_invoice_number(year: int) -> str:
    """The year's next number, INV-2026-00017: the counter row is updated (and so locked)
    in the caller's transaction, which is what keeps the numbers gap-free and unique."""
    db.session.execute(_insert(InvoiceCounter).on_conflict_do_nothing(),
                       [{"year": year, "last": 0}])
    last = db.session.scalar(update(InvoiceCounter).where(InvoiceCounter.year == year)
                             .values(last=InvoiceCounter.last + 1)
                             .returning(InvoiceCounter.last))
    return f"INV-{year}-{last:05d}"


def issue_invoice(customer, lines, *, actor, issue_date: date | None = None,
                  due_date: date | None = None, order=None, memo=None) -> Invoice:
    """An invoice of `lines` [(description, quantity, unit price)], numbered, due by the
    customer's terms (or `due_date`), with its ledger entry; paid at once from credit on
    account, oldest first."""
    issue_date = issue_date or farm_today()
    account = get_account(customer.id, lock=True)
    lines = [(d, q, p) for d, q, p in lines]
    if not lines or any(q <= 0 or p < 0 for _, q, p in lines):
        raise CreditError("Each line needs a quantity above zero and a price.")
    total = sum(q * p for _, q, p in lines)
    if total <= 0:
        raise CreditError("An invoice must be for more than nothing.")
    due_date = due_date or issue_date + timedelta(days=TERM_DAYS[account.terms])
    if due_date < issue_date:
        raise CreditError("The due date cannot be before the issue date.")
    invoice = Invoice(number=next_invoice_number(issue_date.year), customer_id=customer.id,
                      order_id=order.id if order is not None else None, issue_date=issue_date,
                      due_date=due_date, terms=account.terms, total=total, memo=memo,
                      created_by_kind=actor.kind, created_by_id=actor.id,
                      lines=[InvoiceLine(description=d, quantity=q, unit_price=p)
                             for d, q, p in lines])
    db.session.add(invoice)
    db.session.flush()
    _entry(customer.id, "invoice", total, actor=actor, occurred_on=issue_date,
           invoice_id=invoice.id)
    record("create", "invoice", invoice.id, actor=actor, fields=["total", "due_date"])
    _allocate_credit(customer.id, actor=actor, on=issue_date)
    return invoice


def manual_invoice(customer, lines, *, memo: str, actor, issue_date: date | None = None,
                   due_date: date | None = None, override: str | None = None):
    """An invoice for ad hoc charges: it raises what is owed, so check_credit decides first
    (a block refuses it unless `override` gives a reason; returns (invoice, decision))."""
    if customer.is_archived:
        from crm.customers.services import ArchivedError

        raise ArchivedError(customer)
    if not (memo or "").strip():
        raise CreditError("Say what the invoice is for.")
    total = sum(q * p for _, q, p in lines)
    decision = check_credit(customer, total)
    if decision.blocked and not (override or "").strip():
        raise CreditBlocked(decision)
    invoice = issue_invoice(customer, lines, actor=actor, issue_date=issue_date,
                            due_date=due_date, memo=memo.strip())
    if decision.blocked:
        record("override", "invoice", invoice.id, actor=actor, fields=["credit"])
    return invoice, decision


class CreditBlocked(CreditError):
    """check_credit said no: `decision` holds the reasons."""

    def __init__(self, decision: "Decision"):
        super().__init__("; ".join(r.words for r in decision.reasons))
        self.decision = decision


def record_payment(customer, amount: int, *, method: str, received_on: date, actor,
                   reference: str | None = None, allocations: dict[int, int] | None = None):
    """A payment, allocated first by hand (`allocations` {invoice id: amount}), the rest to
    open invoices oldest first; what is left is credit on account. Then the automatic hold is
    looked at again."""
    from crm.credit.models import PAYMENT_METHODS

    if amount <= 0:
        raise CreditError("A payment must be more than zero.")
    if method not in PAYMENT_METHODS:
        raise CreditError("Choose how it was paid.")
    if received_on > farm_today():
        raise CreditError("A payment cannot be received in the future.")
    get_account(customer.id, lock=True)  # one payment decision for a customer at a time
    payment = Payment(customer_id=customer.id, amount=amount, method=method,
                      reference=(reference or "").strip() or None, received_on=received_on,
                      created_by_kind=actor.kind, created_by_id=actor.id)
    db.session.add(payment)
    db.session.flush()
    _entry(customer.id, "payment", -amount, actor=actor, occurred_on=received_on,
           payment_id=payment.id)
    if allocations:
        allocate(payment, allocations, actor=actor)
    _allocate_credit(customer.id, actor=actor, on=received_on)  # the rest: oldest first
    record("create", "payment", payment.id, actor=actor, fields=["amount", "method"])
    refresh_automatic_hold(customer, actor=actor)
    return payment


def _payments_with_credit(customer_id: int):
    """[(payment, unapplied)] oldest first."""
    used = _used(LedgerEntry.customer_id == customer_id)
    left = Payment.amount - func.coalesce(used.c.used, 0)
    rows = db.session.execute(
        select(Payment, left).outerjoin(used, used.c.payment_id == Payment.id)
        .where(Payment.customer_id == customer_id, left > 0)
        .order_by(Payment.received_on, Payment.id))
    return rows.all()


def _allocate_credit(customer_id: int, *, actor, on: date):
    """Apply unallocated payments to open invoices, oldest first on both sides (the open
    invoices are read only when some money is unallocated)."""
    payments = _payments_with_credit(customer_id)
    if not payments:
        return
    invoices = [[row, row.open] for row in open_rows(customer_id)]
    for payment, left in payments:
        for row in invoices:
            if left <= 0:
                break
            if row[1] <= 0:
                continue
            part = min(left, row[1])
            _entry(customer_id, "allocation", 0, applied=part, invoice_id=row[0].id,
                   payment_id=payment.id, actor=actor, occurred_on=on)
            row[1] -= part
            left -= part


def allocate(payment, allocations: dict[int, int], *, actor):
    """Allocate a payment by hand: {invoice id: amount}. Refused whole when an invoice is
    not this customer's, or an amount is more than the invoice's open amount or than what is
    left of the payment. The customer's account is locked first, so two clerks allocating the
    same payment take turns and the second sees what the first did."""
    get_account(payment.customer_id, lock=True)
    wanted = {i: a for i, a in allocations.items() if a}
    if any(a < 0 for a in wanted.values()):
        raise CreditError("An allocation cannot be negative.")
    invoices = {i.id: i for i in db.session.scalars(
        select(Invoice).where(Invoice.id.in_(list(wanted)),
                              Invoice.customer_id == payment.customer_id))}
    if set(wanted) - set(invoices):
        raise CreditError("That invoice is not this customer's.")
    open_now = open_amounts(wanted)
    for invoice_id, amount in wanted.items():
        if amount > open_now[invoice_id]:
            raise CreditError(f"{invoices[invoice_id].number} has only "
                              f"{format_money(open_now[invoice_id])} open.")
    left = unapplied(payment.id)
    if sum(wanted.values()) > left:
        raise CreditError(f"Only {format_money(left)} of this payment is left to allocate.")
    for invoice_id, amount in wanted.items():
        _entry(payment.customer_id, "allocation", 0, applied=amount, invoice_id=invoice_id,
               payment_id=payment.id, actor=actor, occurred_on=farm_today())


def settle_invoice(invoice, amount: int, *, kind: str, memo: str, actor):
    """A credit note or a write-off against an invoice (finance): lowers what is owed and
    what is open on the invoice by `amount`."""
    if kind not in ("credit_note", "write_off"):
        raise ValueError(kind)
    get_account(invoice.customer_id, lock=True)
    if amount <= 0:
        raise CreditError("The amount must be more than zero.")
    if not (memo or "").strip():
        raise CreditError("Say why.")
    left = open_amounts([invoice.id])[invoice.id]
    if amount > left:
        raise CreditError(f"{invoice.number} has only {format_money(left)} open.")
    entry = _entry(invoice.customer_id, kind, -amount, applied=amount, invoice_id=invoice.id,
                   memo=memo.strip(), actor=actor, occurred_on=farm_today())
    record(kind, "invoice", invoice.id, actor=actor, fields=["amount"])
    return entry


def refund(payment, amount: int, *, memo: str, actor):
    """Pay back unallocated money of a payment (finance): what is owed goes up by it."""
    get_account(payment.customer_id, lock=True)
    if amount <= 0:
        raise CreditError("The amount must be more than zero.")
    left = unapplied(payment.id)
    if amount > left:
        raise CreditError(f"Only {format_money(left)} of this payment is unallocated.")
    entry = _entry(payment.customer_id, "refund", amount, payment_id=payment.id,
                   memo=(memo or "").strip() or None, actor=actor, occurred_on=farm_today())
    record("refund", "payment", payment.id, actor=actor, fields=["amount"])
    return entry


def reverse(entry: LedgerEntry, *, memo: str, actor) -> LedgerEntry:
    """Undo one entry with its mirror image (once: reverses_id is unique). An invoice's or a
    payment's own entry is not reversed alone: settle the invoice or refund the payment."""
    get_account(entry.customer_id, lock=True)
    if entry.reverses_id is not None:
        raise CreditError("A reversal is not reversed; record the entry again instead.")
    if db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.reverses_id == entry.id)):
        raise CreditError("This entry has already been reversed.")
    if entry.kind in ("invoice", "payment"):
        raise CreditError("Settle the invoice or refund the payment instead.")
    if not (memo or "").strip():
        raise CreditError("Say why.")
    mirror = _entry(entry.customer_id, entry.kind, -entry.amount,
                    applied=None if entry.applied is None else -entry.applied,
                    invoice_id=entry.invoice_id, payment_id=entry.payment_id,
                    reverses_id=entry.id, memo=memo.strip(), actor=actor,
                    occurred_on=farm_today())
    record("reverse", "ledger_entry", entry.id, actor=actor, fields=["amount"])
    return mirror


# -- merging customers ---------------------------------------------------------------------

def merge_veto(kind: str, survivor, loser) -> str | None:
    """A customer merge moves the merged-away customer's rows to the one that stays; its
    books cannot move (the ledger is never updated), so a customer with invoices or payments
    is never the one merged away."""
    if kind != "customer":
        return None
    booked = db.session.scalar(select(LedgerEntry.id).where(
        LedgerEntry.customer_id == loser.id).limit(1))
    if booked is None:
        return None
    if db.session.scalar(select(LedgerEntry.id).where(
            LedgerEntry.customer_id == survivor.id).limit(1)) is not None:
        return (f"Both {survivor.number} and {loser.number} have invoices or payments, and a "
                "customer's books stay with it: these two cannot be merged.")
    return (f"{loser.number} has invoices or payments, and a customer's books stay with it: "
            f"keep {loser.number} and merge {survivor.number} into it instead.")


# -- the books agree with themselves ----------------------------------------------------------

def verify(customer_ids=None) -> dict[int, list[str]]:
    """{customer id: what disagrees} where the ledger and the documents tell different
    stories: an invoice's or a payment's entry that is missing or differs, an invoice settled
    past its total or marked settled when it is not (or open when it is), a payment allocated or refunded past its amount, or a balance that is not
    what the open invoices less the credit on account say. Empty when the books agree."""
    problems: dict[int, list[str]] = {}

    def wrong(customer_id, text):
        problems.setdefault(customer_id, []).append(text)

    def scoped(statement, column):
        return statement if customer_ids is None else statement.where(
            column.in_(list(customer_ids)))

    booked = (select(LedgerEntry.invoice_id, func.sum(LedgerEntry.amount).label("amount"))
              .where(LedgerEntry.kind == "invoice").group_by(LedgerEntry.invoice_id).subquery())
    for customer_id, number, total, entry in db.session.execute(scoped(
            select(Invoice.customer_id, Invoice.number, Invoice.total, booked.c.amount)
            .outerjoin(booked, booked.c.invoice_id == Invoice.id), Invoice.customer_id)):
        if entry != total:
            wrong(customer_id, f"{number}: total {total}, ledger {entry}")
    paid = (select(LedgerEntry.payment_id, func.sum(LedgerEntry.amount).label("amount"))
            .where(LedgerEntry.kind == "payment").group_by(LedgerEntry.payment_id).subquery())
    for customer_id, payment_id, amount, entry in db.session.execute(scoped(
            select(Payment.customer_id, Payment.id, Payment.amount, paid.c.amount)
            .outerjoin(paid, paid.c.payment_id == Payment.id), Payment.customer_id)):
        if entry != -amount:
            wrong(customer_id, f"payment {payment_id}: amount {amount}, ledger {entry}")
    settled = _settled()
    for customer_id, number, total, done in db.session.execute(scoped(
            select(Invoice.customer_id, Invoice.number, Invoice.total, settled.c.settled)
            .join(settled, settled.c.invoice_id == Invoice.id)
            .where((settled.c.settled > Invoice.total) | (settled.c.settled < 0)),
            Invoice.customer_id)):
        wrong(customer_id, f"{number}: {done} settled of {total}")
    done = func.coalesce(settled.c.settled, 0)
    for customer_id, number, marked in db.session.execute(scoped(
            select(Invoice.customer_id, Invoice.number, Invoice.settled)
            .outerjoin(settled, settled.c.invoice_id == Invoice.id)
            .where(Invoice.settled != (done >= Invoice.total)), Invoice.customer_id)):
        wrong(customer_id, f"{number}: marked {'settled' if marked else 'open'}, "
                           f"the ledger says {'open' if marked else 'settled'}")
    used = _used()
    for customer_id, payment_id, amount, spent in db.session.execute(scoped(
            select(Payment.customer_id, Payment.id, Payment.amount, used.c.used)
            .join(used, used.c.payment_id == Payment.id)
            .where((used.c.used > Payment.amount) | (used.c.used < 0)), Payment.customer_id)):
        wrong(customer_id, f"payment {payment_id}: {spent} used of {amount}")
    # balance = open on invoices - money paid and not allocated (payments less allocations
    # and refunds): the ledger's sum must say the same.
    owed = dict(db.session.execute(scoped(
        select(LedgerEntry.customer_id, func.sum(LedgerEntry.amount))
        .group_by(LedgerEntry.customer_id), LedgerEntry.customer_id)).all())
    settled = _settled()
    left = Invoice.total - func.coalesce(settled.c.settled, 0)
    open_by = dict(db.session.execute(scoped(
        select(Invoice.customer_id, func.sum(left))
        .outerjoin(settled, settled.c.invoice_id == Invoice.id).where(left > 0)
        .group_by(Invoice.customer_id), Invoice.customer_id)).all())
    credit = dict(db.session.execute(scoped(
        select(Payment.customer_id, func.sum(Payment.amount - func.coalesce(used.c.used, 0)))
        .outerjoin(used, used.c.payment_id == Payment.id).group_by(Payment.customer_id),
        Payment.customer_id)).all())
    for customer_id in set(owed) | set(open_by) | set(credit):
        expected = open_by.get(customer_id, 0) - credit.get(customer_id, 0)
        if owed.get(customer_id, 0) != expected:
            wrong(customer_id, f"balance {owed.get(customer_id, 0)}, documents say {expected}")
    return problems
