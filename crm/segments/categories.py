"""Computed categories: one set-based refresh of every non-archived customer's row in
`customer_category` (a DELETE and one INSERT … SELECT built from grouped aggregates and
window functions; the same statement on SQLite ≥ 3.25 and PostgreSQL), and the words that
explain a customer's row on their page. The caller commits.

The rules, as of the day `today` (farm time; "the last 12 months" is the 365 days
today − 364 … today; "the last 90 days" is today − 89 … today):

- **Revenue (12 months)**: the totals of the customer's invoices issued in the last 12 months,
  less the credit notes against those invoices (a reversed credit note counts back in).
  Invoices are never cancelled or reversed in this app (crm.credit.services.reverse refuses an
  invoice's own entry; a mistake is corrected by a credit note), so credit notes are the one
  thing taken off. Revenue is never below 0.
- **Value tier** among the customers with revenue > 0: sort them by revenue, highest first;
  `before` = the revenue of all customers with *more* revenue; `total` = everyone's revenue.
  A when before < 80 % of total (so the customer that crosses 80 % is in A), B when before
  < 95 % of total, C otherwise. Customers with equal revenue have the same `before`, so a tie
  never splits across tiers. No revenue: no tier.
  E.g. revenues 500, 300, 100, 60, 40 (total 1000): before = 0, 500, 800, 900, 960 → A, A, B,
  B, C.
- **Orders** are those confirmed, delivered or invoiced (not drafts, not cancelled) with a
  delivery date on or before today; an **order day** is a delivery date with at least one of
  them (two orders delivered the same day are one order day).
- **Cadence**: the gaps in days between the customer's last 11 order days (at most 10 gaps);
  the median of those gaps (an even number of gaps: the mean of the middle two, rounded half
  up). Fewer than 2 order days: no cadence. Computed in SQL (ROW_NUMBER/LEAD, then a second
  ROW_NUMBER/COUNT over the gaps).
  E.g. order days 1, 8, 15, 29 of a month: gaps 7, 7, 14 → 7; days 1, 8, 22: gaps 7, 14 → 11.
- **Days since order**: today − the last order day.
- **Churn risk** (with a cadence c and d days since the last order): low when d ≤ 1.5 × c,
  rising when 1.5 × c < d ≤ 3 × c, high when d > 3 × c. No cadence: no churn risk.
  E.g. c = 10: d = 15 low, d = 16 rising, d = 30 rising, d = 31 high.
- **Interactions (90 days)**: interactions logged with the customer that are not deleted and
  not internal notes (channel "note"), occurred in the last 90 days (up to the end of today).
  **Engagement**: none 0, low 1–2, medium 3–5, high 6 or more.
- **RFM**, each 1–5 with 5 best, among the customers with at least one order (others: none):
  NTILE(5) over them, ties split by customer number (lower number first):
  recency ordered by days since order (most days first: the most recent get 5), frequency by
  orders in the last 12 months (fewest first: the most get 5), monetary by revenue (12 months,
  least first). NTILE gives the first (n mod 5) fifths one customer more: with 7 customers the
  fifths hold 2, 2, 1, 1, 1.
"""
import time
from datetime import date, datetime, timedelta

from sqlalchemy import (
    Date,
    Integer,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
)

from crm.common import farm_today, farm_zone
from crm.communications.models import Interaction
from crm.credit.models import Invoice, LedgerEntry
from crm.customers.models import Customer
from crm.extensions import db
from crm.orders.models import Order
from crm.segments.models import CustomerCategory

COUNTED_ORDERS = ("confirmed", "delivered", "invoiced")
TIER_A, TIER_B = 80, 95  # per cent of the 12 months' revenue
LOW_UP_TO, RISING_UP_TO = 1.5, 3  # × the cadence
LAST_GAPS = 10
ENGAGEMENT = ((6, "high"), (3, "medium"), (1, "low"))  # at least n interactions -> level
YEAR_DAYS, ENGAGEMENT_DAYS = 365, 90


def _days(later, earlier):
    """Whole days from `earlier` to `later` (dates), on either database."""
    if db.engine.dialect.name == "sqlite":
        return cast(func.julianday(later) - func.julianday(earlier), Integer)
    return later.op("-", return_type=Integer)(earlier)


def _statement(today: date):
    """The INSERT … SELECT that computes every non-archived customer's row as of `today`."""
    year_start = today - timedelta(days=YEAR_DAYS - 1)
    on = literal(today, Date)
    zone = farm_zone()
    since = datetime.combine(today - timedelta(days=ENGAGEMENT_DAYS - 1), datetime.min.time(),
                             zone)
    until = datetime.combine(today + timedelta(days=1), datetime.min.time(), zone)

    in_year = and_(Invoice.issue_date >= year_start, Invoice.issue_date <= today)
    invoiced = (select(Invoice.customer_id, func.sum(Invoice.total).label("amount"))
                .where(in_year).group_by(Invoice.customer_id).cte("invoiced"))
    credited = (select(Invoice.customer_id, func.sum(LedgerEntry.applied).label("amount"))
                .join(Invoice, Invoice.id == LedgerEntry.invoice_id)
                .where(LedgerEntry.kind == "credit_note", in_year)
                .group_by(Invoice.customer_id).cte("credited"))
    revenue = (select(invoiced.c.customer_id,
                      case((invoiced.c.amount - func.coalesce(credited.c.amount, 0) > 0,
                            invoiced.c.amount - func.coalesce(credited.c.amount, 0)),
                           else_=0).label("revenue"))
               .join_from(invoiced, credited, credited.c.customer_id == invoiced.c.customer_id,
                          isouter=True)
               .join(Customer, Customer.id == invoiced.c.customer_id)
               .where(Customer.archived_at.is_(None)).cte("revenue"))
    ranked = (select(revenue.c.customer_id, revenue.c.revenue,
                     (func.sum(revenue.c.revenue).over(order_by=revenue.c.revenue.desc())
                      - func.sum(revenue.c.revenue).over(partition_by=revenue.c.revenue))
                     .label("before"),
                     func.sum(revenue.c.revenue).over().label("total"))
              .where(revenue.c.revenue > 0).cte("ranked"))
    tiers = select(ranked.c.customer_id, case(
        (ranked.c.before * 100 < ranked.c.total * TIER_A, "A"),
        (ranked.c.before * 100 < ranked.c.total * TIER_B, "B"), else_="C").label("tier")
    ).cte("tiers")

    counted = and_(Order.status.in_(COUNTED_ORDERS), Order.delivery_date <= today)
    days = (select(Order.customer_id, Order.delivery_date.label("day")).where(counted)
            .group_by(Order.customer_id, Order.delivery_date).cte("order_days"))
    latest_first = days.c.day.desc()
    walked = select(
        days.c.customer_id, days.c.day,
        func.row_number().over(partition_by=days.c.customer_id, order_by=latest_first)
        .label("n"),
        func.lead(days.c.day).over(partition_by=days.c.customer_id, order_by=latest_first)
        .label("before_day"),
    ).cte("walked")
    gaps = (select(walked.c.customer_id, _days(walked.c.day, walked.c.before_day).label("gap"))
            .where(walked.c.n <= LAST_GAPS, walked.c.before_day.is_not(None)).cte("gaps"))
    sorted_gaps = select(
        gaps.c.customer_id, gaps.c.gap,
        func.row_number().over(partition_by=gaps.c.customer_id, order_by=gaps.c.gap).label("k"),
        func.count().over(partition_by=gaps.c.customer_id).label("m"),
    ).cte("sorted_gaps")
    cadence = (select(sorted_gaps.c.customer_id,
                      # the mean of the one or two middle gaps, rounded half up, in integers
                      ((func.sum(sorted_gaps.c.gap) * 2 + func.count())
                       // (func.count() * 2)).label("cadence"))
               .where(sorted_gaps.c.k.in_([(sorted_gaps.c.m + 1) // 2,
                                           (sorted_gaps.c.m + 2) // 2]))
               .group_by(sorted_gaps.c.customer_id).cte("cadence"))
    last_order = (select(days.c.customer_id, func.max(days.c.day).label("last_day"))
                  .group_by(days.c.customer_id).cte("last_order"))
    year_orders = (select(Order.customer_id, func.count().label("orders"))
                   .where(counted, Order.delivery_date >= year_start)
                   .group_by(Order.customer_id).cte("year_orders"))

    talked = (select(Interaction.customer_id, func.count().label("interactions"))
              .where(Interaction.deleted_at.is_(None), Interaction.channel != "note",
                     Interaction.occurred_at >= since, Interaction.occurred_at < until)
              .group_by(Interaction.customer_id).cte("talked"))

    # every non-archived customer, with what is known of it
    since_order = _days(on, last_order.c.last_day)
    base = (
        select(
            Customer.id.label("customer_id"),
            func.coalesce(revenue.c.revenue, 0).label("revenue"),
            tiers.c.tier,
            func.coalesce(year_orders.c.orders, 0).label("orders"),
            last_order.c.last_day,
            cadence.c.cadence,
            since_order.label("since"),
            func.coalesce(talked.c.interactions, 0).label("interactions"),
        )
        .select_from(Customer)
        .outerjoin(revenue, revenue.c.customer_id == Customer.id)
        .outerjoin(tiers, tiers.c.customer_id == Customer.id)
        .outerjoin(year_orders, year_orders.c.customer_id == Customer.id)
        .outerjoin(last_order, last_order.c.customer_id == Customer.id)
        .outerjoin(cadence, cadence.c.customer_id == Customer.id)
        .outerjoin(talked, talked.c.customer_id == Customer.id)
        .where(Customer.archived_at.is_(None))
        .cte("base")
    )
    with_orders = base.c.last_day.is_not(None)

    def fifth(*order_by):
        return case((with_orders, func.ntile(5).over(
            partition_by=with_orders, order_by=(*order_by, base.c.customer_id))), else_=None)

    engagement = case(*[(base.c.interactions >= n, level) for n, level in ENGAGEMENT],
                      else_="none")
    risk = case((base.c.cadence.is_(None), None),
                (base.c.since * 2 <= base.c.cadence * 3, "low"),
                (base.c.since <= base.c.cadence * RISING_UP_TO, "rising"), else_="high")
    rows = select(
        base.c.customer_id, on, base.c.revenue, base.c.tier, base.c.orders, base.c.last_day,
        base.c.cadence, base.c.since, risk, base.c.interactions, engagement,
        fifth(base.c.since.desc()), fifth(base.c.orders), fifth(base.c.revenue),
    )
    table = CustomerCategory.__table__
    columns = ["customer_id", "computed_on", "revenue_12m", "value_tier", "orders_12m",
               "last_order_on", "cadence_days", "days_since_order", "churn_risk",
               "interactions_90d", "engagement", "recency", "frequency", "monetary"]
    return insert(table).from_select([table.c[c] for c in columns], rows)


def refresh(today: date | None = None) -> dict:
    """Every non-archived customer's categories computed again as of `today` (farm time):
    the rows of before (yesterday's, archived customers') replaced in one DELETE and one
    INSERT … SELECT. Returns counts for the command and the job. The caller commits."""
    today = today or farm_today()
    started = time.monotonic()
    db.session.execute(delete(CustomerCategory))
    db.session.execute(_statement(today))
    stats = counts()
    stats["seconds"] = round(time.monotonic() - started, 2)
    stats["computed_on"] = today.isoformat()
    return stats


def counts() -> dict:
    """How many customers are in each tier, churn risk and engagement level (one query each)."""
    def grouped(column):
        return {key or "none": n for key, n in db.session.execute(
            select(column, func.count()).group_by(column))}

    return {"customers": db.session.scalar(select(func.count()).select_from(CustomerCategory)),
            "tiers": grouped(CustomerCategory.value_tier),
            "churn": grouped(CustomerCategory.churn_risk),
            "engagement": grouped(CustomerCategory.engagement)}


def category_of(customer_id: int) -> CustomerCategory | None:
    return db.session.get(CustomerCategory, customer_id)


def rank_select():
    """The hook crm.features.Feature.customer_rank: (customer_id, value_tier, churn_risk) of
    every computed customer, for lists of other features to join (service priority)."""
    return select(CustomerCategory.customer_id, CustomerCategory.value_tier,
                  CustomerCategory.churn_risk)


# -- in words, for the customer page ----------------------------------------------------------

def _days_text(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def _ago(n: int) -> str:
    return f"{_days_text(n)} ago" if n else "today"


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def explain(row: CustomerCategory) -> dict:
    """{what: sentence} explaining a customer's categories, naming no amount (the page adds
    the revenue through the `money` filter, for those who may see money)."""
    said = {}
    said["tier"] = {
        "A": "Tier A: among the customers making the top 80 % of the last 12 months' "
             "revenue.",
        "B": "Tier B: among the customers making the next 15 % of the last 12 months' "
             "revenue, after the top 80 %.",
        "C": "Tier C: invoiced in the last 12 months, outside the customers making the top "
             "95 % of revenue.",
    }.get(row.value_tier, "No tier: nothing invoiced in the last 12 months.")
    if row.cadence_days is not None:
        said["cadence"] = (f"Orders about every {_days_text(row.cadence_days)} (the median "
                           f"of the gaps between its last orders, up to {LAST_GAPS} gaps).")
    elif row.last_order_on is not None:
        said["cadence"] = "One order day so far: not enough to know the usual gap."
    else:
        said["cadence"] = "No orders yet."
    if row.churn_risk and row.days_since_order is not None:
        gap, since = row.cadence_days, row.days_since_order
        last = f"Last order {_ago(since)}"
        said["churn"] = {
            "low": f"{last} — within 1.5 × the usual gap of {_days_text(gap)}: low risk.",
            "rising": f"{last} — more than 1.5 × but at most 3 × the usual gap of "
                      f"{_days_text(gap)}: rising risk.",
            "high": f"{last} — more than 3 × the usual gap of {_days_text(gap)}: high risk.",
        }[row.churn_risk]
    else:
        said["churn"] = "No churn risk without a usual gap between orders."
    n = row.interactions_90d
    said["engagement"] = {
        "none": "None: no calls, emails, visits or messages in the last 90 days.",
        "low": f"Low: in touch {_times(n)} in the last 90 days (1–2).",
        "medium": f"Medium: in touch {_times(n)} in the last 90 days (3–5).",
        "high": f"High: in touch {_times(n)} in the last 90 days (6 or more).",
    }.get(row.engagement, row.engagement)
    if row.recency is not None:
        said["rfm"] = (f"Recency {row.recency}, frequency {row.frequency}, monetary "
                       f"{row.monetary} (each 1–5 by fifths of the customers who have ordered; "
                       f"5 is best): last order {_ago(row.days_since_order)}, "
                       f"{row.orders_12m} order{'s' if row.orders_12m != 1 else ''} in 12 "
                       "months.")
    else:
        said["rfm"] = "No score: no orders yet."
    return said
