"""Scheduled reports: weekly (a weekday) or monthly (day 1-28 or the last day) at HH:MM farm
time, for the owner or for a role, over a period relative to the run ("last week", "month to
date", "as of today"), validated when saved.

`run_due(now)` is the periodic entry point (register it with RQ's cron every minute, inside
the app context the worker provides): each schedule due since its last run is claimed and run
once — a schedule missed for days while no worker ran runs once when one is back, not once per
missed slot.
"""
import calendar
import logging
import re
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update

from crm.common import SYSTEM, farm_zone, utcnow
from crm.extensions import db
from crm.reports.catalog import ReportError, get_report, validate
from crm.reports.models import ReportSchedule
from crm.security.permissions import PERMISSIONS, ROLES

log = logging.getLogger(__name__)

PERIODS = {
    "last_week": "Last week (Monday to Sunday)",
    "last_month": "Last month",
    "week_to_date": "Week to date",
    "month_to_date": "Month to date",
    "year_to_date": "Year to date",
    "last_7_days": "The last 7 days",
    "last_30_days": "The last 30 days",
    "today": "As of today",
}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
LAST_DAY = 0  # `day` of a monthly schedule on the month's last day
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")


def resolve(period: str, today: date) -> tuple[date, date]:
    """The (first, last) day a relative period means on `today` (farm date)."""
    if period == "last_week":
        monday = today - timedelta(days=today.weekday() + 7)
        return monday, monday + timedelta(days=6)
    if period == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if period == "week_to_date":
        return today - timedelta(days=today.weekday()), today
    if period == "month_to_date":
        return today.replace(day=1), today
    if period == "year_to_date":
        return today.replace(month=1, day=1), today
    if period == "last_7_days":
        return today - timedelta(days=6), today
    if period == "last_30_days":
        return today - timedelta(days=29), today
    if period == "today":
        return today, today
    raise ReportError("Choose a period from the list.")


def dated_params(schedule, today: date) -> dict:
    """The schedule's report parameters with its period resolved on `today`."""
    report = get_report(schedule.report_key)
    first, last = resolve(schedule.period, today)
    params = dict(schedule.params)
    if "period" in report.params:
        params.update({"from": first, "to": last})
    if "as_of" in report.params:
        params["as_of"] = last
    return params


def parse_time(text: str) -> str:
    match = _HHMM.fullmatch((text or "").strip())
    if not match:
        raise ReportError("Type the time as HH:MM on a 24-hour clock, 00:00 to 23:59.",
                          "at_time")
    return match.group(0)


def next_after(schedule, after: datetime) -> datetime:
    """The first slot of the schedule strictly after `after` (UTC), computed in farm time (so
    07:00 stays 07:00 across a daylight-saving change)."""
    zone = farm_zone()
    hour, minute = map(int, schedule.at_time.split(":"))
    local = after.astimezone(zone).date()
    candidates = []
    if schedule.frequency == "weekly":
        candidates = [local + timedelta(days=n) for n in range(8)
                      if (local + timedelta(days=n)).weekday() == schedule.weekday]
    else:
        year, month = local.year, local.month
        for _ in range(3):
            last = calendar.monthrange(year, month)[1]
            day = last if schedule.day == LAST_DAY else min(schedule.day, last)
            candidates.append(date(year, month, day))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    for day in candidates:
        slot = datetime.combine(day, time(hour, minute), zone).astimezone(after.tzinfo)
        if slot > after:
            return slot
    raise AssertionError("no next slot")  # unreachable: eight days or three months ahead


def save_schedule(user, *, report_key: str, params: dict, period: str, frequency: str,
                  weekday: str | None, day: str | None, at_time: str, role: str | None,
                  now: datetime | None = None) -> ReportSchedule:
    """Validate and add a schedule (ReportError with the reason). Never commits."""
    report = get_report(report_key)
    if not report.allowed(user):
        raise ReportError("You may not run this report: it shows what your role does not see.")
    clean = validate(report, params, user, dated=False)
    if period not in PERIODS:
        raise ReportError("Choose a period from the list.", "period")
    if frequency not in ("weekly", "monthly"):
        raise ReportError("Choose weekly or monthly.", "frequency")
    schedule = ReportSchedule(report_key=report.key, params=clean, period=period,
                              owner_id=user.id, frequency=frequency, at_time=parse_time(at_time))
    if frequency == "weekly":
        if weekday not in {str(i) for i in range(7)}:
            raise ReportError("Choose the weekday it runs on.", "weekday")
        schedule.weekday = int(weekday)
    else:
        if day not in {str(i) for i in range(29)}:
            raise ReportError("Choose a day of the month from 1 to 28, or the last day.", "day")
        schedule.day = int(day)
    if role:
        if role not in ROLES:
            raise ReportError("Choose a role from the list.", "role")
        holds = PERMISSIONS
        if ("reports.run" not in holds or role not in holds["reports.run"]
                or role not in holds.get(report.permission, ())
                or (report.amounts and role not in holds["credit.amounts"])):
            raise ReportError(f"The {role} role may not see this report's data.", "role")
        schedule.role = role
    schedule.next_run_at = next_after(schedule, now or utcnow())
    db.session.add(schedule)
    db.session.flush()
    return schedule


def schedules_of(user):
    return db.session.scalars(select(ReportSchedule).where(ReportSchedule.owner_id == user.id)
                              .order_by(ReportSchedule.id)).all()


def get_schedule(schedule_id: int, user) -> ReportSchedule | None:
    return db.session.scalar(select(ReportSchedule).where(ReportSchedule.id == schedule_id,
                                                          ReportSchedule.owner_id == user.id))


def delete_schedule(schedule):
    db.session.delete(schedule)


def when(schedule) -> str:
    """The schedule in words: "Every Monday at 07:00" / "Monthly on the last day at 06:30"."""
    if schedule.frequency == "weekly":
        return f"Every {WEEKDAYS[schedule.weekday]} at {schedule.at_time}"
    day = "the last day" if schedule.day == LAST_DAY else f"day {schedule.day}"
    return f"Monthly on {day} at {schedule.at_time}"


def run_due(now: datetime | None = None) -> int:
    """Enqueue a run of every schedule whose next slot has come (<= now), once each however
    many slots were missed, and move it to its next slot after `now`; commits. Returns how
    many runs were enqueued. Each schedule is claimed by a conditional update, so two callers
    at once do not both run it."""
    from crm.auth.models import StaffUser
    from crm.reports.runs import request_run

    now = now or utcnow()
    today = now.astimezone(farm_zone()).date()
    due = db.session.scalars(select(ReportSchedule).where(ReportSchedule.next_run_at <= now)
                             .order_by(ReportSchedule.id)).all()
    started = 0
    for schedule in due:
        following = next_after(schedule, now)
        claimed = db.session.execute(
            update(ReportSchedule).where(ReportSchedule.id == schedule.id,
                                         ReportSchedule.next_run_at == schedule.next_run_at)
            .values(next_run_at=following, last_run_at=now)
            .execution_options(synchronize_session=False)).rowcount
        if not claimed:
            continue
        owner = db.session.get(StaffUser, schedule.owner_id)
        try:
            if owner is None or not owner.active:
                raise ReportError("owner gone")
            request_run(schedule.report_key, dated_params(schedule, today), owner,
                        actor=SYSTEM, role=schedule.role, schedule_id=schedule.id)
            started += 1
        except ReportError:  # the owner may no longer run it (role changed, segment deleted)
            log.warning("report schedule %s skipped: its owner may no longer run it",
                        schedule.id)
    db.session.commit()
    return started


def due_job(job, progress) -> dict:
    """The registered job "reports_due" around run_due(), for periodic work that starts
    registered jobs by name rather than calling functions."""
    return {"enqueued": run_due()}
