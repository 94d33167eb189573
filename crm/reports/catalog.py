"""The reports a staff user can run: key, title, the permission that may run (and later
download) it, its parameters with their validation, its columns and a generator of its rows.

Rows are produced by streaming queries (`yield_per`), so a report of a million lines is never
held in memory; each generator takes the validated parameters and the user it runs for.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, extract, func, select

from crm.extensions import db
from crm.security.permissions import can

MAX_PERIOD_DAYS = 5 * 366  # a period may span at most five years
STREAM = 2000  # rows fetched at a time
GROUPS = {"customer": "Customer", "product": "Product", "month": "Month"}


class ReportError(ValueError):
    """A report or parameter that cannot be used; the message says why, for the person asking.
    `field`: the form field it is about, when there is one."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Report:
    key: str
    title: str
    permission: str  # besides reports.run: who may run it and download what it made
    params: tuple[str, ...]  # of PARAMS
    columns: object  # a tuple, or fn(params) -> tuple
    rows: object  # fn(params, user) -> iterator of tuples
    amounts: bool = False  # shows money: only credit.amounts ever sees it
    description: str = ""

    def columns_for(self, params) -> tuple:
        return self.columns(params) if callable(self.columns) else self.columns

    def allowed(self, user) -> bool:
        return (can(user, "reports.run") and can(user, self.permission)
                and (not self.amounts or can(user, "credit.amounts")))


def money(minor: int | None) -> str:
    """Minor units as a plain decimal for CSV (never a float)."""
    minor = int(minor or 0)
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def _stream(statement):
    """The statement's rows, fetched STREAM at a time, through Core (no ORM row handling)."""
    return db.session.connection().execute(statement.execution_options(yield_per=STREAM))


# -- the reports -------------------------------------------------------------------------------

def _sales_columns(params):
    return {"customer": ("Customer number", "Customer", "Invoices", "Lines", "Amount"),
            "product": ("Product", "Lines", "Quantity", "Amount"),
            "month": ("Month", "Invoices", "Lines", "Amount")}[params["group"]]


def sales_rows(params, user):
    from crm.credit.models import Invoice, InvoiceLine
    from crm.customers.models import Customer, format_number

    amount = func.sum(InvoiceLine.quantity * InvoiceLine.unit_price)
    within = and_(Invoice.issue_date >= params["from"], Invoice.issue_date <= params["to"])
    lines = select().select_from(InvoiceLine).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
    group = params["group"]
    if group == "customer":
        per = (lines.add_columns(Invoice.customer_id, func.count(func.distinct(Invoice.id)),
                                 func.count(), amount)
               .where(within).group_by(Invoice.customer_id).subquery())
        statement = (select(Customer.id, Customer.name, *list(per.c)[1:])
                     .join(per, per.c.customer_id == Customer.id).order_by(Customer.id))
        for customer_id, name, invoices, count, total in _stream(statement):
            yield format_number(customer_id), name, invoices, count, money(total)
    elif group == "product":
        statement = (lines.add_columns(InvoiceLine.description, func.count(),
                                       func.sum(InvoiceLine.quantity), amount)
                     .where(within).group_by(InvoiceLine.description)
                     .order_by(InvoiceLine.description))
        for product, count, quantity, total in _stream(statement):
            yield product, count, int(quantity), money(total)
    else:
        year, month = extract("year", Invoice.issue_date), extract("month", Invoice.issue_date)
        statement = (lines.add_columns(year, month, func.count(func.distinct(Invoice.id)),
                                       func.count(), amount)
                     .where(within).group_by(year, month).order_by(year, month))
        for y, m, invoices, count, total in _stream(statement):
            yield f"{int(y):04d}-{int(m):02d}", invoices, count, money(total)


def _bucket(days: int) -> str:
    return ("current" if days <= 0 else "1-30" if days <= 30 else "31-60" if days <= 60
            else "61-90" if days <= 90 else "90+")


def aging_rows(params, user):
    """Every open invoice on the day (`as_of`): what is left of it and its bucket, the
    buckets as crm.credit.services.bucket_of puts them."""
    from crm.credit.models import Invoice, LedgerEntry
    from crm.customers.models import Customer, format_number

    today = params["as_of"]
    settled = (select(LedgerEntry.invoice_id, func.sum(LedgerEntry.applied).label("settled"))
               .where(LedgerEntry.applied.is_not(None), LedgerEntry.occurred_on <= today)
               .group_by(LedgerEntry.invoice_id).subquery())
    left = Invoice.total - func.coalesce(settled.c.settled, 0)
    statement = (select(Invoice.number, Customer.id, Customer.name, Invoice.issue_date,
                        Invoice.due_date, Invoice.total, left)
                 .join(Customer, Customer.id == Invoice.customer_id)
                 .outerjoin(settled, settled.c.invoice_id == Invoice.id)
                 .where(left > 0, Invoice.issue_date <= today)
                 .order_by(Invoice.due_date, Invoice.id))
    for number, customer_id, name, issued, due, total, open_ in _stream(statement):
        days = (today - due).days
        yield (number, format_number(customer_id), name, issued.isoformat(), due.isoformat(), money(total),
               money(open_), max(days, 0), _bucket(days))


def segment_rows(params, user):
    from crm.customers.models import Customer, format_number
    from crm.segments.services import get_segment, segment_customer_ids

    segment = get_segment(params["segment"], user)
    if segment is None:
        raise ReportError("That segment no longer exists or is not yours to use.")
    statement = (select(Customer.id, Customer.name, Customer.kind, Customer.status)
                 .where(Customer.id.in_(segment_customer_ids(segment, user)))
                 .order_by(Customer.id))
    for customer_id, name, kind, status in _stream(statement):
        yield format_number(customer_id), name, kind, status


def interaction_rows(params, user):
    from datetime import datetime, time

    from crm.auth.models import StaffUser
    from crm.common import farm_zone
    from crm.communications.models import Interaction

    zone = farm_zone()
    start = datetime.combine(params["from"], time.min, zone)
    end = datetime.combine(params["to"] + timedelta(days=1), time.min, zone)
    statement = (select(Interaction.logged_by_id, Interaction.channel, func.count())
                 .where(Interaction.logged_by_kind == "staff", Interaction.deleted_at.is_(None),
                        Interaction.occurred_at >= start,
                        Interaction.occurred_at < end)
                 .group_by(Interaction.logged_by_id, Interaction.channel))
    counts = db.session.execute(statement).all()
    names = dict(db.session.execute(select(StaffUser.id, StaffUser.name).where(
        StaffUser.id.in_({row[0] for row in counts}))).all()) if counts else {}
    for staff_id, channel, count in sorted(counts, key=lambda r: (names.get(r[0], ""), r[1])):
        yield names.get(staff_id, f"staff #{staff_id}"), channel, count


WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def delivery_rows(params, user):
    """Customers taking deliveries per route and weekday (their delivery plans), and how many
    of them every other week."""
    from crm.catalogue.models import Route
    from crm.customers.models import Customer
    from crm.preferences.models import DeliveryPlan

    routes = dict(db.session.execute(select(Route.id, Route.name)).all())
    weekly, biweekly = Counter(), Counter()
    statement = (select(DeliveryPlan.route_id, DeliveryPlan.weekdays, DeliveryPlan.frequency)
                 .join(Customer, Customer.id == DeliveryPlan.customer_id)
                 .where(Customer.archived_at.is_(None), Customer.status == "active"))
    for route_id, days, frequency in _stream(statement):
        for day in range(7):
            if days & (1 << day):
                (biweekly if frequency == "biweekly" else weekly)[(route_id, day)] += 1
    keys = sorted(set(weekly) | set(biweekly),
                  key=lambda k: (routes.get(k[0], "~no route"), k[1]))
    for route_id, day in keys:
        yield (routes.get(route_id, "No route"), WEEKDAY_NAMES[day],
               weekly[(route_id, day)] + biweekly[(route_id, day)], biweekly[(route_id, day)])


def consent_rows(params, user):
    """Contacts' marketing consent on the day (`as_of`): given, withdrawn, never asked, by
    where it was given."""
    from datetime import datetime, time

    from crm.common import farm_zone
    from crm.contacts.models import Contact
    from crm.preferences.models import ContactPreference

    end = datetime.combine(params["as_of"] + timedelta(days=1), time.min, farm_zone())
    counts = Counter()
    statement = (select(ContactPreference.marketing_consent, ContactPreference.consent_at,
                        ContactPreference.consent_withdrawn_at, ContactPreference.consent_source)
                 .join(Contact, Contact.id == ContactPreference.contact_id))
    for consent, at, withdrawn, source in _stream(statement):
        if withdrawn is not None and withdrawn < end:
            state = "withdrawn"
        elif consent and (at is None or at < end):
            state = "given"
        else:
            state = "not given"
        counts[(state, source or "—" if state != "not given" else "—")] += 1
    total = sum(counts.values())
    for (state, source), count in sorted(counts.items()):
        yield state, source, count, f"{100 * count / total:.1f}%"
    yield "all contacts with preferences", "", total, "100.0%" if total else "0.0%"


REPORTS: dict[str, Report] = {r.key: r for r in (
    Report("sales", "Sales", "credit.amounts", ("period", "group"), _sales_columns, sales_rows,
           amounts=True, description="Invoiced amounts by customer, product or month."),
    Report("aging", "AR aging with invoices", "credit.amounts", ("as_of",),
           ("Invoice", "Customer number", "Customer", "Issued", "Due", "Total", "Open",
            "Days overdue", "Bucket"), aging_rows, amounts=True,
           description="Every open invoice and how far past due it is."),
    Report("segment", "Customers in a segment", "segments.use", ("segment",),
           ("Customer number", "Customer", "Kind", "Status"), segment_rows,
           description="The customers a saved segment holds today."),
    Report("interactions", "Interactions by staff member", "communications.view", ("period",),
           ("Staff member", "Channel", "Interactions"), interaction_rows,
           description="How many calls, emails, visits… each staff member logged."),
    Report("deliveries", "Delivery volumes by route", "customers.view", (),
           ("Route", "Weekday", "Customers", "Of them every other week"), delivery_rows,
           description="Active customers' deliveries per route and weekday."),
    Report("consent", "Consent and marketing summary", "segments.use", ("as_of",),
           ("Consent", "Source", "Contacts", "Share"), consent_rows,
           description="Contacts' marketing consent, by where it was given."),
)}


def get_report(key: str) -> Report:
    report = REPORTS.get(key or "")
    if report is None:
        raise ReportError("There is no such report: choose one of the list.")
    return report


def reports_for(user) -> list[Report]:
    return [r for r in REPORTS.values() if r.allowed(user)]


# -- parameters --------------------------------------------------------------------------------

def parse_date(text, label: str) -> date:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        raise ReportError(f"{label}: type a date as YYYY-MM-DD.") from None


def check_period(start: date, end: date):
    if end < start:
        raise ReportError("The period ends before it starts: swap the dates.")
    if (end - start).days > MAX_PERIOD_DAYS:
        raise ReportError("The period is longer than five years: shorten it.")


def validate(report: Report, raw: dict, user, *, dated: bool = True) -> dict:
    """The report's parameters from what was typed (strings), checked; ReportError says what
    is wrong. Unknown parameters are refused. `dated=False` (a schedule): the dates come from
    its relative period when it runs, so from/to/as_of are neither asked nor allowed."""
    from crm.common import farm_today, parse_id

    known = {"from", "to"} if "period" in report.params else set()
    known |= {p for p in report.params if p != "period"}
    if not dated:
        known -= {"from", "to", "as_of"}
    given = {k: v for k, v in raw.items() if v not in (None, "")}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ReportError(f"{report.title} has no parameter “{unknown[0][:30]}”.")
    params = {}
    if "period" in report.params and dated:
        params["from"] = parse_date(given.get("from"), "From")
        params["to"] = parse_date(given.get("to"), "To")
        check_period(params["from"], params["to"])
    if "as_of" in report.params and dated:
        params["as_of"] = (parse_date(given["as_of"], "As of") if given.get("as_of")
                           else farm_today())
    if "group" in report.params:
        group = given.get("group", "customer")
        if group not in GROUPS:
            raise ReportError("Group the sales by customer, product or month.")
        params["group"] = group
    if "segment" in report.params:
        from crm.segments.services import get_segment

        segment_id = parse_id(given.get("segment"))
        if segment_id is None or get_segment(segment_id, user) is None:
            raise ReportError("Choose one of your segments.")
        params["segment"] = segment_id
    return params


def stored(params: dict) -> dict:
    """Parameters as kept in the database (dates as ISO text)."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in params.items()}


def loaded(params: dict) -> dict:
    return {k: date.fromisoformat(v) if k in ("from", "to", "as_of") else v
            for k, v in params.items()}


def describe(report: Report, params: dict) -> str:
    """The parameters in words (no personal data: dates, a grouping, a segment's number)."""
    parts = []
    if "from" in params:
        parts.append(f"{params['from']} to {params['to']}")
    if "as_of" in params:
        parts.append(f"as of {params['as_of']}")
    if "group" in params:
        parts.append(f"by {params['group']}")
    if "segment" in params:
        parts.append(f"segment #{params['segment']}")
    return ", ".join(parts)
