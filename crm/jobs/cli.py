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
