"""Bulk tagging at scale (issue 16): the customer list's "all that match" as the job runs it.

    python bench/tags_bench.py [--customers 100000]

seeds a throwaway SQLite database (a temp dir: keys and database; `flask demo bulk`'s fast
synthetic customers), puts a source tag on 10,000 of them with bulk SQL, then times, in
process and inline (no Redis), the bulk job adding a second tag to every customer the list
filtered by the source tag shows, and taking it off again; plus the list's count and first
page filtered by a tag. `measure(app)` does the same against any app whose database has at
least 10,000 customers (it leaves the two tags behind).
"""
import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TAGGED = 10_000
TARGET_S = 10.0
SOURCE, TARGET = "bench source", "bench target"


def _ms(seconds):
    return round(seconds * 1000, 1)


def measure(app) -> dict:
    from sqlalchemy import func, insert, select

    from crm.common import SYSTEM
    from crm.customers.models import Customer
    from crm.customers.services import count_customers, search_customers
    from crm.extensions import db
    from crm.jobs.models import JobRun
    from crm.jobs.services import enqueue
    from crm.segments.models import CustomerTag
    from crm.segments.tags import find_or_create_tag, job_params, remove_tag

    redis_url = app.config.get("REDIS_URL")
    app.config["REDIS_URL"] = None  # the job runs inline, right after the commit, timed here
    try:
        with app.app_context():
            source = find_or_create_tag(SOURCE, actor=SYSTEM)
            target = find_or_create_tag(TARGET, actor=SYSTEM)
            remove_tag(select(CustomerTag.customer_id).where(CustomerTag.tag_id == target.id),
                       target, actor=SYSTEM)
            db.session.execute(CustomerTag.__table__.delete().where(
                CustomerTag.tag_id == source.id))
            ids = db.session.scalars(select(Customer.id).where(Customer.archived_at.is_(None))
                                     .order_by(Customer.id).limit(TAGGED)).all()
            if len(ids) < TAGGED:
                raise SystemExit(f"need {TAGGED} customers, the database has {len(ids)}")
            db.session.execute(insert(CustomerTag), [
                {"customer_id": i, "tag_id": source.id, "added_by_kind": "system"}
                for i in ids])
            db.session.commit()
            total = db.session.scalar(select(func.count()).select_from(Customer))
            filters = {"kind": "", "status": "", "archived": False, "sort": "number",
                       "feature_filters": {"tag": str(source.id)}}

            def median(work, times=7):  # warm: the first call also builds the statements
                spent = []
                for _ in range(times):
                    started = time.perf_counter()
                    work()
                    spent.append(time.perf_counter() - started)
                return sorted(spent[1:])[len(spent[1:]) // 2]

            counted = count_customers(**filters)
            count_s = median(lambda: count_customers(**filters))
            page_s = median(lambda: search_customers(**filters, per_page=25))

            results = {}
            for add in (True, False):
                started = time.perf_counter()
                run = enqueue("bulk_tag", actor=SYSTEM,
                              **job_params(filters, tag=target, add=add))
                db.session.commit()  # inline: the job runs now, batch by batch
                seconds = time.perf_counter() - started
                run = db.session.get(JobRun, run.id)
                assert run.status == "finished", run.message
                assert run.result["changed"] == TAGGED, run.result
                results["add" if add else "remove"] = seconds
    finally:
        app.config["REDIS_URL"] = redis_url
    scale = f"{TAGGED:,} of {total:,} customers"
    return {
        "bulk_tag_add_10k_s": {"value": round(results["add"], 2), "unit": "s",
                               "target": f"< {TARGET_S:g} s ({scale})",
                               "met": results["add"] < TARGET_S},
        "bulk_tag_remove_10k_s": {"value": round(results["remove"], 2), "unit": "s",
                                  "target": f"< {TARGET_S:g} s ({scale})",
                                  "met": results["remove"] < TARGET_S},
        "tag_filter_count_ms": {"value": _ms(count_s), "unit": "ms",
                                "target": f"one query ({counted:,} counted), median of 6",
                                "met": True},
        "tag_filter_first_page_ms": {"value": _ms(page_s), "unit": "ms",
                                     "target": "< 50 ms, median of 6", "met": page_s < 0.05},
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tags-bench-") as place:
        os.environ.update(CRM_INSTANCE_DIR=place, DATABASE_URL=f"sqlite:///{place}/bench.db",
                          CRM_CONFIG="development")
        os.environ.pop("REDIS_URL", None)
        import flask_migrate

        from config import DevelopmentConfig
        from crm import create_app
        from crm.demo.bulk import bulk
        from crm.extensions import db

        app = create_app(DevelopmentConfig)
        with app.app_context():
            flask_migrate.upgrade()
            started = time.monotonic()
            bulk(args.customers, random.Random(42), echo=lambda *a, **k: None)
            print(f"seeded {args.customers:,} customers in {time.monotonic() - started:.1f} s")
            db.session.remove()
        for name, figure in measure(app).items():
            print(f"{name}: {figure['value']} {figure['unit']} (target {figure['target']}: "
                  f"{'met' if figure['met'] else 'NOT met'})")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
