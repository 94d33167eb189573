"""Finance schedules the weekly aging report for the finance role; a worker runs it after its
slot; it is in the inbox (with the nav badge) and downloads as a PDF that reads right."""
import re
import subprocess
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from crm.common import SYSTEM, farm_today
from crm.credit import services as credit
from crm.extensions import db
from tests import factories
from tests.e2e.conftest import sign_in


def test_finance_schedules_the_weekly_aging_report_and_reads_it_from_the_inbox(
        app, page, make_staff, real_queue, tmp_path):
    from crm.reports.models import ReportSchedule
    from crm.reports.schedules import run_due

    with app.app_context():
        customer = factories.customer("Blue Heron Bistro")
        invoice = credit.issue_invoice(customer, [("Pea shoots 4 oz", 1, 10000)], actor=SYSTEM,
                                       issue_date=farm_today() - timedelta(days=45))
        db.session.commit()
        number = invoice.number
        db.session.remove()
    email, _ = make_staff("finance", "fin@farm.test")
    sign_in(page, email)
    page.get_by_role("link", name="Reports").first.click()
    page.get_by_role("link", name="Schedules").click()
    form = page.locator("#schedule-form")
    form.get_by_label("Report").select_option(label="AR aging with invoices")
    form.get_by_label("Period").select_option(label="As of today")
    form.get_by_label("How often").select_option("weekly")
    form.get_by_label("Weekday (weekly)").select_option(label="Monday")
    form.get_by_label("Time (farm time, HH:MM)").fill("25:00")
    form.get_by_label("For").select_option(label="Role: finance")
    form.get_by_role("button", name="Schedule it").click()
    expect(page.locator("#schedule-form")).to_contain_text("HH:MM on a 24-hour clock")
    expect(page.get_by_label("Time (farm time, HH:MM)")).to_have_value("25:00")
    page.get_by_label("Time (farm time, HH:MM)").fill("07:00")
    page.get_by_role("button", name="Schedule it").click()
    expect(page.locator("#toasts")).to_contain_text("Scheduled: AR aging with invoices")
    expect(page.get_by_role("region", name="Your schedules")).to_contain_text(
        "Every Monday at 07:00")

    # The worker: RQ's cron calls run_due after the slot; the job runs from the queue.
    with app.app_context():
        slot = db.session.scalar(select(ReportSchedule)).next_run_at
        assert run_due(slot + timedelta(minutes=1)) == 1
        db.session.remove()
    assert real_queue.work()

    page.get_by_role("link", name="Inbox").click()
    expect(page.get_by_role("heading", name=re.compile("Scheduled reports"))).to_contain_text(
        "1 new")
    expect(page.locator("#nav-badge-reports_page")).to_contain_text("1")
    link = page.get_by_role("link", name="PDF").first
    pdf = page.request.get(link.get_attribute("href"))
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    path = tmp_path / "aging.pdf"
    path.write_bytes(pdf.body())
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "AR aging with invoices" in text and number in text, text
    assert "Blue" in text and "Bistro" in text  # the name wraps in its column
    assert re.search(r"100\.00\s+100\.00\s+\d+\s+31-60", text), text
