"""Periodic work (Feature.periodic) through RQ's own scheduling: `flask cron`.

RQ 3.0 ships a cron scheduler (rq.cron.CronScheduler, behind `rq cron`): one process that
enqueues registered functions on an interval or a cron expression and records them for
monitoring. It is used here as it is, with two things the farm needs that it lacks:

- farm time: its cron expressions are read in the scheduler machine's local zone; here they are
  read in FARM_TIMEZONE ("0 2 * * *" is 02:00 at the farm wherever the server is);
- a missed run runs once: it keeps the next time in memory only, so after a restart a nightly
  run missed while nothing was running would be skipped. Here the slot last enqueued for each
  piece of work is kept in Redis (LAST_KEY); on start, work whose latest slot is newer than
  that is enqueued once, however many slots were missed. A slot is claimed with SET NX
  (SLOT_KEY), so two schedulers running by mistake still enqueue it once.

The scheduler only enqueues `run_periodic(name)` onto the app's queue (description
"periodic <name>", no arguments but the name); `flask worker` runs it in the app.
"""
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from croniter import croniter
from flask import current_app
from rq import cron_job_registry
from rq.cron import CronJob, CronScheduler
from rq.defaults import DEFAULT_CRON_JOB_HISTORY_LIMIT, DEFAULT_CRON_JOB_HISTORY_TTL

from crm.common import SYSTEM, load, utcnow
from crm.extensions import db

log = logging.getLogger(__name__)

LAST_KEY = "crm:cron:last"  # hash: name -> ISO time (UTC) of the slot last enqueued
SLOT_KEY = "crm:cron:slot:{name}:{slot}"  # claimed once per slot
SLOT_CLAIM_SECONDS = 7 * 24 * 3600


def cron_expression(when: str, config) -> str:
    """A declaration's schedule with config values filled in; ValueError when it is not a
    five-field cron expression."""
    try:
        expression = when.format(**config)
    except (KeyError, IndexError, ValueError) as exc:
        raise ValueError(f"schedule {when!r} names no known setting: {exc}") from None
    if len(expression.split()) != 5 or not croniter.is_valid(expression):
        raise ValueError(f"schedule {when!r} is not a cron expression (minute hour day month "
                         "weekday)")
    return expression


def latest_slot(expression: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The latest time at or before `now` the expression names (read in `zone`), in UTC."""
    at = now.astimezone(zone) + timedelta(seconds=1)  # a slot exactly at now counts
    return croniter(expression, at).get_prev(datetime).astimezone(timezone.utc)


def next_slot(expression: str, now: datetime, zone: ZoneInfo) -> datetime:
    """The first time after `now` the expression names (read in `zone`), in UTC."""
    return croniter(expression, now.astimezone(zone)).get_next(datetime).astimezone(timezone.utc)


@dataclass(frozen=True)
class Periodic:
    name: str
    what: str  # "module:function" or a registered job's name
    expression: str  # cron, farm time, config values filled in


def declared(app=None) -> list[Periodic]:
    """Every feature's periodic work, in declaration order."""
    app = app or current_app
    found = app.extensions["crm.features"].periodic
    return [Periodic(name, what, cron_expression(when, app.config))
            for name, (what, when) in found.items()]


class FarmCronJob(CronJob):
    """One piece of periodic work in RQ's cron scheduler, in farm time, run once if missed."""

    def __init__(self, periodic: Periodic, *, connection, queue_name, zone, clock, job_timeout):
        self.periodic, self.zone, self.clock, self.connection = periodic, zone, clock, connection
        super().__init__(queue_name=queue_name, func=run_periodic, args=(periodic.name,),
                         cron=periodic.expression, job_timeout=job_timeout,
                         name=f"crm.{periodic.name}")

    def get_next_enqueue_time(self) -> datetime:
        return next_slot(self.cron, self.clock(), self.zone)

    def due_slot(self, connection) -> datetime | None:
        """The slot to run now: the latest one, if it is newer than the one last enqueued.
        First time ever (nothing recorded): nothing is due, that slot becomes the baseline."""
        slot = latest_slot(self.cron, self.clock(), self.zone)
        last = connection.hget(LAST_KEY, self.periodic.name)
        if last is None:
            connection.hsetnx(LAST_KEY, self.periodic.name, slot.isoformat())
            return None
        return slot if slot > datetime.fromisoformat(last.decode()) else None

    def should_run(self) -> bool:
        return self.due_slot(self.connection) is not None

    def enqueue(self, connection):
        """Enqueue run_periodic(name) for the due slot, once per slot (SET NX), and record it."""
        slot = self.due_slot(connection)
        if slot is None:
            return None
        claim = SLOT_KEY.format(name=self.periodic.name, slot=slot.strftime("%Y%m%dT%H%M"))
        if not connection.set(claim, 1, nx=True, ex=SLOT_CLAIM_SECONDS):
            connection.hset(LAST_KEY, self.periodic.name, slot.isoformat())
            return None  # another scheduler took this slot
        from rq import Queue

        queue = Queue(self.queue_name, connection=connection)
        with connection.pipeline() as pipeline:
            job = queue.enqueue(self.func, args=self.args, description=f"periodic {self.periodic.name}",
                                **self.job_options, pipeline=pipeline)
            stamp = job.enqueued_at.timestamp()
            pipeline.zadd(self.job_history_key, {job.id: stamp})
            pipeline.zremrangebyrank(self.job_history_key, 0, -(DEFAULT_CRON_JOB_HISTORY_LIMIT + 1))
            pipeline.expire(self.job_history_key, DEFAULT_CRON_JOB_HISTORY_TTL)
            cron_job_registry.add(self.name, pipeline, enqueue_timestamp=stamp)
            pipeline.hset(LAST_KEY, self.periodic.name, slot.isoformat())
            pipeline.execute()
        log.info("periodic %s enqueued for %s", self.periodic.name, slot.isoformat())
        return job


class FarmCron(CronScheduler):
    """RQ's CronScheduler with the app's periodic work, read in farm time. `clock` gives the
    current aware UTC time (tests pass their own)."""

    def __init__(self, connection, *, app=None, clock=utcnow, only=None):
        super().__init__(connection=connection)
        app = app or current_app
        self.clock = clock
        zone = ZoneInfo(app.config["FARM_TIMEZONE"])
        for periodic in declared(app):
            if only is not None and periodic.name not in only:
                continue
            self._cron_jobs.append(FarmCronJob(
                periodic, connection=connection, queue_name=app.config["JOB_QUEUE"], zone=zone,
                clock=clock, job_timeout=app.config["JOB_TIMEOUT"]))

    def enqueue_jobs(self) -> list[CronJob]:
        """Enqueue what is due (each piece of work at most once, however many slots passed)."""
        now, enqueued = self.clock(), []
        for job in self._cron_jobs:
            if job.should_run() and job.enqueue(self.connection) is not None:
                job.set_enqueue_time(now)
                enqueued.append(job)
        return enqueued


def run_now(name: str, now: datetime | None = None):
    """Run one piece of periodic work in this process: a function gets `now`, then the caller's
    session is committed; a job's name starts a run of it (inline without Redis, else queued
    for a worker). KeyError for a name no feature declared."""
    what, _ = current_app.extensions["crm.features"].periodic[name]
    if ":" in what:
        load(what)(now or utcnow())
    else:
        from crm.jobs.services import enqueue

        enqueue(what, actor=SYSTEM)
    db.session.commit()


def run_periodic(name: str):
    """The RQ entry point the scheduler enqueues (runs in `flask worker`, in the app)."""
    try:
        run_now(name)
    finally:
        db.session.remove()
