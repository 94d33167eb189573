"""`make bench`'s step for tags, segments and categories (issue 16), run by bench/run.py in a
child process on the bench's database after its invoices: seed a year of orders (some
customers gone quiet), interactions, a tag on one customer in five and delivery plans on the
bench's routes for those without one, in bulk; then time the nightly refresh of every
customer's categories (bench/categories_bench.py), the count of a five-rule segment
(bench/segments_bench.py) and bulk-tagging 10,000 customers (bench/tags_bench.py); last, save
that five-rule segment for the admin, so the customer list filtered by it is loaded with the
other pages. Prints one line of JSON: {"figures": {name: {value, unit, target, met}},
"segment_id": id, "seed_s": seconds}."""
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main():
    import categories_bench
    import segments_bench
    import tags_bench
    from sqlalchemy import insert, select

    from crm.auth.services import find_by_email
    from crm.catalogue.models import Route
    from crm.common import SYSTEM, farm_today, utcnow
    from crm.customers.models import Customer
    from crm.demo.bulk import _analyze
    from crm.extensions import db
    from crm.preferences.models import DeliveryPlan
    from crm.segments.models import CustomerTag, Segment
    from crm.segments.tags import find_or_create_tag
    from wsgi import app

    def quiet(*args, **kwargs):
        pass

    started = time.monotonic()
    with app.app_context():
        rng = random.Random(16)
        ids = db.session.scalars(select(Customer.id).where(Customer.archived_at.is_(None))
                                 .order_by(Customer.id)).all()
        categories_bench._seed_orders(rng, ids, farm_today(), quiet)
        categories_bench._seed_interactions(rng, ids, quiet)
        tag_id, route_id = segments_bench.seed(0, echo=quiet)  # its tag and routes
        tag = find_or_create_tag(segments_bench.TAG, actor=SYSTEM)
        db.session.execute(insert(CustomerTag.__table__), [
            {"customer_id": c, "tag_id": tag.id, "added_at": utcnow(), "added_by_kind": "system"}
            for c in ids if rng.random() < 0.2])
        planned = set(db.session.scalars(select(DeliveryPlan.customer_id)))
        routes = db.session.scalars(select(Route.id).where(
            Route.name.in_(segments_bench.ROUTES))).all()
        db.session.execute(insert(DeliveryPlan.__table__), [
            {"customer_id": c, "weekdays": 1 << rng.randint(0, 6), "frequency": "weekly",
             "route_id": rng.choice(routes), "stop_order": i, "returnables": False,
             "compostable_only": False, "invoice_method": "email", "call_ahead": False,
             "substitution_policy": "ask", "version": 1}
            for i, c in enumerate(ids) if c not in planned and rng.random() < 0.5])
        db.session.commit()
        _analyze()
    seed_s = time.monotonic() - started
    figures = {}
    figures.update(categories_bench.measure(app, echo=quiet))
    figures.update(segments_bench.measure(app, customers=0, echo=quiet))
    figures.update(tags_bench.measure(app))
    with app.app_context():
        tag_id, route_id = segments_bench.seed(0, echo=quiet)  # nothing left to seed
        admin = find_by_email("admin@example.com")
        segment = Segment(name="Bench: five rules", owner_id=admin.id, shared=True,
                          rules=json.dumps(segments_bench.tree(tag_id, route_id)))
        db.session.add(segment)
        db.session.commit()
        segment_id = segment.id
    print(json.dumps({"figures": figures, "segment_id": segment_id,
                      "seed_s": round(seed_s, 1)}))


if __name__ == "__main__":
    main()
