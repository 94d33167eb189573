"""Periodic work through RQ's cron scheduler (`flask cron`): farm time, once per slot, a missed
run once on start, run by a real worker; the declared nightly work; without Redis."""
from datetime import datetime, timedelta, timezone

import pytest
from redis import Redis
from rq import Queue, SimpleWorker
from rq.cron import CronScheduler
from sqlalchemy import select

from config import TestingConfig
from crm import FEATURES
from crm.extensions import db
from crm.jobs.cron import FarmCron, cron_expression, declared, latest_slot, run_now
from crm.jobs.models import JobRun
from tests.conftest import TEST_REDIS_URL
from tests.jobs import cron_feature

UTC = timezone.utc


class Clock:
    """The scheduler's idea of now, moved by the test."""

    def __init__(self, at):
        self.at = at

    def __call__(self):
        return self.at


@pytest.fixture
def cron_app(database_url, app, make_app):
    class WithRedis(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = TEST_REDIS_URL
        JOB_QUEUE = "crm-cron-test"
        FARM_TIMEZONE = "America/Chicago"  # UTC-6 in December

    made = make_app(WithRedis, features=(*FEATURES, "tests.jobs.cron_feature"))
    connection = Redis.from_url(TEST_REDIS_URL)
    connection.flushdb()
    cron_feature.CALLS.clear()
    yield made, connection
    connection.flushdb()
    connection.close()


def scheduler(app, connection, clock):
    with app.app_context():
        return FarmCron(connection, app=app, clock=clock, only={"test_tick", "test_nightly"})


def queued(app, connection, name):
    jobs = Queue(app.config["JOB_QUEUE"], connection=connection).get_jobs()
    return [job for job in jobs if job.description == f"periodic {name}"]


def names(enqueued):
    return sorted(job.periodic.name for job in enqueued)


def test_the_whole_declaration_is_scheduled(cron_app):
    app, connection = cron_app
    with app.app_context():
        cron = FarmCron(connection, app=app)
    assert {job.periodic.name for job in cron.get_jobs()} == {
        "credit_nightly", "orders_cutoff", "segments_refresh", "reports_due", "reports_cleanup",
        "dashboards_refresh",
        "test_tick", "test_nightly"}


def test_the_nightly_work_is_declared_in_farm_time(cron_app):
    app, _ = cron_app
    with app.app_context():
        found = {p.name: (p.what, p.expression) for p in declared()}
    assert found["credit_nightly"] == ("credit_nightly", "0 2 * * *")
    assert found["reports_due"] == ("crm.reports.schedules:run_due", "* * * * *")
    assert found["segments_refresh"] == ("segments_refresh", "30 2 * * *")
    cutoff = app.config["ORDER_CUTOFF_HOUR"]
    assert found["orders_cutoff"] == ("orders_cutoff", f"0 {cutoff} * * *")
    assert found["test_tick"] == ("tests.jobs.cron_feature:tick", "* * * * *")


def test_first_start_sets_a_baseline_then_each_slot_runs_once(cron_app):
    app, connection = cron_app
    clock = Clock(datetime(2026, 12, 1, 7, 58, 30, tzinfo=UTC))  # 01:58 at the farm
    cron = scheduler(app, connection, clock)
    assert cron.enqueue_jobs() == []  # nothing ran before: nothing is made up
    clock.at += timedelta(seconds=45)  # 07:59:15 UTC: the next minute has begun
    assert names(cron.enqueue_jobs()) == ["test_tick"]
    assert cron.enqueue_jobs() == []  # the same minute again: nothing
    clock.at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 02:00 farm time
    assert names(cron.enqueue_jobs()) == ["test_nightly", "test_tick"]
    assert cron.enqueue_jobs() == []
    assert len(queued(app, connection, "test_nightly")) == 1
    assert len(queued(app, connection, "test_tick")) == 2


def test_daily_times_are_farm_time_not_utc(cron_app):
    app, connection = cron_app
    clock = Clock(datetime(2026, 12, 1, 1, 30, tzinfo=UTC))
    cron = scheduler(app, connection, clock)
    cron.enqueue_jobs()  # baseline
    clock.at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 02:00 UTC is 20:00 at the farm
    assert names(cron.enqueue_jobs()) == ["test_tick"]
    nightly = next(job for job in cron.get_jobs() if job.periodic.name == "test_nightly")
    assert nightly.next_enqueue_time == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_runs_missed_while_nothing_ran_run_once_on_start(cron_app):
    app, connection = cron_app
    clock = Clock(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    scheduler(app, connection, clock).enqueue_jobs()  # baseline, then the scheduler stops
    clock.at = datetime(2026, 12, 4, 15, 20, tzinfo=UTC)  # three nights missed
    restarted = scheduler(app, connection, clock)
    assert names(restarted.enqueue_jobs()) == ["test_nightly", "test_tick"]
    assert restarted.enqueue_jobs() == []
    assert len(queued(app, connection, "test_nightly")) == 1  # not one per missed night
    assert len(queued(app, connection, "test_tick")) == 1  # not one per missed minute


def test_two_schedulers_by_mistake_still_enqueue_a_slot_once(cron_app):
    app, connection = cron_app
    clock = Clock(datetime(2026, 12, 1, 7, 59, 30, tzinfo=UTC))
    first, second = scheduler(app, connection, clock), scheduler(app, connection, clock)
    first.enqueue_jobs()
    clock.at = datetime(2026, 12, 1, 8, 0, 5, tzinfo=UTC)
    assert names(first.enqueue_jobs()) == ["test_nightly", "test_tick"]
    assert second.enqueue_jobs() == []
    assert len(queued(app, connection, "test_nightly")) == 1


def test_a_worker_runs_the_work_with_now(cron_app):
    app, connection = cron_app
    clock = Clock(datetime(2026, 12, 1, 7, 59, 30, tzinfo=UTC))
    cron = scheduler(app, connection, clock)
    cron.enqueue_jobs()
    clock.at = datetime(2026, 12, 1, 8, 0, 5, tzinfo=UTC)
    cron.enqueue_jobs()
    job, = queued(app, connection, "test_nightly")
    assert job.args == ("test_nightly",) and job.kwargs == {}  # a name only
    with app.app_context():
        queue = Queue(app.config["JOB_QUEUE"], connection=connection)
        SimpleWorker([queue], connection=connection).work(burst=True)
    assert sorted(kind for kind, _ in cron_feature.CALLS) == ["nightly", "tick"]
    assert all(now.tzinfo is not None for _, now in cron_feature.CALLS)
    assert job.get_status(refresh=True) == "finished"


def test_the_scheduler_is_seen_by_rq(cron_app):
    app, connection = cron_app
    cron = scheduler(app, connection, Clock(datetime(2026, 12, 1, 8, 0, tzinfo=UTC)))
    cron.register_birth()
    try:
        seen, = CronScheduler.all(connection)  # RQ's own view of running schedulers
        assert {job.name for job in seen.get_jobs()} == {"crm.test_nightly", "crm.test_tick"}
    finally:
        cron.register_death()


def test_a_job_name_starts_a_run_of_the_system(app_ctx):
    run_now("credit_nightly")
    run = db.session.scalars(select(JobRun).order_by(JobRun.id.desc())).first()
    assert (run.name, run.owner_kind, run.status) == ("credit_nightly", "system", "finished")


def test_schedules_are_checked_when_declared():
    config = {"ORDER_CUTOFF_HOUR": 14}
    assert cron_expression("0 {ORDER_CUTOFF_HOUR} * * *", config) == "0 14 * * *"
    for bad in ("0 25 * * *", "every minute", "0 {NO_SUCH_SETTING} * * *", "* * * *"):
        with pytest.raises(ValueError):
            cron_expression(bad, config)


def test_latest_slot_counts_a_slot_at_exactly_now():
    from zoneinfo import ZoneInfo

    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert latest_slot("0 2 * * *", at, ZoneInfo("America/Chicago")) == at


def test_without_redis_cron_says_so_and_gives_crontab_lines(app, runner):
    result = runner.invoke(args=["cron"])
    assert result.exit_code == 1
    assert "REDIS_URL is not set: jobs run inline" in result.output
    assert f"CRON_TZ={app.config['FARM_TIMEZONE']}" in result.output
    assert "0 2 * * *" in result.output and "cron run credit_nightly" in result.output
    unknown = runner.invoke(args=["cron", "run", "nope"])
    assert unknown.exit_code != 0 and "no periodic work named 'nope'" in unknown.output


def test_job_names_shown_on_the_dashboard_cannot_carry_markup():
    from crm.jobs.services import register_job

    with pytest.raises(ValueError):
        register_job("<script>alert(1)</script>", "tests.jobs.cron_feature:tick")
