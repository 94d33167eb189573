"""Route inventory: every route declares a permission, anonymous users are sent to sign-in,
and each role gets exactly what the role-permission table grants."""
import re

import pytest

from config import TestingConfig
from crm import create_app
from crm.security.permissions import PERMISSIONS, PUBLIC, ROLES, required_permission
from tests import factories

PUBLIC_ENDPOINTS = {"static", "main.home", "main.healthz", "main.readyz", "auth.sign_in",
                    "auth.sign_out"}


def concrete_url(rule, record_id=1):
    """A URL for the rule, with ids pointing at a record that exists (and the first tab name)."""
    url = rule.rule
    url = re.sub(r"<int:\w+>", str(record_id), url)
    url = re.sub(r"<any\(([^,)]+)[^>]*>", lambda m: m.group(1).strip(), url)
    url = re.sub(r"<(?:path:)?\w+>", "x", url)
    return url


def staff_rules(app):
    """(rule, permission) for every route that needs a signed-in user."""
    with app.app_context():
        return [(r, required_permission(r.endpoint)) for r in app.url_map.iter_rules()
                if r.endpoint not in PUBLIC_ENDPOINTS]


def test_every_route_declares_a_known_permission(app):
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            permission = required_permission(rule.endpoint)
            if rule.endpoint in PUBLIC_ENDPOINTS:
                assert permission == PUBLIC, rule.endpoint
            else:
                assert permission in PERMISSIONS, f"{rule.endpoint} declares no permission"


def test_anonymous_visitors_are_sent_to_sign_in_everywhere(app, client):
    for rule, _ in staff_rules(app):
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(concrete_url(rule), method=method)
            assert response.status_code == 302, (rule.rule, method)
            assert response.headers["Location"].startswith("/auth/sign-in"), rule.rule


def _route_cases():
    """(role, method, rule) for every staff route: one test each, so each failure is named."""
    rules = sorted(create_app(TestingConfig).url_map.iter_rules(), key=lambda r: r.rule)
    return [pytest.param(role, method, rule.rule, id=f"{role}-{method}-{rule.rule}")
            for role in ROLES for rule in rules if rule.endpoint not in PUBLIC_ENDPOINTS
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


@pytest.mark.parametrize(("role", "method", "path"), _route_cases())
def test_each_role_reaches_exactly_its_routes(app, client, auth, role, method, path):
    auth.sign_in(role)
    with app.app_context():
        probe = factories.customer("Permission Probe").id
    token = auth.token("/customers/")
    (rule, permission), = [(r, p) for r, p in staff_rules(app)
                           if r.rule == path and method in r.methods]
    allowed = role in PERMISSIONS[permission]
    response = client.open(concrete_url(rule, probe), method=method,
                           headers={"X-CSRFToken": token})
    if allowed:
        assert response.status_code < 500, (role, method, rule.rule)
        assert response.status_code not in (401, 403), (role, method, rule.rule)
        # (a second id, e.g. an address of the customer, need not exist: 404 is fine)
        if method == "GET" and "customer_id" in rule.rule and rule.rule.count("<") == 1:
            assert response.status_code in (200, 409), (role, rule.rule)
    else:
        assert response.status_code == 403, (role, method, rule.rule)


def test_role_table_matches_the_farm(app):
    assert PERMISSIONS["customers.edit"] == {"admin", "manager", "sales"}
    assert PERMISSIONS["customers.archive"] == {"admin", "manager"}
    assert PERMISSIONS["admin.users"] == {"admin"}
    # the grower (issue 17): the sowing plan, growing data and delivery sheets, no customers
    assert PERMISSIONS["customers.view"] == set(ROLES) - {"grower"}
    assert PERMISSIONS["sowing.view"] == {"admin", "manager", "grower"}
    assert PERMISSIONS["catalogue.growing"] == {"admin", "manager", "grower"}
    assert "grower" in PERMISSIONS["delivery.view"]
    assert not {"grower"} & (PERMISSIONS["credit.view"] | PERMISSIONS["orders.view"]
                             | PERMISSIONS["communications.view"] | PERMISSIONS["reports.run"]
                             | PERMISSIONS["contacts.view"] | PERMISSIONS["preferences.view"])
    # Who sees money (issue 15): amounts for admin, manager and finance; the credit status
    # without amounts for sales too; neither for delivery and viewer.
    assert PERMISSIONS["credit.amounts"] == {"admin", "manager", "finance"}
    assert PERMISSIONS["credit.view"] == {"admin", "manager", "sales", "finance"}
    assert PERMISSIONS["credit.adjust"] == {"admin", "finance"}
    assert PERMISSIONS["prices.manage"] == {"admin", "manager"}
    assert not {"delivery", "viewer", "grower"} & (PERMISSIONS["credit.view"] | PERMISSIONS["orders.view"])
