"""A feature's declaration alone puts its routes, permission, navigation item, badge, tab and
job in place: nothing central is edited to add one."""
import pytest

from config import TestingConfig
from crm import FEATURES
from crm.common import SYSTEM
from crm.extensions import db
from crm.jobs.services import REGISTRY, enqueue
from crm.security.permissions import PERMISSIONS
from tests import factories
from tests.conftest import Auth


@pytest.fixture
def sample_app(make_app, database_url, app):
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    yield make_app(Config, features=(*FEATURES, "tests.features.sample"))
    PERMISSIONS.pop("sample.view", None)
    REGISTRY.pop("sample.job", None)


def test_a_declared_feature_gets_its_nav_item_badge_tab_permission_and_job(sample_app):
    client = sample_app.test_client()
    auth = Auth(sample_app, client)
    auth.sign_in("sales")
    with sample_app.app_context():
        customer_id = factories.customer("Sample Sprouts").id
    page = client.get("/customers/").text
    assert '<a href="/sample/">Samples<span id="nav-badge-index" class="nav-badge">' in page
    badges = client.get("/nav/badges", headers={"HX-Request": "true"}).text
    assert '<span class="count">7</span><span class="visually-hidden"> waiting</span>' in badges
    detail = client.get(f"/customers/{customer_id}").text
    detail = detail[detail.index('aria-label="Customer sections"'):]
    assert f'href="/sample/customers/{customer_id}"' in detail
    assert detail.index(">Contacts<") < detail.index(">Samples<") < detail.index(">Preferences<")
    assert client.get("/sample/").text == "Sample page"
    with sample_app.app_context():
        run = enqueue("sample.job", actor=SYSTEM, n=3)
        db.session.commit()
        assert run.result == {"n": 3}


def test_the_declared_permission_is_enforced(sample_app):
    client = sample_app.test_client()
    auth = Auth(sample_app, client)
    auth.sign_in("viewer")
    assert client.get("/sample/").status_code == 403
    assert "Samples" not in client.get("/customers/").text
    found = auth.post("/search", {"q": "sample"}, page="/customers/", htmx=True)
    assert found.status_code == 200 and "Sample 1" not in found.text


def test_a_declared_finder_adds_its_group_to_the_header_search(sample_app):
    client = sample_app.test_client()
    auth = Auth(sample_app, client)
    auth.sign_in("sales")
    found = auth.post("/search", {"q": "sample"}, page="/customers/", htmx=True)
    assert 'id="site-search-group-samples">Samples<' in found.text
    assert 'href="/sample/" tabindex="-1" aria-selected="false"><span class="hit-label">' \
           'Sample 1</span> <span class="hit-detail">a sample</span>' in found.text


def test_a_view_needing_an_undeclared_permission_stops_the_app(make_app, database_url):
    import sys
    import types

    from flask import Blueprint

    from crm.features import Feature
    from crm.security.permissions import requires

    bp = Blueprint("broken", __name__)
    bp.get("/broken")(requires("nobody.declared.this")(lambda: "x"))
    module = types.ModuleType("tests.features.broken")
    module.feature = Feature(name="broken", blueprints=(bp,))
    sys.modules["tests.features.broken"] = module

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    try:
        with pytest.raises(RuntimeError, match="nobody.declared.this"):
            make_app(Config, features=(*FEATURES, "tests.features.broken"))
    finally:
        del sys.modules["tests.features.broken"]


def test_a_feature_can_veto_a_merge(sample_app):
    from crm.common import SYSTEM
    from crm.contacts.merge import MergeError, merge

    with sample_app.app_context():
        kept, held = factories.customer("Kept Greens"), factories.customer("Held Greens")
        with pytest.raises(MergeError, match="cannot be merged away"):
            merge("customer", kept.id, held.id, {}, versions={kept.id: 1, held.id: 1},
                  actor=SYSTEM)
