"""The dashboard's widgets: one registry (WIDGETS) of what each shows, to whom, over which
periods, how fresh it is, and the role's default set (DEFAULTS).

A widget is `data(period, today, user) -> numbers and ids` (JSON: the cache keeps it) and
`present(data, period, user) -> the template's context` (charts, names looked up by id, the
links to the list behind each number). Widgets whose numbers are the same for everyone
(`shared`) are kept in the cache table for `max_age` (crm.reports.dashboard.widget_data) and
say when they were counted; the others are counted on every view (they are indexed and small).

Revenue is what was invoiced (invoice totals by issue date, farm time; credit notes are not
taken off), in minor units; only roles holding credit.amounts are offered a revenue widget,
and the `money` filter refuses the rest anyway.
"""
from dataclasses import dataclass
from datetime import date, timedelta

from flask import url_for
from sqlalchemy import extract, func, select

from crm.catalogue.models import Packaging, Product, Route
from crm.credit.models import AGING_BUCKETS, AGING_LABELS, Invoice, InvoiceLine
from crm.customers.models import KINDS, STATUSES, Customer
from crm.extensions import db
from crm.money import format_money, precision
from crm.orders.models import Order, OrderLine
from crm.preferences.models import WEEKDAYS, DeliveryPlan, StandingItem
from crm.reports import charts
from crm.security.permissions import can

# -- periods ------------------------------------------------------------------------------

PERIODS = {
    "this_month": "This month",
    "last_month": "Last month",
    "last_90_days": "Last 90 days",
    "this_year": "This year",
    "last_12_months": "Last 12 months",
    "last_year": "Last year",
}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def period_range(period: str, today: date) -> tuple[date, date]:
    """The first and last day (both included) of `period` as of `today`."""
    first_of_month = today.replace(day=1)
    if period == "this_month":
        return first_of_month, today
    if period == "last_month":
        end = first_of_month - timedelta(days=1)
        return end.replace(day=1), end
    if period == "last_90_days":
        return today - timedelta(days=89), today
    if period == "this_year":
        return today.replace(month=1, day=1), today
    if period == "last_12_months":
        return today - timedelta(days=364), today
    if period == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    raise ValueError(f"unknown period {period!r}")


def same_day_last_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _money(user):
    """How a cell of money is written for this user: the Babel amount (only holders of
    credit.amounts are offered money widgets; anyone else gets an error, never a number)."""
    if not can(user, "credit.amounts"):
        raise PermissionError("amounts are shown only to holders of credit.amounts")
    return format_money


def _short_money(minor):
    """An axis label of money: 120000 minor units -> "1.2k" (whole units, no symbol)."""
    return charts.short_number(minor / 10 ** precision()) if minor else "0"


# -- revenue -------------------------------------------------------------------------------

def revenue_by_month(period, today, user):
    """Invoiced per month, this year and last, and the year to date against the same days of
    last year."""
    year = extract("year", Invoice.issue_date)
    month = extract("month", Invoice.issue_date)
    rows = db.session.execute(
        select(year, month, func.sum(Invoice.total))
        .where(Invoice.issue_date >= date(today.year - 1, 1, 1), Invoice.issue_date <= today)
        .group_by(year, month)).all()
    by = {(int(y), int(m)): int(total or 0) for y, m, total in rows}
    last_ytd = db.session.scalar(
        select(func.coalesce(func.sum(Invoice.total), 0))
        .where(Invoice.issue_date >= date(today.year - 1, 1, 1),
               Invoice.issue_date <= same_day_last_year(today)))
    return {"year": today.year, "month": today.month,
            "this": [by.get((today.year, m), 0) for m in range(1, 13)],
            "last": [by.get((today.year - 1, m), 0) for m in range(1, 13)],
            "last_ytd": int(last_ytd or 0)}


def present_revenue_by_month(data, period, user):
    money = _money(user)
    shown = data["month"]
    this, last = data["this"][:shown], data["last"][:shown]
    ytd = sum(this)
    change = charts.percent_change(ytd, data["last_ytd"])
    best = max(range(shown), key=lambda i: this[i]) if any(this) else None
    if change is None:
        summary = f"Revenue this year to date is {money(ytd)}; nothing was invoiced by this " \
                  "day last year."
    else:
        way = "up" if change >= 0 else "down"
        summary = (f"Revenue this year to date is {way} {abs(change)} % on the same days last "
                   f"year ({money(ytd)} against {money(data['last_ytd'])})")
        summary += f"; best month {MONTHS[best]}." if best is not None else "."
    chart = charts.grouped_chart(
        "Revenue by month, this year and last",
        f"Bars per month from January to {MONTHS[shown - 1]}: {data['year']} solid, "
        f"{data['year'] - 1} hatched.", summary, list(MONTHS[:shown]), this, last,
        names=(str(data["year"]), str(data["year"] - 1)), fmt=_short_money, cell=money,
        axis_labels=[m[0] for m in MONTHS[:shown]] if shown > 6 else None)
    return {"chart": chart, "total": ytd, "change": change, "link": url_for("credit.index")}


def _product_names():
    names = db.session.scalars(select(Product.name)).all()
    return sorted(names, key=len, reverse=True)  # "Pea shoots tall" before "Pea shoots"


def product_of(description: str, names) -> str:
    """The catalogue product an invoice line is for: the longest product name its
    description starts with ("Pea shoots 1 lb" -> "Pea shoots"), else "Other"."""
    low = description.casefold()
    for name in names:
        if low.startswith(name.casefold()):
            return name
    return "Other"


TOP = 8  # bars in a ranking; the rest are summed as "Other"


def _top(items: dict, n=TOP):
    ranked = sorted(items.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = [[k, v] for k, v in ranked[:n]]
    rest = sum(v for _, v in ranked[n:])
    if rest:
        shown.append(["Other", rest])
    return shown


def revenue_by_product(period, today, user):
    start, end = period_range(period, today)
    rows = db.session.execute(
        select(InvoiceLine.description, func.sum(InvoiceLine.quantity * InvoiceLine.unit_price))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.issue_date >= start, Invoice.issue_date <= end)
        .group_by(InvoiceLine.description)).all()
    names = _product_names()
    totals: dict[str, int] = {}
    for description, amount in rows:
        product = product_of(description, names)
        totals[product] = totals.get(product, 0) + int(amount or 0)
    merged: dict[str, int] = {}
    for name, amount in _top(totals):
        merged[name] = merged.get(name, 0) + amount
    return {"items": [[k, v] for k, v in merged.items()]}


def present_revenue_by_product(data, period, user):
    money = _money(user)
    items = [(name, amount) for name, amount in data["items"]]
    total = sum(a for _, a in items)
    if items:
        best, amount = items[0]
        summary = (f"{best} brought in {money(amount)} of {money(total)} "
                   f"({round(amount * 100 / total) if total else 0} %) "
                   f"{PERIODS[period].lower()}.")
    else:
        summary = f"Nothing was invoiced {PERIODS[period].lower()}."
    chart = charts.hbar_chart("Revenue by product", "One bar per product, the largest first.",
                              summary, items, cell=money, columns=["Product", "Revenue"])
    return {"chart": chart, "total": total, "link": url_for("credit.index")}


def revenue_by_kind(period, today, user):
    start, end = period_range(period, today)
    rows = db.session.execute(
        select(Customer.kind, func.sum(Invoice.total))
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.issue_date >= start, Invoice.issue_date <= end)
        .group_by(Customer.kind)).all()
    return {"items": sorted(([k, int(v or 0)] for k, v in rows), key=lambda kv: -kv[1])}


def present_revenue_by_kind(data, period, user):
    money = _money(user)
    items = [(KINDS.get(k, k), v) for k, v in data["items"]]
    total = sum(v for _, v in items)
    summary = (f"{items[0][0]} customers brought in the most {PERIODS[period].lower()}: "
               f"{money(items[0][1])} of {money(total)}." if items and total
               else f"Nothing was invoiced {PERIODS[period].lower()}.")
    links = [url_for("customers.index", kind=k) for k, _ in data["items"]]
    chart = charts.stacked_chart("Revenue by customer kind",
                                 "One bar split into each kind's share of revenue.", summary,
                                 items, cell=money, columns=["Kind", "Revenue", "Share"],
                                 links=links)
    return {"chart": chart, "total": total}


def top_customers(period, today, user):
    start, end = period_range(period, today)
    rows = db.session.execute(
        select(Invoice.customer_id, func.sum(Invoice.total).label("revenue"))
        .where(Invoice.issue_date >= start, Invoice.issue_date <= end)
        .group_by(Invoice.customer_id)
        .order_by(func.sum(Invoice.total).desc(), Invoice.customer_id).limit(10)).all()
    return {"items": [[c, int(v)] for c, v in rows]}


def _customers(ids) -> dict[int, Customer]:
    ids = list(ids)
    return {c.id: c for c in db.session.scalars(select(Customer).where(Customer.id.in_(ids)))} \
        if ids else {}


def present_top_customers(data, period, user):
    money = _money(user)
    found = _customers(c for c, _ in data["items"])
    rows = [{"customer": found[c], "amount": money(v)} for c, v in data["items"] if c in found]
    return {"rows": rows}


# -- customers -----------------------------------------------------------------------------

def customers_by_status_kind(period, today, user):
    rows = db.session.execute(
        select(Customer.status, Customer.kind, func.count())
        .where(Customer.archived_at.is_(None))
        .group_by(Customer.status, Customer.kind)).all()
    return {"rows": [[s, k, n] for s, k, n in rows]}


def present_customers_by_status_kind(data, period, user):
    by_status: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    for status, kind, n in data["rows"]:
        by_status[status] = by_status.get(status, 0) + n
        by_kind[kind] = by_kind.get(kind, 0) + n
    statuses = [s for s in STATUSES if s in by_status]
    kinds = sorted(by_kind, key=lambda k: -by_kind[k])
    total = sum(by_status.values())
    active = by_status.get("active", 0)
    summary = (f"{total} customers, {active} of them active "
               f"({round(active * 100 / total) if total else 0} %)"
               + (f"; most are {KINDS.get(kinds[0], kinds[0]).lower()} accounts." if kinds
                  else "."))
    status_chart = charts.stacked_chart(
        "Customers by status", "One bar split into each status's share of customers.",
        summary, [(STATUSES[s], by_status[s]) for s in statuses],
        columns=["Status", "Customers", "Share"],
        links=[url_for("customers.index", status=s) for s in statuses])
    kind_chart = charts.hbar_chart(
        "Customers by kind", "One bar per kind of customer, the most first.",
        f"{len(kinds)} kinds of customer.", [(KINDS.get(k, k), by_kind[k]) for k in kinds],
        columns=["Kind", "Customers"],
        links=[url_for("customers.index", kind=k) for k in kinds])
    return {"chart": status_chart, "kind_chart": kind_chart, "total": total}


def new_and_lost(period, today, user):
    from crm.common import farm_zone

    start, end = period_range(period, today)
    zone = farm_zone()
    from datetime import datetime, time

    since = datetime.combine(start, time.min, zone)
    until = datetime.combine(end + timedelta(days=1), time.min, zone)
    new = db.session.scalar(select(func.count()).select_from(Customer).where(
        Customer.created_at >= since, Customer.created_at < until))
    lost = db.session.scalar(select(func.count()).select_from(Customer).where(
        Customer.status == "churned", Customer.updated_at >= since, Customer.updated_at < until))
    return {"new": int(new or 0), "lost": int(lost or 0)}


def present_new_and_lost(data, period, user):
    net = data["new"] - data["lost"]
    return {"new": data["new"], "lost": data["lost"], "net": net,
            "new_link": url_for("customers.index", sort="-number"),
            "lost_link": url_for("customers.index", status="churned", sort="updated")}


def churn_risk(period, today, user):
    from crm.segments.models import CustomerCategory

    counts = dict(db.session.execute(
        select(CustomerCategory.churn_risk, func.count())
        .where(CustomerCategory.churn_risk.is_not(None))
        .group_by(CustomerCategory.churn_risk)).all())
    overdue = CustomerCategory.days_since_order * 100 / CustomerCategory.cadence_days
    high = db.session.execute(
        select(CustomerCategory.customer_id, CustomerCategory.days_since_order,
               CustomerCategory.cadence_days)
        .join(Customer, Customer.id == CustomerCategory.customer_id)
        .where(CustomerCategory.churn_risk == "high", Customer.archived_at.is_(None))
        .order_by(CustomerCategory.value_tier.is_(None), CustomerCategory.value_tier,
                  overdue.desc(), CustomerCategory.customer_id).limit(8)).all()
    computed = db.session.scalar(select(func.max(CustomerCategory.computed_on)))
    return {"counts": {k: int(v) for k, v in counts.items()},
            "high": [[c, d, cad] for c, d, cad in high],
            "computed_on": computed.isoformat() if computed else None}


def present_churn_risk(data, period, user):
    found = _customers(c for c, _, _ in data["high"])
    rows = [{"customer": found[c], "days": d, "cadence": cad}
            for c, d, cad in data["high"] if c in found]
    counts = data["counts"]
    link = (url_for("communications.my_follow_ups", risk="high")
            if can(user, "communications.log") else None)
    return {"rows": rows, "high": counts.get("high", 0), "rising": counts.get("rising", 0),
            "low": counts.get("low", 0), "link": link, "computed_on": data["computed_on"]}


# -- finance ---------------------------------------------------------------------------------

def ar_aging(period, today, user):
    from crm.credit.services import farm_aging

    found = farm_aging(today)
    return {"buckets": dict(found["buckets"]), "counts": dict(found["counts"]),
            "total": found["total"], "dso": found["dso"]}


AXIS_AGES = {"current": "Not due", "1-30": "1–30", "31-60": "31–60", "61-90": "61–90",
             "90+": "90+"}


def present_ar_aging(data, period, user):
    money = _money(user)
    labels = {b: AGING_LABELS[b] for b in AGING_BUCKETS}
    items = [(labels.get(b, b), data["buckets"].get(b, 0)) for b in labels]
    total = data["total"]
    overdue = total - data["buckets"].get("current", 0)
    worst = next((label for label, v in reversed(items) if v), None)
    summary = (f"The farm is owed {money(total)}; {money(overdue)} of it is overdue"
               + (f", the oldest in “{worst}”." if worst and overdue else ".")) if total \
        else "Nothing is owed."
    chart = charts.bar_chart("What the farm is owed, by age",
                             "One bar per age bucket, from not yet due to the oldest.", summary,
                             items, fmt=_short_money, cell=money, columns=["Age", "Owed"],
                             axis_labels=[AXIS_AGES.get(b, b) for b in AGING_BUCKETS])
    return {"chart": chart, "dso": data["dso"], "link": url_for("credit.index")}



# -- communications --------------------------------------------------------------------------

def overdue_follow_ups(period, today, user):
    from crm.communications.models import Interaction
    from crm.communications.services import _open_follow_ups

    mine = _open_follow_ups(user.id)
    overdue = db.session.scalar(select(func.count()).select_from(Interaction).where(
        mine, Interaction.follow_up_due < today))
    due_today = db.session.scalar(select(func.count()).select_from(Interaction).where(
        mine, Interaction.follow_up_due == today))
    oldest = db.session.execute(
        select(Interaction.customer_id, Interaction.follow_up_due).where(
            mine, Interaction.follow_up_due < today)
        .order_by(Interaction.follow_up_due, Interaction.id).limit(5)).all()
    return {"overdue": int(overdue or 0), "today": int(due_today or 0),
            "oldest": [[c, d.isoformat()] for c, d in oldest]}


def present_overdue_follow_ups(data, period, user):
    found = _customers(c for c, _ in data["oldest"])
    rows = [{"customer": found[c], "due": date.fromisoformat(d)} for c, d in data["oldest"]
            if c in found]
    return {"overdue": data["overdue"], "today": data["today"], "rows": rows,
            "link": url_for("communications.my_follow_ups")}


def open_tickets(period, today, user):
    from crm.communications.models import Ticket

    counts = dict(db.session.execute(
        select(Ticket.status, func.count()).where(Ticket.status.in_(("open", "pending")))
        .group_by(Ticket.status)).all())
    oldest = db.session.execute(
        select(Ticket.id, Ticket.customer_id, Ticket.opened_at)
        .where(Ticket.status.in_(("open", "pending")))
        .order_by(Ticket.opened_at, Ticket.id).limit(5)).all()
    return {"open": int(counts.get("open", 0)), "pending": int(counts.get("pending", 0)),
            "oldest": [[t, c, o.isoformat()] for t, c, o in oldest]}


def present_open_tickets(data, period, user):
    from datetime import datetime

    found = _customers(c for _, c, _ in data["oldest"])
    rows = [{"id": t, "customer": found[c], "opened_at": datetime.fromisoformat(o)}
            for t, c, o in data["oldest"] if c in found]
    return {"open": data["open"], "pending": data["pending"], "rows": rows,
            "link": url_for("communications.tickets"),
            "pending_link": url_for("communications.tickets", status="pending")}


# -- delivery and packing --------------------------------------------------------------------

def deliveries_by_route(period, today, user):
    """Delivery plans of active customers per route and weekday (an every-other-week plan
    counts on its weekdays too: it is on the sheet every second week)."""
    rows = db.session.execute(
        select(DeliveryPlan.route_id, DeliveryPlan.weekdays, DeliveryPlan.frequency,
               func.count())
        .join(Customer, Customer.id == DeliveryPlan.customer_id)
        .where(Customer.status == "active", Customer.archived_at.is_(None),
               DeliveryPlan.weekdays > 0)
        .group_by(DeliveryPlan.route_id, DeliveryPlan.weekdays, DeliveryPlan.frequency)).all()
    table: dict[int, list[int]] = {}
    for route_id, weekdays, _frequency, n in rows:
        counts = table.setdefault(route_id or 0, [0] * 7)
        for i in range(7):
            if weekdays & (1 << i):
                counts[i] += n
    return {"routes": [[r, counts] for r, counts in sorted(table.items())]}


def present_deliveries_by_route(data, period, user):
    names = dict(db.session.execute(select(Route.id, Route.name)).all())
    today = _today()
    days = [today + timedelta(days=i) for i in range(1, 8)]
    next_day = {d.weekday(): d for d in days}  # the next date of each weekday
    rows = []
    for route_id, counts in data["routes"]:
        name = names.get(route_id, "No route")
        cells = []
        for i, n in enumerate(counts):
            link = url_for("delivery.sheets", date=next_day[i].isoformat(),
                           route=name if route_id in names else None) if n else None
            cells.append({"n": n, "link": link, "day": WEEKDAYS[i]})
        rows.append({"name": name, "cells": cells, "total": sum(counts)})
    totals = [sum(r["cells"][i]["n"] for r in rows) for i in range(7)]
    busiest = max(range(7), key=lambda i: totals[i]) if any(totals) else None
    chart = charts.bar_chart(
        "Deliveries per weekday", "One bar per weekday: stops on every route that day.",
        (f"{WEEKDAYS[busiest]} is the busiest day with {totals[busiest]} stops." if
         busiest is not None else "No active customer has a delivery plan."),
        list(zip(WEEKDAYS, totals)), columns=["Weekday", "Stops"], height=180)
    return {"rows": rows, "weekdays": WEEKDAYS, "totals": totals, "chart": chart}


def packaging_mix(period, today, user):
    start, end = period_range(period, today)
    standing = dict(db.session.execute(
        select(StandingItem.packaging_id, func.sum(StandingItem.quantity))
        .join(Customer, Customer.id == StandingItem.customer_id)
        .where(Customer.status == "active", Customer.archived_at.is_(None))
        .group_by(StandingItem.packaging_id)).all())
    ordered = dict(db.session.execute(
        select(OrderLine.packaging_id, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status.in_(("confirmed", "delivered", "invoiced")),
               Order.delivery_date >= start, Order.delivery_date <= end)
        .group_by(OrderLine.packaging_id)).all())
    keys = sorted(set(standing) | set(ordered), key=lambda k: (k is None, k or 0))
    return {"items": [[k, int(standing.get(k) or 0), int(ordered.get(k) or 0)] for k in keys]}


def present_packaging_mix(data, period, user):
    names = dict(db.session.execute(select(Packaging.id, Packaging.name)).all())
    items = sorted(((names.get(k, "Not given"), s, o) for k, s, o in data["items"]),
                   key=lambda row: (-row[1], -row[2], row[0]))
    chart = charts.hbar_chart(
        "Standing items by packaging", "One bar per container: units on standing items.",
        (f"{items[0][0]} is the most used container on standing items ({items[0][1]} units)."
         if items and items[0][1] else "No standing items yet."),
        [(name, s) for name, s, _ in items], columns=["Packaging", "Standing units"])
    chart.columns = ["Packaging", "Standing units", f"Ordered ({PERIODS[period].lower()})"]
    chart.rows = [[name, str(s), str(o)] for name, s, o in items]
    return {"chart": chart}


# -- segments --------------------------------------------------------------------------------

SEGMENTS_SHOWN = 8


def segment_counts(period, today, user):
    """How many customers every saved segment holds (up to the segments' list limit), in one
    statement: the same numbers for everyone (a segment that filters by amounts is only shown
    to viewers of amounts, who would count it with them), so they are kept in the cache."""
    from crm.segments import rules
    from crm.segments.models import Segment
    from crm.segments.services import LISTED, tree_of

    found = db.session.scalars(select(Segment).order_by(Segment.id).limit(LISTED)).all()
    numbers = rules.counts([tree_of(s) for s in found], amounts=True)
    return {"counts": {str(s.id): n for s, n in zip(found, numbers)}}


def present_segment_counts(data, period, user):
    """The segments the user may use (their own and the shared ones), with the kept counts;
    one saved since the count was kept is counted now."""
    from crm.segments.services import segment_counts as counted_now
    from crm.segments.services import segments_for

    found = segments_for(user)[:SEGMENTS_SHOWN]
    kept = data["counts"]
    missing = [s for s in found if str(s.id) not in kept]
    fresh = counted_now(missing, user) if missing else {}
    items = [(s.name, kept.get(str(s.id), fresh.get(s.id)) or 0) for s in found]
    links = [url_for("customers.index", segment=s.id) for s in found]
    largest = max(items, key=lambda i: i[1]) if items else None
    chart = charts.hbar_chart(
        "Customers per segment", "One bar per saved segment: the customers it holds.",
        (f"{len(items)} segment{'s' if len(items) != 1 else ''}; the largest, {largest[0]}, "
         f"holds {largest[1]:,} customer{'s' if largest[1] != 1 else ''}." if items
         else "No saved segments yet."),
        items, columns=["Segment", "Customers"], links=links)
    return {"chart": chart, "link": url_for("segments.index")}


def _today():
    from crm.common import farm_today

    return farm_today()


# -- the registry -----------------------------------------------------------------------------

MONEY_PERIODS = ("this_month", "last_month", "last_90_days", "this_year", "last_12_months",
                 "last_year")
HOUR, DAY, TEN_MINUTES = timedelta(hours=1), timedelta(days=1), timedelta(minutes=10)


@dataclass(frozen=True)
class Widget:
    key: str
    title: str
    permission: str
    data: object  # function(period, today, user) -> JSON
    present: object  # function(data, period, user) -> template context
    template: str
    periods: tuple[str, ...] = ()  # empty: no period selector
    default_period: str | None = None
    shared: bool = True  # the same numbers for everyone: kept in the cache
    max_age: timedelta | None = TEN_MINUTES  # how long the cache is good for (None: live)
    freshness: str = ""  # in words, for the widget and the docs
    # too dear to count on a page view at scale (seconds over a million invoices): once kept,
    # only the refresh (the job, `flask reports refresh`) counts it again; the page shows the
    # numbers it has, with their "as of"
    dear: bool = False

    def period_or_default(self, period: str | None) -> str:
        return period if period in self.periods else (self.default_period or "")


def _w(key, title, permission, name, **kw):
    return Widget(key, title, permission, globals()[name], globals()[f"present_{name}"],
                  f"reports/_widget_{key}.html", **kw)


WIDGETS: dict[str, Widget] = {w.key: w for w in (
    _w("revenue_month", "Revenue by month", "credit.amounts", "revenue_by_month",
       max_age=DAY, freshness="counted nightly", dear=True),
    _w("revenue_product", "Revenue by product", "credit.amounts", "revenue_by_product",
       periods=MONEY_PERIODS, default_period="this_month", max_age=DAY,
       freshness="counted nightly", dear=True),
    _w("revenue_kind", "Revenue by customer kind", "credit.amounts", "revenue_by_kind",
       periods=MONEY_PERIODS, default_period="this_year", max_age=DAY,
       freshness="counted nightly", dear=True),
    _w("top_customers", "Top customers", "credit.amounts", "top_customers",
       periods=MONEY_PERIODS, default_period="last_12_months", max_age=DAY,
       freshness="counted nightly", dear=True),
    _w("customers_status", "Customers by status and kind", "customers.view",
       "customers_by_status_kind", freshness="counted at most ten minutes ago"),
    _w("new_lost", "New and lost customers", "customers.view", "new_and_lost",
       periods=("this_month", "last_month", "last_90_days", "this_year", "last_year"),
       default_period="this_month", freshness="counted at most ten minutes ago"),
    _w("ar_aging", "What the farm is owed", "credit.amounts", "ar_aging", dear=True,
       freshness="counted by the dashboard refresh job"),
    _w("follow_ups", "My overdue follow-ups", "communications.log", "overdue_follow_ups",
       shared=False, max_age=None, freshness="live"),
    _w("tickets", "Open tickets", "communications.view", "open_tickets",
       max_age=None, freshness="live"),
    _w("churn_risk", "Customers at risk of churning", "customers.view", "churn_risk",
       max_age=HOUR, freshness="categories are computed nightly"),
    _w("deliveries", "Deliveries per route and weekday", "delivery.view", "deliveries_by_route",
       freshness="counted at most ten minutes ago"),
    _w("packaging", "Packaging mix", "preferences.view", "packaging_mix",
       periods=("this_month", "last_month", "last_90_days", "this_year"),
       default_period="this_month", dear=True,
       freshness="counted by the dashboard refresh job"),
    _w("segments", "Segments", "segments.use", "segment_counts",
       freshness="counted at most ten minutes ago"),
)}

# Each role's dashboard until its user changes it (widgets the role may not see are dropped
# when shown, so a set can name one that only some holders of the role see). A role with no
# entry (e.g. a role added later, such as the grower of issue 17) gets FALLBACK.
DEFAULTS: dict[str, tuple[str, ...]] = {
    "admin": ("revenue_month", "top_customers", "customers_status", "churn_risk", "ar_aging",
              "new_lost"),
    "manager": ("revenue_month", "revenue_product", "churn_risk", "deliveries", "packaging",
                "tickets"),
    "sales": ("follow_ups", "tickets", "churn_risk", "segments", "customers_status"),
    "finance": ("ar_aging", "revenue_month", "revenue_kind", "top_customers"),
    "delivery": ("deliveries", "packaging"),
    "viewer": ("customers_status", "tickets", "deliveries"),
}  # the grower has no dashboard: its home is the sowing plan
FALLBACK = ("customers_status",)


def allowed(user, key: str) -> bool:
    widget = WIDGETS.get(key)
    return widget is not None and can(user, widget.permission)


def offered(user) -> list[Widget]:
    """Every widget the user's role may see, in the registry's order."""
    return [w for w in WIDGETS.values() if can(user, w.permission)]


def defaults_for(user) -> list[str]:
    return [k for k in DEFAULTS.get(user.role, FALLBACK) if allowed(user, k)]
