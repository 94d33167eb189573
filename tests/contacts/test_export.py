"""CSV export of customers and contacts: roles, the list's filters, formulas, audit, re-import."""
import csv
import io
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from crm.audit.models import AuditEvent
from crm.common import SYSTEM, Actor
from crm.contacts.importing import COLUMNS
from crm.contacts.importing.columns import safe_cell, unsafe_cell
from crm.contacts.models import Contact
from crm.customers.models import Customer
from crm.customers.services import set_archived
from crm.extensions import db
from crm.security.encryption import seal
from tests import factories


def exported(client, query=""):
    response = client.get("/contacts/export.csv" + query)
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/csv"
    assert re.fullmatch(r"attachment; filename=\"(customers-\d{4}-\d\d-\d\d\.csv)\"; "
                        r"filename\*=UTF-8''\1", response.headers["Content-Disposition"])
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert tuple(rows[0]) == COLUMNS
    return [dict(zip(COLUMNS, r)) for r in rows[1:]]


@pytest.fixture
def farm(app):
    """Three customers: a restaurant with two people, a grocer without people, an archived one."""
    with app.app_context():
        fern = factories.customer(name="Little Fern Kitchen", notes="Back door")
        from crm.contacts.services import add_contact

        add_contact(fern, {"first_name": "Ben", "last_name": "Okafor",
                           "email": "ben@fern.example.com"}, role="kitchen", actor=SYSTEM)
        grocer = factories.customer(name="Green Grocer Collective", kind="grocer", status="lead",
                                    contact=False)
        gone = factories.customer(name="Closed Cafe")
        set_archived(gone, True, actor=SYSTEM)
        db.session.commit()
        return {"fern": fern.id, "grocer": grocer.id, "gone": gone.id}


@pytest.mark.parametrize("role, status", [("admin", 200), ("manager", 200), ("sales", 403),
                                          ("finance", 403), ("delivery", 403), ("viewer", 403)])
def test_only_admins_and_managers_export(client, auth, role, status):
    auth.sign_in(role)
    assert client.get("/contacts/export.csv").status_code == status
    response = auth.post("/contacts/export", {"kind": "grocer"}, page="/customers/")
    assert response.status_code == (303 if status == 200 else 403)


def test_the_list_links_the_export_only_for_those_who_may(client, auth):
    auth.sign_in("sales")
    assert "Export to CSV" not in client.get("/customers/").text
    client.post("/auth/sign-out", headers={"X-CSRFToken": auth.token()})
    auth.sign_in("manager")
    page = client.get("/customers/?kind=grocer&status=lead&sort=updated").text
    link = re.search(r'<a class="button" href="([^"]+)" hx-post="/contacts/export" '
                     r'hx-include="#customer-filters" hx-swap="none" download>Export to CSV</a>',
                     page)
    assert link
    assert parse_qs(urlsplit(link.group(1).replace("&amp;", "&")).query) == {
        "kind": ["grocer"], "status": ["lead"], "sort": ["updated"]}


def test_one_row_per_customer_and_contact_with_the_import_columns(app, client, auth, farm):
    auth.sign_in("manager")
    rows = exported(client)
    assert [(r["customer_name"], r["first_name"], r["role"]) for r in rows] == [
        ("Little Fern Kitchen", "Rosa", "primary"), ("Little Fern Kitchen", "Ben", "kitchen"),
        ("Green Grocer Collective", "", "")]
    rosa = rows[0]
    assert rosa["customer_kind"] == "restaurant" and rosa["notes"] == "Back door"
    assert rosa["email"].endswith("@kitchen.example.com")
    assert rosa["phone"].startswith("'+1312556")  # neutralised: a leading + is a formula
    assert (rosa["street"], rosa["city"], rosa["region"], rosa["postal_code"],
            rosa["country"]) == (rosa["street"], "Chicago", "IL", "60614", "US")
    assert rows[1]["street"] == rosa["street"]  # customer values on every row of the customer
    assert rows[2]["first_name"] == rows[2]["email"] == rows[2]["phone"] == ""
    assert rows[2]["street"] and rows[2]["street"] != rosa["street"]


def test_the_export_takes_the_lists_filters(app, client, auth, farm):
    manager = Actor("staff", auth.sign_in("manager"))
    assert {r["customer_name"] for r in exported(client, "?kind=grocer")} == {
        "Green Grocer Collective"}
    assert {r["customer_name"] for r in exported(client, "?status=lead")} == {
        "Green Grocer Collective"}
    assert {r["customer_name"] for r in exported(client, "?archived=1")} == {"Closed Cafe"}
    with app.test_request_context():
        sealed = seal("fern kit", actor=manager)
    assert {r["customer_name"] for r in exported(client, f"?s={sealed}")} == {
        "Little Fern Kitchen"}
    assert [r["customer_name"] for r in exported(client, "?sort=-number")][0] == (
        "Green Grocer Collective")
    assert len(exported(client, "?kind=nonsense&status=x")) == 3  # unknown values dropped


def test_the_list_button_seals_the_typed_search_into_the_download_url(app, client, auth, farm):
    auth.sign_in("manager")
    response = auth.post("/contacts/export", {"q": "fern", "kind": "restaurant", "sort": "number"},
                         page="/customers/", htmx=True)
    assert response.status_code == 204
    url = response.headers["HX-Redirect"]
    assert "fern" not in url and "kind=restaurant" in url and "s=" in url
    assert [r["customer_name"] for r in exported(client, url[len("/contacts/export.csv"):])] == [
        "Little Fern Kitchen"] * 2


def test_every_export_is_audited_with_its_filters_and_row_count_but_no_values(app, client,
                                                                              auth, farm):
    manager = Actor("staff", auth.sign_in("manager"))
    with app.test_request_context():
        sealed = seal("fern", actor=manager)
    exported(client, f"?kind=restaurant&s={sealed}")
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export"))
        assert event.entity_type == "customer" and event.actor_id == auth.user_id
        assert event.fields == sorted(["filter:kind=restaurant", "filter:search",
                                       "sort:number", "rows:2"])
        assert not any("fern" in f.lower() for f in event.fields)


def test_formula_payloads_are_neutralised_in_every_cell(app, client, auth):
    auth.sign_in("manager")
    with app.app_context():
        factories.customer(name='=HYPERLINK("http://evil.example","x")',
                           notes="@SUM(A1:A9)")
        contact = db.session.scalar(select(Contact))
        contact.first_name, contact.last_name = "-2+3", "\tTab"
        db.session.commit()
    row = exported(client)[0]
    assert row["customer_name"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert row["notes"] == "'@SUM(A1:A9)"
    assert row["first_name"] == "'-2+3" and row["last_name"] == "'\tTab"
    for value in row.values():
        assert not value.startswith(("=", "+", "-", "@", "\t", "\r"))


@pytest.mark.parametrize("payload", ["＝1+1", "＋1", "－1", "＠SUM(A1:A9)", "﹦1+1",
                                     "=\u03381+1"])
def test_fullwidth_and_small_formula_signs_are_neutralised_and_read_back(payload):
    """Spreadsheets read ＝ ＋ － ＠ (and the small forms) as the plain signs: the same apostrophe,
    and an import of the export gets the text back as it was."""
    assert safe_cell(payload) == "'" + payload
    assert unsafe_cell(safe_cell(payload)) == payload
    assert safe_cell("Ｆern ＝ 1") == "Ｆern ＝ 1" and unsafe_cell("'Ｆern") == "'Ｆern"


def test_fullwidth_formula_signs_are_neutralised_in_the_export(app, client, auth):
    auth.sign_in("manager")
    with app.app_context():
        factories.customer(name="＝1+1", notes="＠SUM(A1:A9)")
        contact = db.session.scalar(select(Contact))
        contact.first_name, contact.last_name = "＋1", "－1"
        db.session.commit()
    row = exported(client)[0]
    assert (row["customer_name"], row["notes"], row["first_name"], row["last_name"]) == (
        "'＝1+1", "'＠SUM(A1:A9)", "'＋1", "'－1")


def test_an_export_imports_back_as_duplicates_only(app, client, auth, runner, farm, tmp_path):
    auth.sign_in("manager")
    body = client.get("/contacts/export.csv").get_data()
    path = tmp_path / "export.csv"
    path.write_bytes(body)
    result = runner.invoke(args=["contacts", "import", str(path)])
    assert result.output.strip().splitlines()[-1] == (
        "rows: 3, created: 0, updated: 0, duplicates: 3, errors: 0")
    result = runner.invoke(args=["contacts", "import", str(path), "--on-duplicate", "update"])
    assert result.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Customer)) == 3
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 3
        phones = db.session.scalar(select(Contact).order_by(Contact.id)).phones
        assert len(phones) == 1  # the apostrophe of the export was read back


def test_a_large_export_streams_every_customer(app, client, auth):
    auth.sign_in("admin")
    with app.app_context():
        import random

        from crm.demo.bulk import bulk

        bulk(1200, random.Random(1), echo=lambda *a: None)
    rows = exported(client)
    assert len(rows) == 1200
    assert len({(r["customer_name"], r["email"]) for r in rows}) == 1200
