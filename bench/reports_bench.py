"""Reports benchmark: the sales report by customer (CSV, plus its capped PDF) over two years at
100,000 customers with 1,000,000 invoice lines, run as its job would be by a worker: in a
process of its own, whose peak memory (VmHWM) is the worker's. Targets: under 10 s and
under 300 MB.

`measure(app)` seeds what is missing (crm.demo.bulk customers, crm.demo.invoices invoices of
one line each), adds the run and its job without starting it, then runs
`crm.jobs.services.execute` in a child process (`--child RUN_ID`) and reads back its time and
peak memory.

Standalone: `python bench/reports_bench.py [--customers N] [--lines N]` runs it against a
fresh temporary SQLite database and prints the figures.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_S, TARGET_MB = 10, 300


def seed(customers: int, lines: int, echo=print):
    from sqlalchemy import func, select

    from crm.credit.models import InvoiceLine
    from crm.customers.models import Customer
    from crm.demo.bulk import bulk
    from crm.demo.invoices import bulk_invoices
    from crm.extensions import db

    rng = random.Random(17)
    have = db.session.scalar(select(func.count()).select_from(Customer))
    if have < customers:
        bulk(customers - have, rng, echo=echo, batch=10_000)
    have = db.session.scalar(select(func.count()).select_from(InvoiceLine))
    if have < lines:
        bulk_invoices(lines - have, rng, echo=echo)
    db.session.commit()


def measure(app, customers: int = 100_000, lines: int = 1_000_000) -> dict:
    from datetime import timedelta

    from sqlalchemy import func, select

    from crm.auth.models import StaffUser
    from crm.auth.services import create_user
    from crm.common import SYSTEM, farm_today
    from crm.credit.models import InvoiceLine
    from crm.extensions import db
    from crm.jobs.services import PENDING
    from crm.reports.models import ReportRun
    from crm.reports.runs import request_run

    with app.app_context():
        seed(customers, lines)
        user = db.session.scalar(select(StaffUser).where(StaffUser.email_bidx.is_not(None),
                                                         StaffUser.role == "finance"))
        if user is None:
            user = create_user("bench-finance@example.com", "Bench Finance", "finance",
                               "bench-password-1", actor=SYSTEM)
            db.session.flush()
        today = farm_today()
        run = request_run("sales", {"from": today - timedelta(days=800), "to": today,
                                    "group": "customer"}, user, actor=user.actor)
        db.session.info.pop(PENDING, None)  # not inline here: the child process runs it
        db.session.commit()
        run_id, job_id = run.id, run.job_run_id
        total_lines = db.session.scalar(select(func.count()).select_from(InvoiceLine))
        db.session.remove()
    child = subprocess.run([sys.executable, __file__, "--child", str(job_id)],
                           capture_output=True, text=True, env=os.environ.copy(), check=True)
    found = json.loads(child.stdout.strip().splitlines()[-1])
    with app.app_context():
        from crm.jobs.models import JobRun

        run = db.session.get(ReportRun, run_id)
        rows, size, pdf_size = run.row_count, run.csv_size, run.pdf_size
        result = db.session.get(JobRun, job_id).result or {}
        complete = run.completed_at is not None
        db.session.remove()
    seconds, peak_mb = found["seconds"], found["peak_mb"]
    csv_s = result.get("csv_s", seconds)
    return {
        "report_sales_csv_s": {
            "value": csv_s, "unit": "s", "target": f"< {TARGET_S} s",
            "met": complete and csv_s < TARGET_S, "invoice_lines": total_lines,
            "rows": rows, "csv_bytes": size,
            "includes": "every row streamed into encrypted 1 MB chunks in the database"},
        "report_sales_job_total_s": {
            "value": round(seconds, 2), "unit": "s", "target": "(no target)", "met": True,
            "pdf_s": result.get("pdf_s"), "pdf_bytes": pdf_size,
            "includes": "the CSV and the PDF of the first 100 rows, the job's commits"},
        "report_sales_worker_peak_mb": {
            "value": round(peak_mb, 1), "unit": "MB", "target": f"< {TARGET_MB} MB",
            "met": complete and peak_mb < TARGET_MB,
            "baseline_mb": round(found["baseline_mb"], 1)},
    }


def _peak_mb() -> float:
    """This process's peak resident memory: VmHWM (its own, fresh at exec; ru_maxrss on Linux
    keeps the parent's peak across fork and exec, which would count the seeding)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(job_run_id: int):
    """In the worker's place: build the app, run the job, print time and peak memory."""
    from crm import create_app
    from crm.jobs.services import execute

    app = create_app()
    with app.app_context():
        from crm.extensions import db

        db.session.execute(db.text("SELECT 1"))
        baseline = _peak_mb()
        started = time.perf_counter()
        execute(job_run_id)
        seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mb": _peak_mb(), "baseline_mb": baseline}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--keep", help="a folder to keep the database (and its keys) in")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child)
    folder = args.keep or tempfile.mkdtemp(prefix="crm-reports-bench-")
    Path(folder).mkdir(parents=True, exist_ok=True)
    os.environ.update({"CRM_INSTANCE_DIR": folder, "CRM_CONFIG": "development",
                       "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL")
                       or f"sqlite:///{folder}/bench.sqlite3"})
    os.environ.pop("REDIS_URL", None)
    import flask_migrate

    from crm import create_app
    from crm.catalogue.services import seed_catalogue
    from crm.extensions import db

    app = create_app()
    with app.app_context():
        flask_migrate.upgrade()
        seed_catalogue()
        db.session.commit()
    started = time.monotonic()
    figures = measure(app, args.customers, args.lines)
    print(f"(seeded and measured in {time.monotonic() - started:.0f} s, "
          f"{app.config['SQLALCHEMY_DATABASE_URI'].split(':', 1)[0]})")
    for name, figure in figures.items():
        extra = {k: v for k, v in figure.items() if k not in ("value", "unit", "target", "met")}
        print(f"{name}: {figure['value']} {figure['unit']} (target {figure['target']}, "
              f"{'met' if figure['met'] else 'NOT met'}) {extra or ''}")


if __name__ == "__main__":
    main()
