"""The import page's downloads (issue 13, part 5): a template with the import's columns and
one example row, and a sample file that imports cleanly."""
import csv
import io

import pytest

from crm.common import SYSTEM
from crm.contacts.importing import apply, check
from crm.contacts.importing.columns import COLUMNS
from crm.contacts.importing.read import read
from crm.customers.services import find_customers
from crm.extensions import db
from crm.security.permissions import ROLES

DOWNLOADS = {"/contacts/import/template.csv": "contacts-import-template.csv",
             "/contacts/import/sample.csv": "contacts-import-sample.csv"}


def rows(response) -> list[list[str]]:
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheets open it as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.parametrize("url", DOWNLOADS)
def test_managers_download_the_template_and_the_sample(app, client, auth, url):
    auth.sign_in("manager")
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f'filename="{DOWNLOADS[url]}"' in disposition
    header, *data = rows(response)
    assert header == list(COLUMNS)
    assert len(data) == 1 if url.endswith("template.csv") else len(data) > 3
    assert all(len(row) == len(COLUMNS) for row in data)


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("admin", "manager")])
def test_only_those_who_import_download_them(app, client, auth, role):
    auth.sign_in(role)
    for url in DOWNLOADS:
        assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", DOWNLOADS)
def test_the_downloads_import_cleanly_and_their_people_are_found(app, client, auth, url):
    auth.sign_in("admin")
    data = client.get(url).data
    with app.app_context():
        plan = check(read(data), "skip")
        assert plan.errors == 0, [(r.line, r.errors) for r in plan.rows if r.errors]
        apply(plan, actor=SYSTEM)
        db.session.commit()
        found = find_customers("marguerite o")
        assert [c.name for c in found.customers] == ["Little Fern Kitchen"]
        assert found.why == {found.customers[0].id: "contact: Marguerite O…"}
        if url.endswith("sample.csv"):  # one buyer for two places; any phone format
            assert {c.name for c in find_customers("tomas ruiz").customers} == {
                "Little Fern Kitchen", "Juniper & Rye"}
            assert [c.name for c in find_customers("(773) 555-0190").customers] == [
                "Pilsen Corner Grocery"]


def test_the_import_page_links_the_template_and_the_sample(client, auth):
    auth.sign_in("manager")
    page = client.get("/contacts/import").text
    assert 'href="/contacts/import/template.csv" download' in page
    assert 'href="/contacts/import/sample.csv" download' in page
