"""Running reports from the page, their files, who may download them, a killed job, the
throttle."""
import csv
import io
import os
from datetime import date

import pytest
from sqlalchemy import func, select

from crm.common import SYSTEM
from crm.credit.services import issue_invoice
from crm.extensions import db
from crm.reports.models import ReportChunk, ReportRun
from tests import factories


@pytest.fixture
def sales_data(app):
    with app.app_context():
        c = factories.customer("Alder Bistro")
        issue_invoice(c, [("Pea shoots 4 oz", 2, 500)], actor=SYSTEM,
                      issue_date=date(2026, 11, 3), due_date=date(2026, 11, 17))
        db.session.commit()


SALES = {"report": "sales", "date_from": "2026-11-01", "date_to": "2026-11-30",
         "group": "customer"}


def _run(auth, data=SALES, htmx=True):
    return auth.post("/reports/runs", data, page=f"/reports?report={data['report']}", htmx=htmx)


def _latest(app):
    with app.app_context():
        return db.session.scalar(select(ReportRun).order_by(ReportRun.id.desc()))


def test_finance_runs_the_sales_report_and_downloads_csv_and_pdf(app, client, auth,
                                                                 sales_data):
    auth.sign_in("finance")
    page = client.get("/reports?report=sales")
    assert page.status_code == 200 and "Sales" in page.text and 'type="date"' in page.text
    response = _run(auth)  # inline jobs: done by the time the answer comes
    assert response.status_code == 200 and "<html" not in response.text
    assert "ready, 1 row" in response.text
    run = _latest(app)
    csv_response = client.get(f"/reports/runs/{run.id}/csv")
    assert csv_response.status_code == 200
    assert csv_response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(csv_response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Customer number", "Customer", "Invoices", "Lines", "Amount"]
    assert rows[1][1:] == ["Alder Bistro", "1", "1", "10.00"]
    pdf = client.get(f"/reports/runs/{run.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    history = client.get("/reports")
    assert "Sales — 2026-11-01 to 2026-11-30, by customer" in history.text
    assert f"/reports/runs/{run.id}/csv" in history.text


def test_the_stored_file_is_encrypted_and_chunked(app, client, auth, sales_data):
    auth.sign_in("finance")
    _run(auth)
    run = _latest(app)
    with app.app_context():
        stored = b"".join(db.session.scalars(select(ReportChunk.data).where(
            ReportChunk.run_id == run.id)))
    assert b"Alder" not in stored and b"10.00" not in stored


def test_a_full_page_request_goes_to_the_run_page(app, client, auth, sales_data):
    auth.sign_in("finance")
    response = _run(auth, htmx=False)
    assert response.status_code == 303
    page = client.get(response.headers["Location"])
    assert page.status_code == 200 and "<html" in page.text and "Download CSV" in page.text


@pytest.mark.parametrize(("data", "message"), [
    ({**SALES, "date_from": "2026-12-01"}, "ends before it starts"),
    ({**SALES, "date_from": "1976-01-01"}, "longer than five years"),
    ({**SALES, "date_from": ""}, "YYYY-MM-DD"),
    ({**SALES, "colour": "red"}, "no parameter “colour”"),
    ({**SALES, "report": "payroll"}, "no such report"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_started(app, client, auth, data,
                                                                 message):
    auth.sign_in("finance")
    response = auth.post("/reports/runs", data, page="/reports", htmx=True)
    assert response.status_code == 422 and message in response.text
    assert _latest(app) is None


def test_sales_cannot_run_or_see_money_reports(app, client, auth, sales_data):
    auth.sign_in("sales")
    page = client.get("/reports")
    assert page.status_code == 200 and "Sales</a>" not in page.text
    assert "AR aging" not in page.text and "Customers in a segment" in page.text
    refused = client.get("/reports?report=sales")
    assert refused.status_code == 404 and "may not run this report" in refused.text
    unknown = client.get("/reports?report=payroll")
    assert unknown.status_code == 404 and "no such report" in unknown.text
    response = auth.post("/reports/runs", SALES, page="/reports", htmx=True)
    assert response.status_code == 403 and "may not run this report" in response.text
    assert _latest(app) is None


def test_another_users_report_is_not_found(app, client, auth, sales_data):
    auth.sign_in("finance", "fin1@farm.test")
    _run(auth)
    run = _latest(app)
    client.post("/auth/sign-out", headers={"X-CSRFToken": auth.token("/reports")})
    auth.sign_in("finance", "fin2@farm.test")
    assert client.get(f"/reports/runs/{run.id}").status_code == 404
    assert client.get(f"/reports/runs/{run.id}/csv").status_code == 404
    assert f"/reports/runs/{run.id}" not in client.get("/reports").text


def test_a_money_report_is_not_downloadable_once_the_role_loses_amounts(app, client, auth,
                                                                       sales_data):
    user_id = auth.sign_in("finance")
    _run(auth)
    run = _latest(app)
    with app.app_context():
        from crm.auth.models import StaffUser

        db.session.get(StaffUser, user_id).role = "sales"
        db.session.commit()
    assert client.get(f"/reports/runs/{run.id}/csv").status_code == 404
    assert client.get(f"/reports/runs/{run.id}/pdf").status_code == 404


def test_downloads_are_audited_without_personal_data(app, client, auth, sales_data):
    from crm.audit.models import AuditEvent

    auth.sign_in("finance")
    _run(auth)
    run = _latest(app)
    client.get(f"/reports/runs/{run.id}/csv")
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "report.download"))
        assert event.entity_id == run.id and "Alder" not in repr(event.__dict__)


def test_ten_report_requests_in_a_second_are_throttled(app, client, auth, sales_data,
                                                      real_queue):  # queued, not run: fast
    auth.sign_in("finance")
    token_page = client.get("/reports?report=sales").text
    from tests.conftest import csrf_from

    headers = {"X-CSRFToken": csrf_from(token_page), "HX-Request": "true"}
    statuses = [client.post("/reports/runs", data=SALES, headers=headers) for _ in range(10)]
    codes = [r.status_code for r in statuses]
    assert 429 in codes and codes[0] == 200
    throttled = statuses[codes.index(429)]
    assert "Too many report requests" in throttled.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ReportRun)) == codes.count(200)


def test_expired_runs_are_cleaned_up(app, client, auth, sales_data):
    from datetime import timedelta

    from crm.common import utcnow
    from crm.reports.runs import cleanup

    auth.sign_in("finance")
    _run(auth)
    run = _latest(app)
    with app.app_context():
        assert cleanup(utcnow() + timedelta(days=29)) == 0
        assert cleanup(utcnow() + timedelta(days=31)) == 1
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(ReportChunk)) == 0
    assert client.get(f"/reports/runs/{run.id}/csv").status_code == 404


def test_a_report_job_killed_mid_way_ends_failed_with_no_file_offered(app, client, auth,
                                                                     real_queue,
                                                                     database_url):
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from crm.jobs.models import JobRun
    from crm.jobs.services import STALE
    from crm.reports.runs import cleanup

    auth.sign_in("manager")
    response = auth.post("/reports/runs", {"report": "deliveries"},
                         page="/reports?report=deliveries", htmx=True)
    assert response.status_code == 200 and 'hx-trigger="every 1s"' in response.text
    run = _latest(app)
    script = Path(__file__).with_name("report_hang_worker.py")
    worker = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL,
                              env={**os.environ, "TEST_DATABASE_URL": database_url,
                                   "TEST_REDIS_URL": real_queue.url})
    try:
        deadline = time.monotonic() + 60  # a loaded machine starts a worker slowly
        while time.monotonic() < deadline:
            with app.app_context():
                chunks = db.session.scalar(select(func.count()).select_from(ReportChunk)
                                           .where(ReportChunk.run_id == run.id))
                if chunks >= 2:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the worker never wrote part of the report")
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait()
    assert client.get(f"/reports/runs/{run.id}/csv").status_code == 404  # half a file: no
    app.config["JOB_STALE_SECONDS"] = 1
    try:
        time.sleep(1.5)
        done = client.get(f"/reports/runs/{run.id}", headers={"HX-Request": "true"})
    finally:
        app.config["JOB_STALE_SECONDS"] = 120
    assert done.status_code == 286 and "failed" in done.text and STALE in done.text
    assert "Download" not in done.text and "No file was kept" in done.text
    with app.app_context():
        assert db.session.get(JobRun, run.job_run_id).status == "failed"
        cleanup()
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(ReportChunk)
                                 .where(ReportChunk.run_id == run.id)) == 0


def test_the_job_gets_the_runs_id_only(app, client, auth, sales_data, real_queue):
    from crm.jobs.models import JobRun

    auth.sign_in("finance")
    _run(auth)
    run = _latest(app)
    with app.app_context():
        job = db.session.get(JobRun, run.job_run_id)
        assert job.params == {"report_run_id": run.id}
    queued = real_queue.queue().jobs
    assert [(j.args, j.description) for j in queued] == [
        ((run.job_run_id,), f"report_run run {run.job_run_id}")]
