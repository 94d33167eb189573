"""The demo farm is made by the features' own declared steps, in the order of crm.FEATURES,
sharing one DemoFarm; adding a feature's step needs nothing central."""
import sys
import types

import pytest

from config import TestingConfig
from crm import FEATURES
from crm.auth.demo import STAFF
from crm.contacts.demo import CUSTOMERS, GROUP_LOCATIONS, PEOPLE_ACCOUNTS
from crm.features import Feature, load, registry


def test_the_demo_steps_come_from_the_features_declarations(app):
    with app.app_context():
        found = registry()
        steps = found.demo_steps
        declared = {f.name: f.demo for f in found.features if f.demo}
    assert [name for name, _ in steps] == ["auth", "contacts", "communications", "preferences",
                                          "orders", "segments"]
    for name, step in steps:
        assert declared[name] == f"crm.{name}.demo:seed"
        assert step is load(declared[name])


@pytest.fixture
def extra_feature():
    """A feature, not in crm.FEATURES, whose demo step notes what the farm holds by then."""
    seen = []
    module = types.ModuleType("tests.demo.extra")
    module.step = lambda farm: seen.append(
        (len(farm.staff), len(farm.customers), farm.rng.random()))
    module.feature = Feature(name="extra", demo="tests.demo.extra:step")
    sys.modules[module.__name__] = module
    yield seen
    del sys.modules[module.__name__]


def test_a_features_demo_step_runs_after_those_before_it_on_the_same_farm(
        make_app, database_url, app, extra_feature):
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    other = make_app(Config, features=(*FEATURES, "tests.demo.extra"))
    runner = other.test_cli_runner()
    result = runner.invoke(args=["demo", "seed", "--weeks", "2"])
    assert result.exit_code == 0, result.output
    made = 1 + len(GROUP_LOCATIONS) + len(CUSTOMERS) + len(PEOPLE_ACCOUNTS)
    assert f"Seeded {made} customers" in result.output
    [(staff, customers, draw)] = extra_feature
    assert (staff, customers) == (len(STAFF), made)
    assert 0 <= draw < 1
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0 and "already present" in again.output
    assert len(extra_feature) == 1  # refused before any step ran
