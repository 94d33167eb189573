"""The dashboard as each role sees it, and the buttons that change it (issue 17, item 1)."""
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.common import SYSTEM, farm_today
from crm.credit.services import issue_invoice
from crm.extensions import db
from crm.reports.dashboard_models import DashboardWidget, WidgetCache
from crm.reports.widgets import DEFAULTS, WIDGETS
from crm.security.permissions import ROLES, can
from tests import factories


def headings(html):
    return re.findall(r'<h2 id="widget-([a-z_]+)-title">', html)


def addable(html):
    found = re.search(r'id="dashboard-add-key" name="key">(.*?)</select>', html, re.S)
    return found.group(1) if found else ""


def token(html):
    return re.search(r'name="layout" value="([^"]*)"', html).group(1)


@pytest.fixture
def books(app):
    """A little of everything: customers, an overdue invoice, a delivery plan."""
    with app.app_context():
        fern = factories.customer("Fern Kitchen", kind="restaurant")
        factories.customer("Oak Grocer", kind="grocer", status="lead")
        issue_invoice(fern, [("Pea shoots 1 lb", 3, 2200)], actor=SYSTEM,
                      issue_date=farm_today() - timedelta(days=40))
        db.session.commit()
        factories.delivery_plan(fern, "North", ("Tue", "Fri"))


@pytest.mark.parametrize("role", [r for r in ROLES if r != "grower"])
def test_each_role_gets_its_default_widgets_and_never_one_it_may_not_see(
        app, client, auth, books, role):
    auth.sign_in(role)
    page = client.get("/dashboard")
    assert page.status_code == 200 and "<html" in page.text
    assert " style=" not in page.text and "<style" not in page.text  # the CSP allows none
    shown = headings(page.text)
    with app.test_request_context():
        expected = [k for k in DEFAULTS[role] if can(_user(app, auth), WIDGETS[k].permission)]
    assert shown == expected and shown
    offered = re.findall(r'<option value="([a-z_]+)">', addable(page.text))
    for key in shown + offered:
        with app.app_context():
            assert can(_user(app, auth), WIDGETS[key].permission), key
    if role in ("sales", "delivery", "viewer"):
        assert "$" not in page.text and "Revenue" not in page.text
        assert "ar_aging" not in page.text
    else:
        assert "$66.00" in page.text  # the open invoice, in the aging


def test_the_grower_has_no_dashboard_and_its_home_is_the_sowing_plan(client, auth):
    auth.sign_in("grower")
    assert client.get("/dashboard").status_code == 403
    assert client.get("/").headers["Location"].endswith("/sowing")


def _user(app, auth):
    from crm.auth.models import StaffUser

    return db.session.get(StaffUser, auth.user_id)


def test_the_home_page_is_the_dashboard(client, auth):
    auth.sign_in("viewer")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/dashboard"


def test_add_remove_and_move_without_javascript(app, client, auth, books):
    auth.sign_in("finance")
    page = client.get("/dashboard").text
    assert headings(page) == ["ar_aging", "revenue_month", "revenue_kind", "top_customers"]
    moved = auth.post("/dashboard/widgets/revenue_kind/move",
                      {"direction": "up", "layout": token(page)}, page="/dashboard")
    assert moved.status_code == 303 and moved.headers["Location"].endswith("#widget-revenue_kind")
    page = client.get("/dashboard").text
    assert headings(page) == ["ar_aging", "revenue_kind", "revenue_month", "top_customers"]
    assert "Revenue by customer kind is now 2 of 4." in page  # the flashed message
    removed = auth.post("/dashboard/widgets/ar_aging/remove", {"layout": token(page)},
                        page="/dashboard")
    assert removed.status_code == 303
    page = client.get("/dashboard").text
    assert headings(page) == ["revenue_kind", "revenue_month", "top_customers"]
    assert '<option value="ar_aging">' in page  # it can be added again
    added = auth.post("/dashboard/widgets", {"key": "ar_aging", "layout": token(page)},
                      page="/dashboard")
    assert added.status_code == 303
    assert headings(client.get("/dashboard").text)[-1] == "ar_aging"
    with app.app_context():
        rows = db.session.scalars(select(DashboardWidget).where(
            DashboardWidget.user_id == auth.user_id).order_by(DashboardWidget.position)).all()
        assert [(r.key, r.position) for r in rows] == [
            ("revenue_kind", 0), ("revenue_month", 1), ("top_customers", 2), ("ar_aging", 3)]
    reset = auth.post("/dashboard/reset", {}, page="/dashboard")
    assert reset.status_code == 303
    assert headings(client.get("/dashboard").text) == list(DEFAULTS["finance"])


def test_moving_with_htmx_swaps_the_dashboard_in_place(client, auth, books):
    auth.sign_in("delivery")
    page = client.get("/dashboard").text
    assert headings(page) == ["deliveries", "packaging"]
    response = auth.post("/dashboard/widgets/packaging/move",
                         {"direction": "up", "layout": token(page)}, page="/dashboard",
                         htmx=True)
    assert response.status_code == 200 and "<html" not in response.text
    assert response.text.startswith('<div id="dashboard"')
    assert headings(response.text) == ["packaging", "deliveries"]
    # the words for screen readers, out of band, and the toast
    assert 'id="dashboard-status"' in response.text and 'hx-swap-oob="true"' in response.text
    assert json.loads(response.headers["HX-Trigger"])["toast"]["message"] == \
        "Packaging mix is now 1 of 2."
    # the first one cannot go further up: nothing changes, nothing breaks
    again = auth.post("/dashboard/widgets/packaging/move",
                      {"direction": "up", "layout": token(response.text)}, page="/dashboard",
                      htmx=True)
    assert again.status_code == 200 and headings(again.text) == ["packaging", "deliveries"]


def test_a_change_from_a_stale_tab_is_refused_with_409(client, auth, books):
    auth.sign_in("delivery")
    old_tab = client.get("/dashboard").text
    auth.post("/dashboard/widgets/packaging/remove", {"layout": token(old_tab)},
              page="/dashboard")
    stale = auth.post("/dashboard/widgets/deliveries/move",
                      {"direction": "down", "layout": token(old_tab)}, page="/dashboard",
                      htmx=True)
    assert stale.status_code == 409
    assert "changed in another tab" in stale.text
    assert headings(stale.text) == ["deliveries"]  # the dashboard as it is now


def test_a_widget_the_role_may_not_see_is_refused(app, client, auth, books):
    auth.sign_in("sales")
    page = client.get("/dashboard").text
    assert '<option value="ar_aging">' not in page and '<option value="revenue_month">' not in page
    refused = auth.post("/dashboard/widgets", {"key": "ar_aging", "layout": token(page)},
                        page="/dashboard")
    assert refused.status_code == 403
    assert auth.post("/dashboard/widgets/top_customers/period", {"period": "this_year"},
                     page="/dashboard").status_code == 403
    assert auth.post("/dashboard/widgets", {"key": "nonsense"},
                     page="/dashboard").status_code == 404
    # a stored widget the role no longer may see is not shown either
    with app.app_context():
        db.session.add(DashboardWidget(user_id=auth.user_id, key="ar_aging", position=0))
        db.session.add(DashboardWidget(user_id=auth.user_id, key="tickets", position=1))
        db.session.commit()
    assert headings(client.get("/dashboard").text) == ["tickets"]


def test_the_period_is_kept_and_an_unknown_one_falls_back_with_a_message(app, client, auth,
                                                                          books):
    auth.sign_in("manager")
    chosen = auth.post("/dashboard/widgets/revenue_product/period", {"period": "last_year"},
                       page="/dashboard", htmx=True)
    assert chosen.status_code == 200 and chosen.text.startswith('<section class="card widget"')
    assert '<option value="last_year" selected>' in chosen.text
    assert '<option value="last_year" selected>' in client.get("/dashboard").text
    unknown = auth.post("/dashboard/widgets/revenue_product/period", {"period": "forever"},
                        page="/dashboard", htmx=True)
    assert unknown.status_code == 200
    toast = json.loads(unknown.headers["HX-Trigger"])["toast"]
    assert toast["level"] == "warning" and "not offered" in toast["message"]
    assert '<option value="this_month" selected>' in unknown.text
    plain = auth.post("/dashboard/widgets/revenue_product/period", {"period": "'; DROP"},
                      page="/dashboard")
    assert plain.status_code == 303
    # a widget without periods ignores one
    refused = auth.post("/dashboard/widgets/revenue_month/period", {"period": "this_year"},
                        page="/dashboard", htmx=True)
    assert refused.status_code == 422 and "has no period to choose" in refused.text
    assert refused.headers["HX-Retarget"] == "#dashboard"


def test_dear_widgets_come_from_the_cache_and_say_how_fresh(app, client, auth, books, runner):
    auth.sign_in("finance")
    page = client.get("/dashboard").text
    assert "As of " in page and "counted nightly" in page
    with app.app_context():
        kept = db.session.get(WidgetCache, ("revenue_month", ""))
        assert kept is not None and sum(kept.data["this"]) + sum(kept.data["last"]) == 6600
        # a new invoice is not counted until the cache is refreshed
        issue_invoice(factories.customer(), [("Radish 4 oz", 1, 1000)], actor=SYSTEM)
        db.session.commit()
    result = runner.invoke(args=["reports", "refresh"])
    assert result.exit_code == 0 and "revenue_month" in result.output
    with app.app_context():
        kept = db.session.get(WidgetCache, ("revenue_month", ""))
        assert sum(kept.data["this"]) + sum(kept.data["last"]) == 7600
        assert db.session.get(WidgetCache, ("top_customers", "last_year")) is not None


def test_widget_links_go_to_the_list_behind_the_number(client, auth, books):
    auth.sign_in("admin")
    page = client.get("/dashboard").text
    assert 'href="/customers/?status=active"' in page
    assert 'href="/customers/?kind=restaurant"' in page
    assert 'href="/credit"' in page
    auth.post("/dashboard/widgets", {"key": "deliveries", "layout": token(page)},
              page="/dashboard")
    page = client.get("/dashboard").text
    assert re.search(r'href="/delivery/sheets\?date=[0-9-]+&amp;route=North"', page)


def test_sales_sees_their_overdue_follow_ups_and_the_list_behind_them(app, client, auth):
    from datetime import datetime, timezone

    from crm.auth.models import StaffUser
    from crm.communications.services import log_interaction

    auth.sign_in("sales")
    with app.app_context():
        me = db.session.get(StaffUser, auth.user_id)
        fern = factories.customer("Fern Kitchen")
        log_interaction(fern, {"channel": "call", "direction": "outbound", "subject": "Call",
                               "occurred_at": datetime(2026, 6, 1, tzinfo=timezone.utc),
                               "follow_up_due": farm_today() - timedelta(days=2),
                               "follow_up_assignee_id": me.id}, actor=me.actor)
        db.session.commit()
        due = farm_today() - timedelta(days=2)
    page = client.get("/dashboard").text
    section = re.search(r'<section class="card widget" id="widget-follow_ups".*?</section>',
                        page, re.S).group(0)
    assert re.search(r'<a href="/follow-ups" class="figure">1</a>', section)
    assert "Fern Kitchen" in section and f"due {due:%a %b} {due.day}" in section
    assert "Live: counted just now" in section


def test_the_nightly_job_counts_the_cached_widgets(app, books):
    from crm.jobs.services import job_function

    with app.app_context():
        steps = []
        timings = job_function("reports.refresh_dashboards")(None, lambda *a: steps.append(a))
        db.session.commit()
        assert steps and "revenue_month" in timings and "follow_ups" not in timings
        assert db.session.get(WidgetCache, ("ar_aging", "")).data["total"] == 6600


def test_a_dear_widget_is_shown_as_kept_however_old_and_a_cheap_one_is_recounted(
        app, client, auth, books):
    from datetime import datetime, timezone

    auth.sign_in("admin")
    client.get("/dashboard")  # counts and keeps every widget once
    with app.app_context():
        for key in ("ar_aging", "customers_status"):
            db.session.get(WidgetCache, (key, "")).computed_at = datetime(
                2026, 1, 2, 8, 0, tzinfo=timezone.utc)
        db.session.commit()
        factories.customer("Late Arrival")
    page = client.get("/dashboard").text
    aging = re.search(r'id="widget-ar_aging".*?</section>', page, re.S).group(0)
    assert "As of Jan 2, 2026" in aging and "refresh job" in aging  # kept, and says how old
    status = re.search(r'id="widget-customers_status".*?</section>', page, re.S).group(0)
    assert "As of Jan 2" not in status and "3 customers" in status  # recounted on the view
