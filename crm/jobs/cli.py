import click
from flask import current_app
from flask.cli import with_appcontext
from rq import SimpleWorker

from crm.jobs.services import queue, redis_connection, sweep_stale_runs


class Worker(SimpleWorker):
    """RQ's SimpleWorker (jobs run in this process, in the app context built once) that also
    ends runs whose worker died, at each of its maintenance passes (JOB_SWEEP_SECONDS)."""

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()
        sweep_stale_runs()


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@with_appcontext
def worker_command(burst):
    """Run an RQ worker with this app's configuration."""
    connection = redis_connection()
    if connection is None:
        raise click.ClickException("REDIS_URL is not set: jobs run inline, no worker needed.")
    # SimpleWorker runs jobs in this process, inside the app context built once here.
    sweep_stale_runs()  # runs a worker that died left "running" end as failed
    worker = Worker([queue(connection)], connection=connection,
                    maintenance_interval=current_app.config["JOB_SWEEP_SECONDS"])
    click.echo(f"Worker listening on queue {current_app.config['JOB_QUEUE']!r}.")
    worker.work(burst=burst)


@click.group("cron", invoke_without_command=True)
@click.pass_context
@with_appcontext
def cron_cli(context):
    """Run the periodic work the features declare (RQ's cron scheduler, farm time): it enqueues
    each piece when due for `flask worker`; one missed while nothing ran runs once on start."""
    if context.invoked_subcommand is not None:
        return
    from crm.jobs.cron import FarmCron, declared

    connection = redis_connection()
    if connection is None:
        import sys
        from pathlib import Path

        flask = Path(sys.executable).parent / "flask"
        here = Path(current_app.root_path).parent
        click.echo(
            "REDIS_URL is not set: jobs run inline and there is no scheduler to start.\n"
            "Run the periodic work from the system's cron instead (`crontab -e`, with the app's\n"
            "environment: DATABASE_URL, the keys); the times are farm time: CRON_TZ is read by\n"
            "cronie, with Debian's cron set the machine's zone to the farm's. A run missed while\n"
            "the machine was off is not made up (use `flask cron` with Redis for that).\n\n"
            f"CRON_TZ={current_app.config['FARM_TIMEZONE']}")
        for periodic in declared():
            click.echo(f"{periodic.expression}  cd {here} && {flask} --app wsgi cron run "
                       f"{periodic.name}")
        raise SystemExit(1)
    scheduler = FarmCron(connection)
    for job in scheduler.get_jobs():
        click.echo(f"{job.periodic.name}: {job.periodic.expression} (farm time)")
    click.echo(f"Scheduling onto queue {current_app.config['JOB_QUEUE']!r}; "
               "`flask worker` runs the work.")
    scheduler.start()


@cron_cli.command("list")
@with_appcontext
def cron_list():
    """Each piece of periodic work, its schedule and its next run (farm time)."""
    from zoneinfo import ZoneInfo

    from crm.common import utcnow
    from crm.jobs.cron import LAST_KEY, declared, next_slot

    zone = ZoneInfo(current_app.config["FARM_TIMEZONE"])
    connection = redis_connection()
    last = connection.hgetall(LAST_KEY) if connection is not None else {}
    for periodic in declared():
        upcoming = next_slot(periodic.expression, utcnow(), zone).astimezone(zone)
        line = (f"{periodic.name:<20} {periodic.expression:<14} {periodic.what:<32} "
                f"next {upcoming:%Y-%m-%d %H:%M %Z}")
        done = last.get(periodic.name.encode())
        if done:
            line += f", last slot {datetime_of(done).astimezone(zone):%Y-%m-%d %H:%M}"
        click.echo(line)


def datetime_of(stamp: bytes):
    from datetime import datetime

    return datetime.fromisoformat(stamp.decode())


@cron_cli.command("run")
@click.argument("name")
@with_appcontext
def cron_run(name):
    """Run one piece of periodic work now, in this process (a job's name starts a run of it)."""
    from crm.jobs.cron import run_now

    if name not in current_app.extensions["crm.features"].periodic:
        known = ", ".join(current_app.extensions["crm.features"].periodic)
        raise click.ClickException(f"no periodic work named {name!r}; known: {known}")
    run_now(name)
    click.echo(f"{name}: done.")
