"""A worker process for tests: the test app's configuration (TEST_DATABASE_URL, TEST_REDIS_URL)
and one test-only job, "test.hang", which reports progress and then waits to be killed."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from rq import SimpleWorker  # noqa: E402

from config import TestingConfig  # noqa: E402
from crm import create_app  # noqa: E402
from crm.jobs.services import queue, redis_connection, register_job  # noqa: E402


def hang(run, report):
    report(41, "Working")
    time.sleep(120)


class Config(TestingConfig):
    SQLALCHEMY_DATABASE_URI = os.environ["TEST_DATABASE_URL"]
    REDIS_URL = os.environ["TEST_REDIS_URL"]
    JOB_QUEUE = "crm-test"


if __name__ == "__main__":
    register_job("test.hang", hang)
    app = create_app(Config)
    with app.app_context():
        connection = redis_connection()
        SimpleWorker([queue(connection)], connection=connection).work(burst=True)
