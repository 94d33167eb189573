"""A worker process for the report tests: runs the real report job with a report whose rows
stop coming after a few (each written and committed as a chunk of its own), so the test can
kill the worker mid-report."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from rq import SimpleWorker  # noqa: E402

from config import TestingConfig  # noqa: E402
from crm import create_app  # noqa: E402
from crm.jobs.services import queue, redis_connection  # noqa: E402


def slow_rows(params, user):
    for n in range(3):
        yield (f"Route {n}", "Monday", n, 0)
    time.sleep(120)


class Config(TestingConfig):
    SQLALCHEMY_DATABASE_URI = os.environ["TEST_DATABASE_URL"]
    REDIS_URL = os.environ["TEST_REDIS_URL"]
    JOB_QUEUE = "crm-test"


if __name__ == "__main__":
    import dataclasses

    from crm.reports import catalog, runs

    catalog.REPORTS["deliveries"] = dataclasses.replace(catalog.REPORTS["deliveries"],
                                                        rows=slow_rows)
    runs.CHUNK_BYTES, runs.PROGRESS_EVERY = 1, 1  # a chunk and a commit per row
    app = create_app(Config)
    with app.app_context():
        connection = redis_connection()
        SimpleWorker([queue(connection)], connection=connection).work(burst=True)
