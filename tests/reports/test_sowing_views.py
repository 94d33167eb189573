"""The /sowing page as each role sees it: trays and containers, no money, no customer names;
its bad input; its print layout and CSV."""
import csv
import io
from datetime import date, timedelta

import pytest

from crm.common import farm_today
from tests.reports.test_sowing_plan import START, TODAY, farm  # noqa: F401 (the fixture)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    """The farm's today is TODAY for the plan's late flags (the window starts after it)."""
    monkeypatch.setattr("crm.reports.sowing.farm_today", lambda: TODAY)


@pytest.mark.usefixtures("farm")
@pytest.mark.parametrize("role", ["grower", "manager", "admin"])
def test_the_plan_shows_trays_by_sowing_day_and_packing_by_delivery_day(auth, client, role):
    auth.sign_in(role)
    page = client.get(f"/sowing?start={START}&days=7")
    assert page.status_code == 200 and "<html" in page.text
    html = page.text
    assert "9 trays to sow" in html
    assert "Sow Saturday February 20" in html and "late: sow today or short the order" in html
    assert "Sow Tuesday February 23 · 5 trays" in html
    assert "Deliver Friday March 5" in html and "<strong>17</strong>" not in html
    assert "Fern Cafe" not in html and "Bay Caterer" not in html  # counts, never names
    assert "$" not in html


@pytest.mark.usefixtures("farm")
def test_htmx_gets_the_plan_alone(auth, client):
    auth.sign_in("grower")
    response = client.get(f"/sowing?start={START}&days=14", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.text
    assert 'id="sowing-plan"' in response.text and "Deliver Sunday March 14" in response.text


def test_the_plan_starts_tomorrow_for_a_week_by_default(auth, client, app):
    auth.sign_in("grower")
    with app.app_context():
        tomorrow = farm_today() + timedelta(days=1)
    html = client.get("/sowing").text
    assert f'value="{tomorrow.isoformat()}"' in html
    assert f"Deliver {tomorrow.strftime('%A %B %-d')}" in html
    assert f"Deliver {(tomorrow + timedelta(days=6)).strftime('%A %B %-d')}" in html
    assert f"Deliver {(tomorrow + timedelta(days=7)).strftime('%A %B %-d')}" not in html


@pytest.mark.parametrize(("query", "message"), [
    ("start=2027-02-30", "is not a date; use YYYY-MM-DD"),
    ("start=tomorrow", "is not a date"),
    ("start=2077-03-01", "Start within a year of today"),
    ("start=1977-03-01", "Start within a year of today"),
    ("days=30", "Plan 7 or 14 days."),
    ("days=ten", "Plan 7 or 14 days."),
])
def test_bad_dates_and_days_get_a_clear_message(auth, client, query, message):
    auth.sign_in("grower")
    response = client.get(f"/sowing?{query}")
    assert response.status_code == 422 and message in response.text
    assert "trays to sow" not in response.text
    assert client.get(f"/sowing.csv?{query}").status_code == 422


@pytest.mark.usefixtures("farm")
def test_the_csv_has_the_sowings_packing_and_containers(auth, client):
    auth.sign_in("grower")
    response = client.get(f"/sowing.csv?start={START}&days=7")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "sowing-plan-2027-03-01-7-days.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    assert rows[0][:4] == ["section", "date", "variety", "trays"]
    assert ["sow", "2027-02-23", "Pea shoots", "3", "800", "10", "", "", "", "2027-03-05",
            ""] in rows
    assert ["sow", "2027-02-20", "Pea shoots", "2", "500", "10", "", "", "", "2027-03-02",
            "late: sow today or short the order"] in rows
    assert ["pack", "2027-03-03", "Radish", "", "400", "", "100 g", "Compostable container",
            "4", "", ""] in rows
    assert ["containers total", "", "", "", "", "", "", "4 oz clamshell", "17", "", ""] in rows


@pytest.mark.usefixtures("farm")
def test_a_variety_named_like_a_formula_is_neutralised_in_the_csv(app, auth, client):
    from crm.catalogue.models import Product
    from crm.extensions import db

    with app.app_context():
        pea = db.session.query(Product).filter_by(name="Pea shoots").one()
        pea.name = "=HYPERLINK(1)"
        db.session.commit()
    auth.sign_in("grower")
    text = client.get(f"/sowing.csv?start={START}&days=7").text
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text


@pytest.mark.usefixtures("farm")
def test_the_print_layout_hides_the_navigation(auth, client):
    auth.sign_in("grower")
    html = client.get(f"/sowing?start={START}").text
    assert "css/sheet.css" in html  # the delivery sheets' print rules: no header, no nav
    assert 'class="no-print sowing-links"' in html and "data-print" in html


@pytest.mark.parametrize("role", ["sales", "finance", "delivery", "viewer"])
def test_other_roles_may_not_open_the_plan(auth, client, role):
    auth.sign_in(role)
    assert client.get("/sowing").status_code == 403
    assert client.get("/sowing.csv").status_code == 403
    assert "Sowing plan" not in client.get("/delivery/sheets").text


def test_start_date_is_a_date():
    assert START == date(2027, 3, 1)
