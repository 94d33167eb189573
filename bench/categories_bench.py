"""The nightly refresh of every computed category (crm.segments.categories.refresh), timed.

    python bench/categories_bench.py [--customers 100000] [--invoices 1000000]

runs against a fresh temporary SQLite database: `flask demo bulk` customers and `flask demo
invoices` invoices (the load benchmark's own seeding), then `measure(app)`, which adds what the
refresh reads and those commands do not make (orders, interactions: Core inserts in batches)
and times one refresh with its commit. The target (issue 16): under 60 s at 100,000 customers
with the benchmark's invoices.

`measure(app)` can also be called on an app whose database already holds the benchmark's
customers and invoices (e.g. from bench/run.py); it seeds orders and interactions only when
there are none.
"""
import argparse
import random
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from standalone import seeded_app  # noqa: E402

TARGET_S = 60
ORDERED = 0.7  # share of customers with orders
CADENCES = (3, 4, 7, 7, 7, 14, 14, 28)  # days between a customer's orders
TALKING = 0.5  # share of customers with interactions in the last 90 days


def _seed_orders(rng, customer_ids, today, echo, batch=50_000) -> int:
    from sqlalchemy import insert

    from crm.common import utcnow
    from crm.extensions import db
    from crm.orders.models import Order

    now, rows, made = utcnow(), [], 0
    for customer_id in customer_ids:
        if rng.random() > ORDERED:
            continue
        gap = rng.choice(CADENCES)
        day = today - timedelta(days=rng.randint(0, gap * 5))  # some have gone quiet
        for _ in range(rng.randint(2, 25)):
            rows.append({"customer_id": customer_id, "delivery_date": day,
                         "status": rng.choice(("invoiced", "invoiced", "delivered", "confirmed",
                                               "cancelled")),
                         "created_at": now, "created_by_kind": "system", "version": 1})
            day -= timedelta(days=max(1, gap + rng.randint(-1, 1)))
        if len(rows) >= batch:
            db.session.execute(insert(Order.__table__), rows)
            db.session.commit()
            made += len(rows)
            rows = []
            echo(f"{made} orders")
    if rows:
        db.session.execute(insert(Order.__table__), rows)
        db.session.commit()
        made += len(rows)
    return made


def _seed_interactions(rng, customer_ids, echo, batch=50_000) -> int:
    from sqlalchemy import insert

    from crm.communications.models import Interaction
    from crm.extensions import db

    now, rows, made = datetime.now(timezone.utc), [], 0
    for customer_id in customer_ids:
        if rng.random() > TALKING:
            continue
        for _ in range(rng.randint(1, 8)):
            rows.append({"customer_id": customer_id, "channel": rng.choice(("call", "email",
                                                                            "visit", "sms")),
                         "direction": "outbound", "visibility": "internal",
                         "occurred_at": now - timedelta(days=rng.randint(0, 120)),
                         "logged_by_kind": "system", "created_at": now, "version": 1})
        if len(rows) >= batch:
            db.session.execute(insert(Interaction.__table__), rows)
            db.session.commit()
            made += len(rows)
            rows = []
    if rows:
        db.session.execute(insert(Interaction.__table__), rows)
        db.session.commit()
        made += len(rows)
    echo(f"{made} interactions")
    return made


def measure(app, echo=print) -> dict:
    """Seed orders and interactions when there are none, then time one refresh of every
    customer's categories (with its commit)."""
    from sqlalchemy import func, select

    from crm.common import farm_today
    from crm.communications.models import Interaction
    from crm.credit.models import Invoice
    from crm.customers.models import Customer
    from crm.demo.bulk import _analyze
    from crm.extensions import db
    from crm.orders.models import Order
    from crm.segments.categories import refresh

    with app.app_context():
        rng = random.Random(16)
        today = farm_today()
        ids = db.session.scalars(select(Customer.id).where(Customer.archived_at.is_(None))
                                 .order_by(Customer.id)).all()
        started = time.monotonic()
        if not db.session.scalar(select(func.count()).select_from(Order)):
            _seed_orders(rng, ids, today, echo)
            _analyze("sales_order")
        if not db.session.scalar(select(func.count()).select_from(Interaction)):
            _seed_interactions(rng, ids, echo)
            _analyze("interaction")
        seeded_s = time.monotonic() - started
        scale = {
            "customers": len(ids),
            "invoices": db.session.scalar(select(func.count()).select_from(Invoice)),
            "orders": db.session.scalar(select(func.count()).select_from(Order)),
            "interactions": db.session.scalar(select(func.count()).select_from(Interaction)),
        }
        echo(f"scale: {scale} (orders and interactions seeded in {seeded_s:.0f} s)")
        started = time.monotonic()
        stats = refresh(today)
        db.session.commit()
        took = time.monotonic() - started
        echo(f"refresh: {stats}")
        db.session.remove()
    return {"segments_refresh": {
        "value": round(took, 2), "unit": "s", "target": f"< {TARGET_S} s at 100,000 customers",
        "met": took < TARGET_S, "scale": scale, "database": app.config[
            "SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    args = parser.parse_args()
    with seeded_app("crm-categories-bench-", args.customers, args.invoices) as app:
        figures = measure(app)
        for name, figure in figures.items():
            print(f"{name}: {figure['value']} {figure['unit']} (target {figure['target']}; "
                  f"{'met' if figure['met'] else 'NOT met'}) at {figure['scale']}")


if __name__ == "__main__":
    main()
