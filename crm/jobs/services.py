"""Background jobs: enqueue by registered name with ids only; track each run in JobRun.

A run is started only when the caller's transaction commits (enqueue never commits). With
REDIS_URL set, runs then go to an RQ queue and `flask worker` executes them. Without it (the
embedded default for `make run`) they run inline, right after the commit, in the calling
process (on a session of their own).
"""
import logging
import re
import threading
import traceback
from datetime import timedelta

from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from crm.common import load, utcnow
from crm.extensions import db
from crm.jobs.models import JobRun

log = logging.getLogger(__name__)

# job name -> "module:function" (or the function), filled by the features' declarations
REGISTRY: dict[str, object] = {}


JOB_NAME = re.compile(r"[a-z][a-z0-9_.]*")  # it becomes the RQ job's description: no markup


def register_job(name: str, target):
    """Make a job known by name. It is called as fn(run, report, **params). The name, with
    the run's id, is all the RQ dashboard shows of a job (no personal data, no markup)."""
    if not JOB_NAME.fullmatch(name):
        raise ValueError(f"job name {name!r}: lower-case letters, digits, '_' and '.' only")
    if REGISTRY.get(name, target) != target:
        raise ValueError(f"job {name!r} is registered twice")
    REGISTRY[name] = target


def job_function(name: str):
    target = REGISTRY[name]
    if isinstance(target, str):
        target = load(target)
    return target


def redis_connection(url: str | None = None) -> Redis | None:
    """The queue's Redis (None without REDIS_URL); connecting gives up after 2 s."""
    url = url or current_app.config.get("REDIS_URL")
    return Redis.from_url(url, socket_connect_timeout=2) if url else None


class QueueUnavailable(Exception):
    """The job queue (Redis) cannot be reached, so nothing was started."""

    message = ("Background work cannot be started just now: the job queue is unreachable. "
               "Nothing was started or changed; try again in a minute.")

    def __str__(self):
        return self.message


def queue(connection=None) -> Queue:
    connection = connection or redis_connection()
    return Queue(current_app.config["JOB_QUEUE"], connection=connection)


PENDING = "crm.jobs.pending"  # session.info key: runs to start once the caller commits


def enqueue(name: str, *, actor, **params) -> JobRun:
    """Add a run of a job to the caller's unit of work. It starts only once the caller's commit
    succeeds (a worker picks it up, or it runs inline right after the commit without Redis);
    a rollback leaves neither the run nor a job behind. Never commits. QueueUnavailable when
    Redis cannot be reached: the caller rolls back and says so (its view answers 503). Should
    Redis go away between this check and the commit, the run is marked failed instead."""
    if name not in REGISTRY:
        raise KeyError(f"no job named {name!r}")
    for key, value in params.items():
        if not isinstance(value, (int, bool)) and value is not None:
            raise TypeError(f"job parameter {key!r} must be an id or a flag")
    connection = redis_connection()
    if connection is not None:
        try:  # refuse now, before the caller claims anything, rather than fail after its commit
            connection.ping()
        except RedisError as exc:
            log.error("job %s not started, the queue is unreachable: %s", name,
                      type(exc).__name__)
            raise QueueUnavailable() from None
        finally:
            connection.close()
    run = JobRun(name=name, params=params, owner_kind=actor.kind, owner_id=actor.id)
    db.session.add(run)
    db.session.flush()
    run.rq_job_id = f"crm-run-{run.id}"
    db.session.info.setdefault(PENDING, []).append((run.id, name))
    return run


@event.listens_for(Session, "after_commit")
def _start_pending(session):
    """After a commit: start the runs it added (the session can run no SQL here)."""
    for run_id, name in session.info.pop(PENDING, []):
        _start(run_id, name)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session):
    session.info.pop(PENDING, None)


def _start(run_id: int, name: str):
    connection = redis_connection()
    if connection is None:
        with current_app.app_context():  # a session of its own: the caller's has just committed
            execute(run_id)
        return
    try:
        queue(connection).enqueue(
            "crm.jobs.services.execute_queued", run_id, job_id=f"crm-run-{run_id}",
            description=f"{name} run {run_id}", job_timeout=current_app.config["JOB_TIMEOUT"],
            on_failure=Callback("crm.jobs.services.rq_failed"),
            on_stopped=Callback("crm.jobs.services.rq_stopped"),
        )
    except RedisError as exc:
        log.error("job run %s (%s) could not be queued: %s", run_id, name, type(exc).__name__)
        mark_failed(run_id, UNQUEUED)


UNQUEUED = "The job could not be queued. Try again in a moment."
STALE = "The background worker stopped while this ran. Start it again."
STOPPED = "The job was stopped."


def mark_failed(run_id: int, message: str) -> bool:
    """End a run as failed on a connection of its own (the caller's session may be committed
    or busy); True when it was not already finished or failed."""
    query = update(JobRun).where(JobRun.id == run_id, JobRun.status.in_(("queued", "running")))
    with db.engine.begin() as connection:
        done = connection.execute(query.values(status="failed", message=message,
                                               finished_at=utcnow())).rowcount
    return bool(done)


def sweep_stale_runs() -> int:
    """Mark failed every running run whose heartbeat is older than JOB_STALE_SECONDS: its
    worker died (killed, out of memory, the machine restarted). Called where runs are looked
    at (progress, the scan's and the import's pages), when a worker starts and from an idle
    worker every JOB_SWEEP_SECONDS. Only reads unless there is one to mark (a poll must not
    wait for another job's write lock on SQLite)."""
    cutoff = utcnow() - timedelta(seconds=current_app.config["JOB_STALE_SECONDS"])
    last_sign = func.coalesce(JobRun.heartbeat_at, JobRun.started_at, JobRun.created_at)
    stale = [JobRun.status == "running", last_sign < cutoff]
    with db.engine.connect() as connection:
        ids = connection.execute(select(JobRun.id).where(*stale)).scalars().all()
    if not ids:
        return 0
    with db.engine.begin() as connection:
        swept = connection.execute(
            update(JobRun).where(JobRun.id.in_(ids), *stale)
            .values(status="failed", message=STALE, finished_at=utcnow())).rowcount
    if swept:
        log.warning("%s job run(s) had no heartbeat for %s s: marked failed", swept,
                    current_app.config["JOB_STALE_SECONDS"])
    return swept


def rq_failed(job, connection, kind, value, tb):
    """RQ's failure callback (e.g. the job timed out outside our own error handling)."""
    mark_failed(job.args[0], "The job failed. The error has been logged.")


def rq_stopped(job, connection):
    """RQ's stop callback (an admin stopped the job from the dashboard)."""
    mark_failed(job.args[0], STOPPED)


class _Heartbeat:
    """While a job runs: a thread that stamps the run's heartbeat every JOB_HEARTBEAT_SECONDS
    on a connection of its own (the job's own transaction may be long)."""

    def __init__(self, run_id: int):
        self.run_id, self.engine = run_id, db.engine
        self.every = current_app.config["JOB_HEARTBEAT_SECONDS"]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{run_id}",
                                       daemon=True)

    def _beat(self):
        while not self.stop.wait(self.every):
            try:
                with self.engine.begin() as connection:
                    connection.execute(update(JobRun).where(JobRun.id == self.run_id)
                                       .values(heartbeat_at=utcnow()))
            except Exception as exc:  # SQLite busy under the job's own write: skip one beat
                log.info("heartbeat of job run %s skipped: %s", self.run_id, type(exc).__name__)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def get_run(run_id: int, *, owner) -> JobRun | None:
    """A job run started by `owner` (an Actor); owner=None for those who see every run
    (admins). Another actor's run is not found. Stale runs are swept first."""
    sweep_stale_runs()
    query = select(JobRun).where(JobRun.id == run_id)
    if owner is not None:
        query = query.where(JobRun.owner_kind == owner.kind, JobRun.owner_id == owner.id)
    return db.session.scalar(query)


def execute_queued(run_id: int):
    """The RQ entry point: run, then hand the worker a clean session for the next job."""
    try:
        execute(run_id)
    finally:
        db.session.remove()


def execute(run_id: int):
    """Run one JobRun. Needs an app context; commits its own progress."""
    run = db.session.get(JobRun, run_id)
    if run is None:
        log.warning("job run %s vanished before it started", run_id)
        return
    if run.status != "queued":  # failed meanwhile (e.g. swept), or already run
        log.warning("job run %s is %s, not started", run_id, run.status)
        return
    run.status, run.started_at, run.progress = "running", utcnow(), 0
    run.heartbeat_at = run.started_at
    db.session.commit()

    def report(progress: int, message: str | None = None):
        run.progress = max(0, min(100, int(progress)))
        run.message = message
        run.heartbeat_at = utcnow()
        db.session.commit()

    try:
        with _Heartbeat(run_id):
            result = job_function(run.name)(run, report, **run.params)
    except Exception as exc:
        db.session.rollback()
        # The exception's message may quote data; log where it failed, not what it said.
        frames = traceback.extract_tb(exc.__traceback__)
        where = ", ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno}" for f in frames[-3:])
        log.error("job run %s (%s) failed: %s at %s", run_id, run.name, type(exc).__name__, where)
        run = db.session.get(JobRun, run_id)
        run.status, run.message = "failed", "The job failed. The error has been logged."
    else:
        run.status, run.progress, run.result = "finished", 100, result
        run.message = run.message if run.message else "Done"
    run.finished_at = utcnow()
    db.session.commit()
