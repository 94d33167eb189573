"""Background jobs, inline and on a real Redis with an RQ worker."""
import os

import pytest
from rq import SimpleWorker
from sqlalchemy import select

from crm.common import SYSTEM
from crm.extensions import db
from crm.jobs.models import JobRun
from crm.jobs.services import (
    REGISTRY,
    UNQUEUED,
    QueueUnavailable,
    enqueue,
    queue,
    register_job,
)
from crm.security.models import SearchToken
from tests import factories
from tests.conftest import TEST_REDIS_URL, closed_port

REDIS_URL = TEST_REDIS_URL


def count_to(run, report, n):
    for i in range(n):
        report(100 * (i + 1) // n, f"counted {i + 1}")
    return {"counted": n}


def explode(run, report):
    raise ValueError("boom with customer Maria Lopez")  # messages never reach the UI


@pytest.fixture(autouse=True)
def test_jobs():
    """Jobs that exist only for these tests, known only while they run."""
    register_job("test.count_to", count_to)
    register_job("test.explode", explode)
    register_job("test.hang", "tests.jobs.hang_worker:hang")
    yield
    del REGISTRY["test.count_to"], REGISTRY["test.explode"], REGISTRY["test.hang"]


@pytest.fixture
def redis_app(app, real_queue):
    """The app with REDIS_URL pointing at a real Redis (a private db and queue)."""
    return app, real_queue.connection


def test_inline_run_without_redis_finishes_when_the_caller_commits(app_ctx):
    run = enqueue("test.count_to", actor=SYSTEM, n=4)
    assert run.status == "queued"  # nothing starts inside the caller's transaction
    db.session.commit()
    assert (run.status, run.progress, run.result) == ("finished", 100, {"counted": 4})
    assert run.started_at and run.finished_at


def test_job_arguments_must_be_ids_or_flags(app_ctx):
    with pytest.raises(TypeError):
        enqueue("test.count_to", actor=SYSTEM, n="maria@example.com")
    with pytest.raises(KeyError):
        enqueue("no.such.job", actor=SYSTEM)
    assert db.session.scalars(select(JobRun)).all() == []


def test_failed_job_is_marked_failed_without_its_message(app_ctx, caplog):
    run = enqueue("test.explode", actor=SYSTEM)
    db.session.commit()
    assert run.status == "failed"
    assert "Maria" not in run.message
    assert f"job run {run.id} (test.explode) failed: ValueError" in caplog.text
    assert "Maria" not in caplog.text


def test_a_rolled_back_transaction_leaves_no_run_and_no_job(redis_app):
    app, connection = redis_app
    with app.app_context():
        enqueue("test.count_to", actor=SYSTEM, n=3)
        db.session.rollback()  # e.g. the payment it belonged to failed
        db.session.commit()  # a later commit does not start it either
        assert db.session.scalars(select(JobRun)).all() == []
        assert queue(connection).count == 0


def test_a_queue_that_cannot_be_reached_refuses_the_job_before_anything_is_claimed(app_ctx,
                                                                                  caplog):
    from flask import current_app

    current_app.config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    try:
        with pytest.raises(QueueUnavailable):
            enqueue("test.count_to", actor=SYSTEM, n=1)
        db.session.rollback()
        assert db.session.scalars(select(JobRun)).all() == []
        assert "job test.count_to not started, the queue is unreachable" in caplog.text
    finally:
        current_app.config["REDIS_URL"] = None


def test_a_queue_lost_between_the_check_and_the_commit_marks_the_run_failed(redis_app, caplog,
                                                                             monkeypatch):
    """The compensating update: the caller's commit stands, its run ends failed, not queued."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from rq import Queue

    app, connection = redis_app
    with app.app_context():
        run = enqueue("test.count_to", actor=SYSTEM, n=1)

        def lost(*args, **kwargs):
            raise RedisConnectionError("gone")

        monkeypatch.setattr(Queue, "enqueue", lost)
        db.session.commit()  # what the caller saved stays saved
        run = db.session.get(JobRun, run.id)
        assert (run.status, run.message) == ("failed", UNQUEUED)
        assert f"job run {run.id} (test.count_to) could not be queued" in caplog.text


def test_job_runs_on_a_real_redis_worker(redis_app):
    app, connection = redis_app
    with app.app_context():
        run = enqueue("test.count_to", actor=SYSTEM, n=3)
        run_id = run.id
        assert queue(connection).count == 0  # queued only once the caller commits
        db.session.commit()
        assert run.status == "queued" and run.rq_job_id
        rq_job = queue(connection).fetch_job(run.rq_job_id)
        assert rq_job.args == (run_id,)  # only the id travels through Redis
        assert rq_job.description == f"test.count_to run {run_id}"
        worker = SimpleWorker([queue(connection)], connection=connection)
        assert worker.work(burst=True)
        run = db.session.get(JobRun, run_id)
        assert (run.status, run.progress, run.result) == ("finished", 100, {"counted": 3})


def test_progress_component_polls_until_done(app, client, auth, redis_app):
    auth.sign_in("admin")
    with app.app_context():
        factories.customer("Reindexed Radish")
    response = auth.post("/admin/reindex", page="/admin/", htmx=True)
    assert response.status_code == 200
    assert 'hx-trigger="every 1s"' in response.text and "queued" in response.text
    assert response.headers["HX-Trigger"] == (
        '{"toast": {"message": "Rebuilding the search indexes.", "level": "success"}}')
    with app.app_context():
        run_id = db.session.scalars(select(JobRun.id)).one()
        db.session.execute(SearchToken.__table__.delete())  # tokens lost: the job rebuilds them
        db.session.commit()
        SimpleWorker([queue(redis_app[1])], connection=redis_app[1]).work(burst=True)
    done = client.get(f"/jobs/{run_id}", headers={"HX-Request": "true"})
    assert done.status_code == 286  # htmx stops polling
    assert "every 1s" not in done.text and "finished" in done.text
    from tests.customers.test_list import search_url

    assert "Reindexed Radish" in client.get(search_url(auth, "reind rad")).text
    page = client.get(f"/jobs/{run_id}")
    assert page.status_code == 200 and "<html" in page.text


def test_other_users_cannot_see_a_run(app, client, auth):
    owner = auth.make_user("sales", "owner@farm.test")
    with app.app_context():
        from crm.auth.models import StaffUser

        run_id = enqueue("test.count_to", actor=db.session.get(StaffUser, owner).actor, n=1).id
        db.session.commit()
    auth.sign_in("viewer")
    assert client.get(f"/jobs/{run_id}").status_code == 404


def test_worker_command_needs_redis(runner):
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL is not set" in result.output


def test_a_run_nobody_picks_up_says_so(app, client, auth, redis_app):
    from datetime import timedelta

    auth.sign_in("admin")
    auth.post("/admin/reindex", page="/admin/", htmx=True)  # no worker is running
    with app.app_context():
        run = db.session.scalars(select(JobRun)).one()
        run.created_at -= timedelta(minutes=5)
        db.session.commit()
        run_id = run.id
    response = client.get(f"/jobs/{run_id}", headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'hx-trigger="every 5s"' in response.text
    assert "Still waiting for a background worker" in response.text


def test_a_worker_killed_mid_job_leaves_a_failed_run_not_a_running_one(app, client, auth,
                                                                      redis_app, database_url):
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from crm.jobs.services import STALE

    app, connection = redis_app
    owner = auth.sign_in("admin")
    with app.app_context():
        from crm.auth.models import StaffUser

        run_id = enqueue("test.hang", actor=db.session.get(StaffUser, owner).actor).id
        db.session.commit()
    script = Path(__file__).with_name("hang_worker.py")
    worker = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL,
                              env={**os.environ, "TEST_DATABASE_URL": database_url,
                                   "TEST_REDIS_URL": REDIS_URL})
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with app.app_context():
                run = db.session.get(JobRun, run_id)
                if run.status == "running" and run.progress == 41:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("the worker never started the job")
        worker.send_signal(signal.SIGKILL)  # kill -9: no handler, no callback runs
    finally:
        worker.kill()
        worker.wait()
    still = client.get(f"/jobs/{run_id}", headers={"HX-Request": "true"})
    assert still.status_code == 200 and "running" in still.text  # not stale yet
    app.config["JOB_STALE_SECONDS"] = 1
    try:
        time.sleep(1.5)
        done = client.get(f"/jobs/{run_id}", headers={"HX-Request": "true"})
    finally:
        app.config["JOB_STALE_SECONDS"] = 120
    assert done.status_code == 286  # the component stops polling
    assert "failed" in done.text and STALE in done.text
    with app.app_context():
        assert db.session.get(JobRun, run_id).finished_at is not None


def test_an_idle_worker_ends_runs_whose_worker_died(redis_app):
    from datetime import timedelta

    from crm.common import utcnow
    from crm.jobs.cli import Worker
    from crm.jobs.services import STALE

    app, connection = redis_app
    with app.app_context():
        long_ago = utcnow() - timedelta(minutes=10)
        run = JobRun(name="test.hang", params={}, owner_kind="system", status="running",
                     started_at=long_ago, heartbeat_at=long_ago)
        db.session.add(run)
        db.session.commit()
        Worker([queue(connection)], connection=connection).run_maintenance_tasks()
        db.session.expire_all()
        assert (run.status, run.message) == ("failed", STALE)
