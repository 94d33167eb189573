"""A feature that exists only for the cron tests: periodic work that records its calls."""
from crm.features import Feature

CALLS = []


def tick(now):
    CALLS.append(("tick", now))


def nightly(now):
    CALLS.append(("nightly", now))


feature = Feature(
    name="test_cron",
    periodic={"test_tick": ("tests.jobs.cron_feature:tick", "* * * * *"),
              "test_nightly": ("tests.jobs.cron_feature:nightly", "0 2 * * *")},
)
