"""Scheduled reports with frozen time: slots, relative periods, missed slots run once, bad
schedules refused, the inbox and the outbox."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from crm.common import SYSTEM
from crm.extensions import db
from crm.reports.catalog import ReportError
from crm.reports.models import ReportEmail, ReportRun, ReportSchedule
from crm.reports.schedules import resolve, run_due, save_schedule

UTC = timezone.utc


@pytest.fixture
def farm(app):
    was = app.config["FARM_TIMEZONE"]
    app.config["FARM_TIMEZONE"] = "America/Chicago"
    yield ZoneInfo("America/Chicago")
    app.config["FARM_TIMEZONE"] = was


def _user(role="finance", email=None):
    from crm.auth.services import create_user

    user = create_user(email or f"{role}-sched@farm.test", f"{role.title()} Sched", role,
                       "x" * 12, actor=SYSTEM)
    db.session.commit()
    return user


def _schedule(user, now, **given):
    fields = {"report_key": "aging", "params": {}, "period": "today", "frequency": "weekly",
              "weekday": "0", "day": None, "at_time": "07:00", "role": None, **given}
    schedule = save_schedule(user, now=now, **fields)
    db.session.commit()
    return schedule


def _runs():
    return db.session.scalar(select(func.count()).select_from(ReportRun))


def local(farm, *args):
    return datetime(*args, tzinfo=farm).astimezone(UTC)


def test_weekly_runs_at_its_slot_once_and_moves_to_next_week(app_ctx, farm):
    user = _user()
    # Tuesday 1 December 2026, 10:00 in Chicago: next Monday 07:00 is the 7th
    schedule = _schedule(user, local(farm, 2026, 12, 1, 10))
    assert schedule.next_run_at == local(farm, 2026, 12, 7, 7)
    assert run_due(local(farm, 2026, 12, 7, 6, 59)) == 0
    assert run_due(local(farm, 2026, 12, 7, 7, 0)) == 1
    assert run_due(local(farm, 2026, 12, 7, 7, 1)) == 0  # not twice
    db.session.refresh(schedule)
    assert schedule.last_run_at == local(farm, 2026, 12, 7, 7)
    assert schedule.next_run_at == local(farm, 2026, 12, 14, 7)
    run = db.session.scalar(select(ReportRun))
    assert run.params == {"as_of": "2026-12-07"} and run.schedule_id == schedule.id
    assert run.completed_at is not None  # inline job: done


def test_a_schedule_missed_for_weeks_runs_once_when_the_worker_is_back(app_ctx, farm):
    user = _user()
    schedule = _schedule(user, local(farm, 2026, 12, 1, 10))
    assert run_due(local(farm, 2027, 1, 6, 12)) == 1  # four Mondays missed
    assert run_due(local(farm, 2027, 1, 6, 12, 1)) == 0
    assert _runs() == 1
    db.session.refresh(schedule)
    assert schedule.next_run_at == local(farm, 2027, 1, 11, 7)


def test_monthly_on_the_last_day_and_on_day_28(app_ctx, farm):
    user = _user()
    last = _schedule(user, local(farm, 2027, 1, 31, 8), frequency="monthly", day="0",
                     weekday=None, at_time="18:30")
    assert last.next_run_at == local(farm, 2027, 1, 31, 18, 30)
    run_due(local(farm, 2027, 1, 31, 18, 30))
    db.session.refresh(last)
    assert last.next_run_at == local(farm, 2027, 2, 28, 18, 30)  # February's last day
    day28 = _schedule(user, local(farm, 2027, 1, 29, 8), frequency="monthly", day="28",
                      weekday=None)
    assert day28.next_run_at == local(farm, 2027, 2, 28, 7)


def test_the_slot_stays_at_farm_time_across_daylight_saving(app_ctx, farm):
    user = _user()
    # Chicago leaves daylight saving on Sunday 1 November 2026: 07:00 is 12:00 UTC before
    # and 13:00 UTC after
    schedule = _schedule(user, datetime(2026, 10, 27, 12, tzinfo=UTC), weekday="0")
    assert schedule.next_run_at == datetime(2026, 11, 2, 13, tzinfo=UTC)
    before = _schedule(user, datetime(2026, 10, 20, 12, tzinfo=UTC), weekday="0")
    assert before.next_run_at == datetime(2026, 10, 26, 12, tzinfo=UTC)


def test_relative_periods_are_resolved_when_the_run_happens():
    today = date(2026, 12, 3)  # a Thursday
    assert resolve("last_week", today) == (date(2026, 11, 23), date(2026, 11, 29))
    assert resolve("last_month", today) == (date(2026, 11, 1), date(2026, 11, 30))
    assert resolve("month_to_date", today) == (date(2026, 12, 1), today)
    assert resolve("week_to_date", today) == (date(2026, 11, 30), today)
    assert resolve("last_month", date(2027, 1, 15)) == (date(2026, 12, 1), date(2026, 12, 31))


def test_a_sales_schedule_runs_last_week(app_ctx, farm):
    user = _user()
    _schedule(user, local(farm, 2026, 12, 1, 10), report_key="sales", period="last_week",
              params={"group": "month"})
    run_due(local(farm, 2026, 12, 7, 8))
    run = db.session.scalar(select(ReportRun))
    assert run.params == {"group": "month", "from": "2026-11-30", "to": "2026-12-06"}


@pytest.mark.parametrize(("given", "message"), [
    ({"at_time": "25:00"}, "HH:MM"),
    ({"at_time": "7 am"}, "HH:MM"),
    ({"weekday": "9"}, "weekday"),
    ({"frequency": "monthly", "day": "31"}, "1 to 28"),
    ({"frequency": "daily"}, "weekly or monthly"),
    ({"period": "last_decade"}, "period"),
    ({"report_key": "payroll"}, "no such report"),
    ({"role": "sales"}, "sales role may not see"),
    ({"role": "wizard"}, "role from the list"),
    ({"params": {"from": "2026-01-01"}}, "no parameter"),
])
def test_bad_schedules_are_refused_when_saved(app_ctx, farm, given, message):
    user = _user()
    with pytest.raises(ReportError, match=message):
        _schedule(user, local(farm, 2026, 12, 1, 10), **given)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ReportSchedule)) == 0


def test_a_role_schedule_lands_in_each_holders_inbox_and_the_outbox(app, client, auth, farm):
    with app.app_context():
        owner = _user("finance", "owner@farm.test")
        owner_id = owner.id
        _schedule(owner, local(farm, 2026, 12, 1, 10), role="finance")
    reader = auth.sign_in("finance")  # another finance user
    assert "new in the inbox" not in client.get("/nav/badges").text
    with app.app_context():
        assert run_due(local(farm, 2026, 12, 7, 7)) == 1
        emails = db.session.scalars(select(ReportEmail)).all()
        assert sorted(e.staff_user_id for e in emails) == sorted([owner_id, reader])
        assert all(e.subject.startswith("Your report is ready: AR aging") for e in emails)
        run = db.session.scalar(select(ReportRun))
    badge = client.get("/nav/badges").text
    assert "new in the inbox" in badge and ">1<" in badge.replace(" ", "")
    inbox = client.get("/reports/inbox")
    assert inbox.status_code == 200 and "(1 new)" in inbox.text and "AR aging" in inbox.text
    pdf = client.get(f"/reports/runs/{run.id}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "(0 new)" in client.get("/reports/inbox").text


def test_a_private_schedule_is_not_in_a_colleagues_inbox(app, client, auth, farm):
    with app.app_context():
        owner = _user("finance", "owner@farm.test")
        _schedule(owner, local(farm, 2026, 12, 1, 10))
        run_due(local(farm, 2026, 12, 7, 7))
        run = db.session.scalar(select(ReportRun))
    auth.sign_in("finance")
    assert "No scheduled report has arrived" in client.get("/reports/inbox").text
    assert client.get(f"/reports/runs/{run.id}/pdf").status_code == 404


def test_the_schedule_form_refuses_25_00_keeping_what_was_typed(app, client, auth):
    auth.sign_in("finance")
    page = client.get("/reports/schedules")
    assert page.status_code == 200 and "Schedule a report" in page.text
    data = {"report": "aging", "period": "today", "frequency": "weekly", "weekday": "2",
            "day": "1", "at_time": "25:00", "role": "", "group": "customer"}
    response = auth.post("/reports/schedules", data, htmx=True)
    assert response.status_code == 422 and "HH:MM" in response.text
    assert 'value="25:00"' in response.text and "<html" not in response.text
    saved = auth.post("/reports/schedules", {**data, "at_time": "06:30"}, htmx=True)
    assert saved.status_code == 200 and "Every Wednesday at 06:30" in saved.text
    assert "Scheduled" in saved.headers.get("HX-Trigger", "")


def test_the_reports_due_job_runs_what_is_due(app_ctx, farm):
    from datetime import timedelta

    from crm.common import utcnow
    from crm.jobs.services import enqueue

    user = _user()
    schedule = _schedule(user, local(farm, 2026, 12, 1, 10))
    schedule.next_run_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    job = enqueue("reports_due", actor=SYSTEM)
    db.session.commit()
    assert job.status == "finished" and job.result == {"enqueued": 1}
    assert _runs() == 1
