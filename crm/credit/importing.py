"""CSV import of open invoices and opening balances, for a farm moving its books from a
spreadsheet or accounting software. The stages are the contacts import's
(crm.contacts.importing), and its general parts are used as they are: reading (size, encoding,
delimiter, records: importing.read), header names compared loosely and spreadsheet-safe cells
(importing.columns), the report's CSV (importing.report.csv_text).

    parsed = read(data)            # bytes -> rows; ImportFileError for the file as a whole
    plan = check(parsed)           # every row validated and matched (reads the database)
    apply(plan, actor=user)        # writes through the credit services; the caller commits
    report_csv(plan), plan.counts

The file: one row per open invoice or opening balance, columns (any order and case, common
names too: ALIASES):

    customer    its number (CUST-00042; a merged-away number leads to the customer it was
                merged into) or its exact name (case and runs of spaces aside); a name two
                customers share, an archived customer, or none, is the row's error
    kind        invoice (the default) or balance; a file whose amount column is called
                "balance" or "opening balance" and that has no kind column is all balances
    number      the old system's invoice number: needed on an invoice, optional on a balance
    issue_date  2026-03-15, or as the farm's locale writes dates (3/15/2026 in en_US);
                needed on an invoice, a balance without one is dated the day of the import
    due_date    optional: else the customer's payment terms from the issue date
    amount      as the farm's locale writes amounts (crm.money.parse_money: "12,50" in
                en_US is an error, never 1,250; more decimals than the currency has too)
    paid        optional: what of the invoice was paid already

What is written, through crm.credit.services, so the ledger and its invariant hold:

  * an invoice row: issue_invoice() with one line "Invoice <number> (imported)", numbered in
    our own gap-free series (INV-YYYY-NNNNN), memo "Imported: <number>"; its paid part a
    payment (bank transfer, received on the issue date, reference "Imported: paid on
    <number>") allocated to it. issue_invoice() pays a new invoice from credit already on
    the account first, as it always does: the paid part then goes on what is left open, and
    any rest stays as credit on account.
  * a positive balance row: an invoice with one line "Opening balance", memo "Imported:
    opening balance" (and the number, when given), paid part as above.
  * a negative balance row (a credit the customer had): a payment of that amount, bank
    transfer, reference "Imported: opening balance" — a credit on account, which
    record_payment() applies to the customer's open invoices oldest first, as any payment.

Imports raise what customers owe without asking check_credit: they record what was owed
already, they are not a decision to sell more. The usual rules then apply (an invoice long
overdue puts the account on hold when its paid part is recorded, or that night).

Already imported. The old number is kept in the invoice's memo ("Imported: <number>") and an
opening balance's mark in its invoice's memo or its credit's payment reference. Both are
encrypted, so they are read back for the customers of the file and compared here: a row whose
customer already has an imported invoice of that number (compared without case), or already
has an imported opening balance (one per customer), is skipped ("already imported"), not an
error — a file can be topped up with new rows and imported again. The same within the file is
an error: two rows with one number for one customer, or two balances for one customer, cannot
both be right. apply() locks the customers' credit accounts and looks again before writing,
so an import sent twice at once imports once.

All or nothing: while any row has an error nothing is imported (there is no "valid rows only"
here: a ledger half brought over is worse than none). Messages never quote the file's values
(they go to the CLI and the report); the preview shows the values beside them, escaped.
"""
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import ClassVar

from babel.dates import get_date_format
from flask import current_app
from sqlalchemy import select

from crm import normalise
from crm.audit.models import MergedRecord
from crm.audit.services import record
from crm.common import batches, farm_today
from crm.contacts.importing.columns import loose_key, unsafe_cell
from crm.contacts.importing.read import ImportFileError, RowErrors, opened, split
from crm.contacts.importing.report import csv_text
from crm.credit import services as credit
from crm.credit.models import DEFAULT_TERMS, TERM_DAYS, TERMS, CreditAccount, Invoice, Payment
from crm.customers.models import Customer, format_number
from crm.extensions import db
from crm.money import MoneyError, format_money, parse_money

MAX_BYTES = 256 * 1024  # what the preview carries back sealed fits a form (crm.credit.import_views)
MAX_ROWS = 5_000
MAX_NUMBER = 40  # characters of an old invoice number

COLUMNS = ("customer", "kind", "number", "issue_date", "due_date", "amount", "paid")
LABELS = {"customer": "Customer", "kind": "Kind", "number": "Number", "issue_date": "Issue date",
          "due_date": "Due date", "amount": "Amount", "paid": "Paid", "row": "Row"}
ALIASES = {
    "customer": ["customer", "customer number", "customer no", "customer name", "customer id",
                 "account", "account number", "account name", "client", "company", "name"],
    "kind": ["kind", "type", "row type", "entry type"],
    "number": ["number", "invoice", "invoice number", "invoice no", "invoice #", "inv",
               "inv no", "document", "document number", "doc number", "reference", "ref"],
    "issue_date": ["issue date", "issue_date", "issued", "issued on", "date", "invoice date",
                   "document date"],
    "due_date": ["due date", "due_date", "due", "due on", "payment due"],
    "amount": ["amount", "total", "invoice total", "invoice amount", "gross", "balance",
               "opening balance"],
    "paid": ["paid", "amount paid", "paid amount", "paid to date", "payments", "payment"],
}
_FIELD_OF = {loose_key(alias): name for name, aliases in ALIASES.items() for alias in aliases}
BALANCE_HEADERS = {loose_key("balance"), loose_key("opening balance")}
KINDS = {"invoice": "Invoice", "balance": "Opening balance"}
KIND_VALUES = {**{loose_key(k): k for k in KINDS}, "inv": "invoice",
               "openingbalance": "balance", "opening": "balance", "bal": "balance"}
CUSTOMER_NUMBER = re.compile(r"^cust-?0*([0-9]{1,9})$", re.IGNORECASE)
DATE_PARTS = re.compile(r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})$")
TIME_AFTER = re.compile(r"^\S+?[ T]0?0:00(:00(\.0+)?)?$")  # a date with a midnight time

MARK = "Imported: "
BALANCE_MARK = MARK + "opening balance"
PAID_MARK = MARK + "paid on "
METHOD = "bank_transfer"
OUTCOMES = {"import": "Import", "skipped": "Already imported", "error": "Error"}


class ImportRefused(Exception):
    """apply() was asked to write a plan with errors."""


@dataclass(eq=False)
class Row(RowErrors):
    """One record of the file and what becomes of it."""

    labels: ClassVar[dict] = LABELS

    line: int
    raw: dict  # cell text by column, as in the file
    data: dict = field(default_factory=dict)  # the values read
    errors: dict = field(default_factory=dict)  # column -> [messages]
    outcome: str = ""  # OUTCOMES
    message: str = ""
    customer_id: int | None = None
    written: str = ""  # what was written: our invoice number, or "payment <id>"

    @property
    def key(self) -> tuple:
        """What makes the row one of a kind for its customer: its old number (an invoice),
        or being the opening balance (one per customer)."""
        if self.data.get("kind") == "balance":
            return ("balance",)
        return ("invoice", (self.data.get("number") or "").casefold())


@dataclass
class Parsed:
    text: str  # the file decoded (what the preview carries to the import, sealed)
    encoding: str
    delimiter_name: str
    headers: list
    fields: list  # the field each column is read as, or None
    rows: list
    blank_lines: int = 0
    default_kind: str = "invoice"

    @property
    def ignored(self) -> list:
        return [h.strip() or f"(column {i + 1} without a name)"
                for i, (h, f) in enumerate(zip(self.headers, self.fields)) if f is None]


def read(data: bytes) -> Parsed:
    """Bytes of an uploaded file (MAX_BYTES at most), decoded, as rows."""
    text, encoding = opened(data, MAX_BYTES)
    return parse(text, encoding)


def parse(text: str, encoding: str = "UTF-8") -> Parsed:
    """Rows of a CSV text, its columns read by their header names. ImportFileError when the
    file as a whole cannot be used (no customer or amount column, a field given twice)."""
    found = split(text, MAX_ROWS)
    fields, seen = [], {}
    for position, header in enumerate(found.headers):
        name = _FIELD_OF.get(loose_key(header))
        if name in seen:
            raise ImportFileError(
                f"Two columns are both read as {LABELS[name]}: “{_header(found, seen[name])}” "
                f"and “{_header(found, position)}”. Remove or rename one of them.")
        if name:
            seen[name] = position
        fields.append(name)
    missing = [LABELS[c] for c in ("customer", "amount") if c not in seen]
    if missing:
        raise ImportFileError(
            f"No column is read as {' or '.join(missing)}. The file needs at least the "
            f"columns customer and amount (its columns can be {', '.join(COLUMNS)}).")
    default_kind = ("balance" if "kind" not in seen
                    and loose_key(found.headers[seen["amount"]]) in BALANCE_HEADERS else "invoice")
    parsed = Parsed(text=text, encoding=encoding, delimiter_name=found.delimiter_name,
                    headers=found.headers, fields=fields, rows=[],
                    blank_lines=found.blank_lines, default_kind=default_kind)
    width = len(found.headers)
    for line, cells in found.records:
        row = Row(line=line, raw={c: cells[p] if p < len(cells) else "" for c, p in seen.items()})
        if any(c.strip() for c in cells[width:]):
            row.error("row", f"This line has {len(cells)} cells but the header has {width}: "
                             "a value with the delimiter in it needs quotes around it.")
        parsed.rows.append(row)
    return parsed


def _header(found, position) -> str:
    return found.headers[position].strip() or f"column {position + 1}"


# -- checking ---------------------------------------------------------------------------------

@dataclass(eq=False)
class Plan:
    parsed: Parsed
    rows: list
    applied: bool = False

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if not r.valid)

    @property
    def refused(self) -> bool:
        """Nothing is imported while any row has an error."""
        return bool(self.errors)

    @property
    def to_import(self) -> list:
        return [r for r in self.rows if r.outcome == "import"]

    @property
    def counts(self) -> dict:
        """rows = imported + skipped + errors (imported is what is or would be written: 0
        while the import is refused)."""
        rows = self.to_import
        return {"rows": len(self.rows), "imported": 0 if self.refused else len(rows),
                "skipped": sum(1 for r in self.rows if r.outcome == "skipped"),
                "errors": self.errors}

    @property
    def totals(self) -> dict:
        """What the rows to import add up to (minor units): invoiced (invoices and positive
        balances), paid on them, credits (negative balances, as a positive sum), and what
        customers owe more once imported."""
        rows = self.to_import
        invoiced = sum(r.data["amount"] for r in rows if r.data["amount"] > 0)
        paid = sum(r.data["paid"] or 0 for r in rows)
        credits = -sum(r.data["amount"] for r in rows if r.data["amount"] < 0)
        return {"invoiced": invoiced, "paid": paid, "credits": credits,
                "owed": invoiced - paid - credits,
                "invoices": sum(1 for r in rows if r.data["kind"] == "invoice"),
                "balances": sum(1 for r in rows if r.data["kind"] == "balance"),
                "customers": len({r.customer_id for r in rows})}


def check(parsed: Parsed, today: date | None = None) -> Plan:
    """Validate every row, find its customer, and decide what becomes of it (reads only)."""
    today = today or farm_today()
    for row in parsed.rows:
        row.data, row.errors = {}, {k: v for k, v in row.errors.items() if k == "row"}
        row.outcome = row.message = row.written = ""
        row.customer_id = None
        _clean(row, parsed.default_kind, today)
    _find_customers(parsed.rows)
    _terms(parsed.rows)
    _repeats_in_file(parsed.rows)
    plan = Plan(parsed=parsed, rows=parsed.rows)
    _decide(plan, imported_keys({r.customer_id for r in plan.rows if r.valid}))
    return plan


def _text(row: Row, column: str) -> str:
    return normalise.clean_text(unsafe_cell(row.raw.get(column) or ""))


def _clean(row: Row, default_kind: str, today: date):
    d = row.data
    d["customer"] = _text(row, "customer")
    if not d["customer"]:
        row.error("customer", "Give the customer's number (CUST-00042) or its exact name.")
    kind = _text(row, "kind")
    d["kind"] = KIND_VALUES.get(loose_key(kind)) if kind else default_kind
    if d["kind"] is None:
        row.error("kind", "Not a kind of row: use invoice or balance.")
    d["number"] = _text(row, "number")
    if len(d["number"]) > MAX_NUMBER:
        row.error("number", f"Too long: {MAX_NUMBER} characters at most.")
    elif not d["number"] and d["kind"] == "invoice":
        row.error("number", "An invoice needs the number it had, so a second import of the "
                            "file knows it is here already.")
    d["issue_date"] = _date(row, "issue_date")
    if d["issue_date"] is None and "issue_date" not in row.errors:
        if d["kind"] == "balance":
            d["issue_date"] = today  # an opening balance without a date: as of the import
        else:
            row.error("issue_date", "An invoice needs its issue date.")
    if d["issue_date"] and d["issue_date"] > today:
        row.error("issue_date", "The issue date is in the future: only what is owed already "
                                "can be imported.")
    d["due_date"] = _date(row, "due_date")
    if d["due_date"] and d["issue_date"] and d["due_date"] < d["issue_date"]:
        row.error("due_date", "The due date is before the issue date.")
    d["amount"] = _money(row, "amount", required=True)
    d["paid"] = _money(row, "paid")
    amount, paid = d["amount"], d["paid"]
    if amount is not None:
        if amount == 0:
            row.error("amount", "Zero: nothing to import. Leave the row out."
                      if d["kind"] == "balance" else "An invoice must be for more than zero.")
        elif amount < 0 and d["kind"] != "balance":
            row.error("amount", "An invoice must be for more than zero (a credit the customer "
                                "has is a balance row with a negative amount).")
    if paid is not None:
        if paid < 0:
            row.error("paid", "Paid cannot be negative.")
        elif amount is not None and amount < 0 and paid:
            row.error("paid", "A credit balance has nothing paid on it: leave paid empty.")
        elif amount is not None and paid > amount > 0:
            row.error("paid", "More is paid than the amount.")


def _money(row: Row, column: str, required: bool = False) -> int | None:
    text = _text(row, column)
    if not text:
        if required:
            row.error(column, "Enter an amount.")
        return None
    try:
        return parse_money(text)
    except MoneyError as exc:
        message = str(exc)
        quoted = f"{text.strip()!r} is not an amount."
        if message.startswith(quoted):  # the value stays out of messages
            message = "Not an amount." + message[len(quoted):]
        row.error(column, message)
        return None


def _date_order() -> str:
    """The order of day, month and year in the farm's locale's short dates ("mdy" en_US)."""
    pattern = get_date_format("short", locale=current_app.config["FARM_LOCALE"]).pattern
    where = {part: pattern.find(letter) for part, letter in (("d", "d"), ("m", "M"),
                                                             ("y", "y"))}
    return "".join(sorted(where, key=where.get)) if min(where.values()) >= 0 else "mdy"


def _example(order: str) -> str:
    sample = {"y": "2026", "m": "3", "d": "15"}
    return "/".join(sample[p] for p in order)


def _date(row: Row, column: str) -> date | None:
    """2026-03-15, or the farm's locale's order of day, month and year (a two-digit year is
    this century's)."""
    text = _text(row, column)
    if not text:
        return None
    if TIME_AFTER.match(text):  # "2026-03-15 00:00:00", as some exports write a date
        text = text.split("T")[0].split(" ")[0]
    order = _date_order()
    match = DATE_PARTS.match(text)
    try:
        if match and len(match[1]) == 4:  # 2026-03-15, 2026/3/15
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match and len(match[3]) in (2, 4) and order != "ymd":
            parts = dict(zip(order, (int(match[1]), int(match[2]), int(match[3]))))
            year = parts["y"] + (2000 if parts["y"] < 100 else 0)
            return date(year, parts["m"], parts["d"])
    except ValueError:
        row.error(column, "No such day.")
        return None
    row.error(column, f"Not a date: write it as 2026-03-15 (or {_example(order)}).")
    return None


def _find_customers(rows):
    """Each valid row's customer: by number (a merged-away one leads on), else by name among
    all customers (names are encrypted: loaded once and compared here)."""
    by_number, by_name = {}, {}
    for row in rows:
        if not row.data["customer"]:
            continue
        match = CUSTOMER_NUMBER.match(row.data["customer"])
        if match:
            by_number.setdefault(int(match[1]), []).append(row)
        else:
            by_name.setdefault(row.data["customer"].casefold(), []).append(row)
    moved = {}
    for chunk in batches(sorted(by_number), 500):
        moved.update(db.session.execute(
            select(MergedRecord.old_id, MergedRecord.survivor_id)
            .where(MergedRecord.kind == "customer", MergedRecord.old_id.in_(chunk))).all())
    wanted = {moved.get(n, n) for n in by_number}
    archived = {}
    for chunk in batches(sorted(wanted), 500):
        archived.update(db.session.execute(
            select(Customer.id, Customer.archived_at).where(Customer.id.in_(chunk))).all())
    for number, numbered in by_number.items():
        customer_id = moved.get(number, number)
        for row in numbered:
            if customer_id not in archived:
                row.error("customer", "No customer has this number.")
            elif archived[customer_id] is not None:
                row.error("customer", "This customer is archived: restore it first, or leave "
                                      "the row out.")
            else:
                row.customer_id = customer_id
                if customer_id != number:
                    row.message = (f"{format_number(number)} was merged into "
                                   f"{format_number(customer_id)}: imported there.")
    if not by_name:
        return
    named = {}
    for customer_id, name, archived_at in db.session.execute(
            select(Customer.id, Customer.name, Customer.archived_at).order_by(Customer.id)):
        key = normalise.clean_text(name).casefold()
        if key in by_name:
            named.setdefault(key, []).append((customer_id, archived_at))
    for key, rows_named in by_name.items():
        found = named.get(key, [])
        live = [i for i, archived_at in found if archived_at is None]
        for row in rows_named:
            if len(live) == 1:
                row.customer_id = live[0]
            elif len(live) > 1:
                row.error("customer", f"{len(live)} customers have this name "
                                      f"({', '.join(format_number(i) for i in live)}): give "
                                      "the number instead.")
            elif found:
                row.error("customer", "This customer is archived: restore it first, or leave "
                                      "the row out.")
            else:
                row.error("customer", "No customer has this exact name: check it, or give "
                                      "the customer's number (CUST-00042).")


def _terms(rows):
    """The due date of rows without one: the customer's terms from the issue date."""
    ids = {r.customer_id for r in rows if r.customer_id and not r.data["due_date"]}
    terms = {}
    for chunk in batches(sorted(ids), 500):
        terms.update(db.session.execute(
            select(CreditAccount.customer_id, CreditAccount.terms)
            .where(CreditAccount.customer_id.in_(chunk))).all())
    for row in rows:
        row.data["terms"] = None
        if row.customer_id in ids and row.data["issue_date"] and not row.data["due_date"] \
                and (row.data["amount"] or 0) >= 0:  # a credit is due nothing
            term = terms.get(row.customer_id, DEFAULT_TERMS)
            row.data["terms"] = term
            row.data["due_date"] = row.data["issue_date"] + timedelta(days=TERM_DAYS[term])


def _repeats_in_file(rows):
    seen = {}
    for row in rows:
        if not row.customer_id or row.data["kind"] is None:
            continue
        if row.data["kind"] == "invoice" and not row.data["number"]:
            continue
        first = seen.setdefault((row.customer_id, row.key), row)
        if first is row:
            continue
        if row.data["kind"] == "balance":
            row.error("kind", f"Line {first.line} gives this customer's opening balance "
                              "already: a customer has one.")
        else:
            row.error("number", f"Line {first.line} has this number for this customer too: "
                                "an invoice is one row.")


def imported_keys(customer_ids) -> dict:
    """{(customer id, row key): (what it was imported as, its amount)} of what earlier imports
    wrote for these customers: invoices whose memo starts "Imported: " and opening-balance
    credits (payments with that reference). Memos and references are encrypted, so they are
    read and compared here, never in SQL."""
    found = {}
    ids = sorted(i for i in customer_ids if i)
    for chunk in batches(ids, 500):
        for customer_id, number, memo, total in db.session.execute(
                select(Invoice.customer_id, Invoice.number, Invoice.memo, Invoice.total)
                .where(Invoice.customer_id.in_(chunk), Invoice.order_id.is_(None))
                .order_by(Invoice.id)):
            key = _key_of(memo)
            if key:
                found.setdefault((customer_id, key), (number, total))
        for customer_id, payment_id, reference, amount in db.session.execute(
                select(Payment.customer_id, Payment.id, Payment.reference, Payment.amount)
                .where(Payment.customer_id.in_(chunk)).order_by(Payment.id)):
            if (reference or "").startswith(BALANCE_MARK):
                found.setdefault((customer_id, ("balance",)), (f"payment {payment_id}", -amount))
    return found


def _key_of(memo: str | None) -> tuple | None:
    if not memo or not memo.startswith(MARK):
        return None
    if memo.startswith(BALANCE_MARK):
        return ("balance",)
    return ("invoice", memo[len(MARK):].strip().casefold())


def _decide(plan: Plan, already: dict):
    for row in plan.rows:
        if not row.valid:
            row.outcome, row.message = "error", row.error_text
            continue
        earlier = already.get((row.customer_id, row.key))
        if earlier is not None:
            row.outcome = "skipped"
            made, amount = earlier
            what = "This opening balance" if row.data["kind"] == "balance" else "This invoice"
            row.message = f"{what} was imported already, as {made}."
            if amount != row.data["amount"]:
                row.message += (" Its amount here is different: correct it on the customer's "
                                "Credit tab.")
            continue
        row.outcome = "import"
        row.message = " ".join(filter(None, [row.message, _plan_text(row)]))


def _plan_text(row: Row) -> str:
    d = row.data
    due = (f", due by its terms ({TERMS[d['terms']]})" if d["terms"] else "")
    if d["amount"] < 0:
        return f"A credit on account of {format_money(-d['amount'])}."
    what = "An opening balance" if d["kind"] == "balance" else "An invoice"
    paid = ""
    if d["paid"]:
        paid = (", paid in full" if d["paid"] == d["amount"]
                else f", {format_money(d['paid'])} of it paid")
    return f"{what} of {format_money(d['amount'])}{paid}{due}."


# -- writing ----------------------------------------------------------------------------------

def apply(plan: Plan, *, actor) -> dict:
    """Write the plan's rows through the credit services as one unit of work (the caller
    commits once, or rolls back). The customers' credit accounts are locked first and what was
    imported already is looked at again under the lock: a row imported meanwhile (the same
    file sent twice at once) is skipped."""
    if plan.refused:
        raise ImportRefused(f"{plan.errors} rows have errors")
    if plan.applied:
        raise RuntimeError("this plan was applied already")
    ids = sorted({r.customer_id for r in plan.to_import})
    credit.ensure_accounts(ids)  # on SQLite this takes the database's write lock
    for chunk in batches(ids, 500):
        db.session.scalars(select(CreditAccount).where(CreditAccount.customer_id.in_(chunk))
                           .order_by(CreditAccount.customer_id).with_for_update()).all()
    already = imported_keys(ids)
    for row in plan.to_import:
        if (row.customer_id, row.key) in already:
            made, _ = already[(row.customer_id, row.key)]
            row.outcome, row.message = "skipped", f"Imported meanwhile, as {made}."
    customers = {}
    for chunk in batches(ids, 500):
        customers.update({c.id: c for c in db.session.scalars(
            select(Customer).where(Customer.id.in_(chunk)))})
    for row in plan.to_import:
        _write(row, customers[row.customer_id], actor)
    db.session.flush()
    plan.applied = True
    return plan.counts


def _write(row: Row, customer, actor):
    d = row.data
    number = d["number"]
    if d["amount"] < 0:
        reference = f"{BALANCE_MARK} {number}".strip()
        payment = credit.record_payment(customer, -d["amount"], method=METHOD,
                                        received_on=d["issue_date"], reference=reference,
                                        actor=actor)
        row.written = f"payment {payment.id}"
        row.message = (f"Credit on account of {format_money(-d['amount'])}, recorded as a "
                       "payment (bank transfer, “Imported: opening balance”).")
        return
    if d["kind"] == "balance":
        description, memo = "Opening balance", f"{BALANCE_MARK} {number}".strip()
    else:
        description, memo = f"Invoice {number} (imported)"[:200], f"{MARK}{number}"
    invoice = credit.issue_invoice(customer, [(description, 1, d["amount"])], actor=actor,
                                   issue_date=d["issue_date"], due_date=d["due_date"],
                                   memo=memo)
    row.written = invoice.number
    parts = [f"{invoice.number}, {format_money(d['amount'])}, due {invoice.due_date.isoformat()}."]
    still_open = credit.open_amounts([invoice.id])[invoice.id]
    if still_open < d["amount"]:
        parts.append(f"{format_money(d['amount'] - still_open)} of it paid from credit already "
                     "on the account.")
    if d["paid"]:
        part = min(d["paid"], still_open)
        credit.record_payment(customer, d["paid"], method=METHOD, received_on=d["issue_date"],
                              reference=f"{PAID_MARK}{number or 'opening balance'}"[:100],
                              allocations={invoice.id: part}, actor=actor)
        parts.append(f"{format_money(d['paid'])} paid" + (
            f" ({format_money(d['paid'] - part)} of it left as credit on account)."
            if part < d["paid"] else "."))
    row.message = " ".join(parts)


# -- the report -------------------------------------------------------------------------------

REPORT_COLUMNS = ("line", "outcome", "customer_number", "kind", "number", "imported_as",
                  "message")


def report_csv(plan: Plan) -> str:
    """What became of every row (or would, before the import runs): line, outcome, customer
    number, kind, old number, what it was imported as, message. Cells pass safe_cell()."""
    refused = plan.refused

    def rows():
        for row in plan.rows:
            outcome, message = row.outcome, row.message
            if outcome == "import":
                outcome = "imported" if plan.applied else "to import"
            if refused and row.outcome == "import":
                outcome = "not imported"
                message = (f"Not imported: {plan.errors} row{'s' if plan.errors != 1 else ''} "
                           f"of the file {'have' if plan.errors != 1 else 'has'} errors, and "
                           "nothing is imported until they are fixed.")
            yield (row.line, outcome, format_number(row.customer_id) if row.customer_id else "",
                   row.data.get("kind") or "", row.data.get("number") or "", row.written,
                   message)

    return csv_text(REPORT_COLUMNS, rows())


def summary_line(counts: dict) -> str:
    return ", ".join(f"{k}: {counts[k]}" for k in ("rows", "imported", "skipped", "errors"))


def audit_run(plan: Plan, *, actor, source="web"):
    """One audit event per import run: where from and its counts (no values)."""
    record("import", "credit_import", None, actor=actor,
           fields=[f"source:{source}", *(f"{k}:{v}" for k, v in plan.counts.items())])
