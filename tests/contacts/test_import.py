"""The CSV import pages: upload, preview with errors per column, choices, run as a job, report."""
import csv
import io
import json
import re

import pytest
from sqlalchemy import func, select, text
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from crm.audit.models import AuditEvent
from crm.contacts.models import Contact, ContactImport
from crm.customers.models import Customer
from crm.extensions import db
from crm.jobs.models import JobRun
from tests import factories

HEADER = ("customer_name,customer_kind,first_name,last_name,email,phone,role,street,city,"
          "region,postal_code,country,notes")
GOOD = f"""{HEADER}
Little Fern Kitchen,restaurant,Ana,Garcia,ana@fern.example.com,312-555-0101,,12 N Clark St,Chicago,IL,60614,US,
Little Fern Kitchen,,Ben,Okafor,ben@fern.example.com,,kitchen,,,,,,
"""
BAD = GOOD + "Nowhere Diner,wizard,Cy,,cy@@nowhere,123,,,,,,,\n"


def upload(auth, data, name="people.csv", htmx=False, **choices):
    # Encoded in memory: the test client spools a large body to a file it never closes.
    boundary, body = encode_multipart({
        "file": FileStorage(io.BytesIO(data.encode() if isinstance(data, str) else data), name,
                            content_type="text/csv"),
        "on_duplicate": "skip", **choices})
    return auth.post("/contacts/import", body, page="/contacts/import", htmx=htmx,
                     content_type=f"multipart/form-data; boundary={boundary}")


def uploaded(auth, data, **choices):
    """Upload and return the preview's URL."""
    response = upload(auth, data, **choices)
    assert response.status_code == 303, response.text
    return response.headers["Location"]


def customers(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Customer))


@pytest.mark.parametrize("role, status", [("admin", 200), ("manager", 200), ("sales", 403),
                                          ("finance", 403), ("delivery", 403), ("viewer", 403)])
def test_only_admins_and_managers_import(client, auth, role, status):
    auth.sign_in(role)
    assert client.get("/contacts/import").status_code == status


def test_the_upload_form_says_its_limit_and_its_choices(client, auth):
    auth.sign_in("manager")
    page = client.get("/contacts/import").text
    assert "20 MB at most" in page
    assert '<label for="file">CSV file</label>' in page
    assert "<legend>When a row matches a customer or contact already here</legend>" in page
    for choice in ("Skip it", "Update the existing record", "Create a new record anyway",
                   "Import valid rows only"):
        assert choice in page


def test_upload_shows_a_preview_and_stores_the_file_encrypted(app, client, auth):
    auth.sign_in("manager")
    url = uploaded(auth, BAD)
    assert re.fullmatch(r"/contacts/import/\d+", url)
    page = client.get(url).text
    assert "Import <span class=\"filename\">people.csv</span>" in page
    assert "<dt>Rows</dt><dd>3" in page and "<dt>Valid</dt><dd>2" in page
    assert "UTF-8, comma-separated" in page
    assert '<strong class="bad">1</strong>' in page
    # errors per row and column, error rows first, readable as a table
    assert '<th scope="row" class="num">4</th>' in page
    assert page.index(">4</th>") < page.index(">2</th>")
    assert "Kind: Not a kind of customer" in page and "Email: That email address" in page
    assert "<caption>Rows with errors first. All 3 rows.</caption>" in page
    assert "so nothing can be imported" in page
    assert re.search(r'<button type="submit" class="primary"[^>]*disabled>\s*Import</button>', page)
    assert '<p id="import-announce" class="visually-hidden" role="status" aria-live="polite">' \
        in page
    with app.app_context():
        stored = db.session.scalar(select(ContactImport))
        assert stored.status == "previewed" and stored.content.startswith(HEADER)
        raw = db.session.execute(text("SELECT filename, content FROM contact_import")).one()
        assert "people.csv" not in raw[0] and "ana@fern" not in raw[1]
    assert customers(app) == 0


def test_the_preview_counts_duplicates_in_the_file_and_matches_in_the_database(app, client,
                                                                              auth):
    auth.sign_in("manager")
    with app.app_context():
        existing = factories.customer(name="Little Fern Kitchen")
        email = existing.contact_links[0].contact.emails[0].email
    data = GOOD + (f"Little Fern Kitchen,,Ana,Garcia,ana@fern.example.com,,,,,,,,\n"
                   f"Little Fern Kitchen,,Rosa,Tester1,{email},,,,,,,,\n")
    page = client.get(uploaded(auth, data)).text
    assert "<dt>Duplicates in the file</dt><dd>1" in page
    assert "<dt>Already here</dt><dd>3" in page  # rows naming an existing customer, once
    assert "Same person as line 2; imported once." in page
    assert "has the same email." in page
    assert "2 to create, 0 to update, 2 left out as duplicates." in page


@pytest.mark.parametrize("data, message", [
    (b"PK\x03\x04" + bytes(64), "This is a spreadsheet workbook, not a CSV file."),
    ("", "The file is empty."),
])
def test_unusable_files_are_refused_in_the_form(app, client, auth, data, message):
    auth.sign_in("manager")
    response = upload(auth, data, htmx=True, on_duplicate="update", skip_invalid="y")
    assert response.status_code == 422
    assert message in response.text and "<html" not in response.text
    assert 'checked id="on_duplicate-1" name="on_duplicate" type="radio" value="update"' \
        in response.text  # the choices are kept
    assert 'checked id="skip_invalid" name="skip_invalid" type="checkbox"' in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContactImport)) == 0


def test_no_file_chosen(client, auth):
    auth.sign_in("manager")
    response = auth.post("/contacts/import", {"on_duplicate": "skip"}, htmx=True)
    assert response.status_code == 422 and "Choose a CSV file." in response.text


def test_a_50_mb_upload_is_refused_with_the_limit(app, client, auth):
    auth.sign_in("manager")
    head = (b'--b0undary\r\nContent-Disposition: form-data; name="file"; filename="big.csv"'
            b"\r\nContent-Type: text/csv\r\n\r\n")
    body = head + GOOD.encode() + b"x" * (50 * 2**20) + b"\r\n--b0undary--\r\n"
    response = auth.post("/contacts/import", body, page="/contacts/import",
                         content_type="multipart/form-data; boundary=b0undary")
    assert response.status_code == 413
    assert "larger than this form accepts (20 MB at most)" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContactImport)) == 0


def test_a_file_just_over_20_mb_gets_the_limit_in_the_form(client, auth):
    auth.sign_in("manager")
    # A raw multipart body (the test client would spool a file this size to disk).
    head = (b'--b0undary\r\nContent-Disposition: form-data; name="on_duplicate"\r\n\r\nskip'
            b'\r\n--b0undary\r\nContent-Disposition: form-data; name="file"; '
            b'filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n')
    body = head + GOOD.encode() + b"x" * (20 * 2**20) + b"\r\n--b0undary--\r\n"
    response = auth.post("/contacts/import", body, page="/contacts/import", htmx=True,
                         content_type="multipart/form-data; boundary=b0undary")
    assert response.status_code == 422
    assert "the import takes 20 MB at most. Split it into smaller files." in response.text


def test_latin_1_semicolons_and_ignored_columns_are_said_in_the_preview(client, auth):
    auth.sign_in("manager")
    data = ("Company;Type;First name;E-mail;Shoe size\n"
            "Café Ñandú;restaurant;José;jose@nandu.example.com;44\n").encode("latin-1")
    page = client.get(uploaded(auth, data)).text
    assert "Windows-1252 (Latin-1), semicolon-separated" in page
    assert "<dt>Ignored columns</dt><dd>Shoe size</dd>" in page
    assert "Café Ñandú" in page and "José" in page


def test_the_preview_pages_every_row_errors_first(client, auth):
    auth.sign_in("manager")
    rows = "".join(f"Place {n},restaurant,Al{n},,{f'bad-{n}' if n % 2 else f'{n}@x.example'},"
                   ",,,,,,,\n" for n in range(250))
    url = uploaded(auth, HEADER + "\n" + rows)
    page = client.get(url).text
    assert "Rows with errors first. Rows 1–100 of 250 (page 1 of 3)." in page
    assert page.count('<th scope="row" class="num"') == 100
    assert 'rel="next"' in page and 'rel="prev"' not in page
    last = client.get(url + "?page=3").text
    assert "Rows 201–250 of 250 (page 3 of 3)." in last and last.count('<th scope="row" class="num"') == 50
    lines = [int(n) for n in re.findall(r'<th scope="row" class="num">(\d+)</th>', page)]
    assert lines[:3] == [3, 5, 7]  # the 125 rows with errors come first, by line
    for bad in ("?page=0", "?page=99", "?page=%EF%BC%92", "?page=9223372036854775809"):
        assert client.get(url + bad).status_code == 200  # clamped to the nearest page


def test_formula_payloads_are_shown_escaped_in_the_preview(client, auth):
    auth.sign_in("manager")
    data = f'{HEADER}\n"=HYPERLINK(""http://x"")",restaurant,<b>Al</b>,,,,,,,,,,\n'
    page = client.get(uploaded(auth, data)).text
    assert "&lt;b&gt;Al&lt;/b&gt;" in page and "<b>Al</b>" not in page
    assert "=HYPERLINK(&#34;http://x&#34;)" in page


def test_changing_the_choice_redraws_the_preview(app, client, auth):
    auth.sign_in("manager")
    url = uploaded(auth, BAD)
    response = auth.post(url, {"on_duplicate": "update", "skip_invalid": "y"}, htmx=True)
    assert response.status_code == 200 and "<html" not in response.text
    assert 'id="import-preview"' in response.text
    assert re.search(r"Import 2 rows", response.text)
    assert ('<p id="import-announce" hx-swap-oob="innerHTML">2 to create, 0 to update, '
            "0 left out as duplicates, 1 left out with errors.</p>") in response.text
    with app.app_context():
        stored = db.session.scalar(select(ContactImport))
        assert (stored.on_duplicate, stored.skip_invalid) == ("update", True)
    bad = auth.post(url, {"on_duplicate": "merge"}, htmx=True)
    assert bad.status_code == 422 and "Not a valid choice" in bad.text


def test_rows_with_errors_import_nothing_unless_valid_rows_only_is_chosen(app, client, auth):
    auth.sign_in("manager")
    url = uploaded(auth, BAD)
    refused = auth.post(url + "/run", {"on_duplicate": "skip"}, page=url, htmx=True)
    assert refused.status_code == 422
    assert "nothing can be imported until they are fixed" in refused.text
    assert customers(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JobRun)) == 0


def test_a_changed_choice_at_import_time_shows_the_preview_again(app, client, auth):
    auth.sign_in("manager")
    url = uploaded(auth, GOOD)
    response = auth.post(url + "/run", {"on_duplicate": "create"}, page=url, htmx=True)
    assert response.status_code == 409
    assert "The choices changed since this preview" in response.text
    assert customers(app) == 0


def read_report(client, url):
    response = client.get(url + "/report.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(response.text[1:])))


def test_importing_runs_the_job_and_offers_the_report(app, client, auth):
    auth.sign_in("manager")
    url = uploaded(auth, BAD + '"=cmd|\' /C calc\'!A0",restaurant,Eve,,,,,,,,,,\n',
                   skip_invalid="y")
    response = auth.post(url + "/run", {"on_duplicate": "skip", "skip_invalid": "y"}, page=url)
    assert response.status_code == 303 and response.headers["Location"] == url
    page = client.get(url).text
    assert "<h2>Imported</h2>" in page
    assert "3 created, 0 updated, 0 left out as duplicates, 1 left out with errors" in page
    assert "Download report (CSV)" in page and "The uploaded file itself has been deleted" in page
    report = read_report(client, url)
    assert [(r["line"], r["outcome"]) for r in report] == [
        ("2", "created"), ("3", "created"), ("4", "error"), ("5", "created")]
    assert report[0]["customer_number"].startswith("CUST-") and report[0]["contact_id"]
    assert report[1]["message"] == "New contact at the customer of line 2."
    assert report[2]["message"].startswith("Kind: Not a kind of customer")
    with app.app_context():
        stored = db.session.scalar(select(ContactImport))
        assert stored.status == "imported" and stored.content == ""
        assert stored.counts["created"] == 3 and stored.counts["errors"] == 1
        run = db.session.get(JobRun, stored.run_id)
        assert run.name == "contacts_import" and run.params == {"import_id": stored.id}
        assert run.status == "finished"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
        assert event.entity_id == stored.id and "created:3" in event.fields
        assert db.session.scalar(select(Customer).where(Customer.kind == "restaurant")
                                 .order_by(Customer.id.desc())).name == "=cmd|' /C calc'!A0"
    # a second click changes nothing
    again = auth.post(url + "/run", {"on_duplicate": "skip", "skip_invalid": "y"}, page="/contacts/import")
    assert again.status_code == 303 and customers(app) == 2


def test_the_status_component_stops_polling_when_done(client, auth):
    auth.sign_in("manager")
    url = uploaded(auth, GOOD)
    auth.post(url + "/run", {"on_duplicate": "skip"}, page=url)
    response = client.get(url + "/status", headers={"HX-Request": "true"})
    assert response.status_code == 286 and "<html" not in response.text
    assert 'role="status"' in response.text and "hx-trigger" not in response.text


def test_only_the_uploader_or_an_admin_sees_an_import(app, client, auth):
    auth.sign_in("manager")
    url = uploaded(auth, GOOD)
    auth.client.post("/auth/sign-out", headers={"X-CSRFToken": auth.token(url)})
    auth.sign_in("manager", email="other-manager@farm.test")
    assert client.get(url).status_code == 404
    assert client.get(url + "/report.csv").status_code == 404
    assert "people.csv" not in client.get("/contacts/import").text
    auth.client.post("/auth/sign-out", headers={"X-CSRFToken": auth.token("/customers/")})
    auth.sign_in("admin")
    assert client.get(url).status_code == 200


def test_discarding_an_upload_deletes_it(app, client, auth):
    auth.sign_in("manager")
    url = uploaded(auth, GOOD)
    response = auth.post(url + "/discard", page=url)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ContactImport)) == 0
    assert client.get(url).status_code == 404


def test_recent_imports_are_listed_on_the_upload_page(client, auth):
    auth.sign_in("manager")
    url = uploaded(auth, GOOD, name="spring-2026.csv")
    page = client.get("/contacts/import").text
    assert f'<a href="{url}">spring-2026.csv</a>' in page and "Not imported yet" in page


def test_the_import_runs_on_a_real_worker_with_progress(app, client, auth, real_queue):
    auth.sign_in("manager")
    url = uploaded(auth, GOOD)
    response = auth.post(url + "/run", {"on_duplicate": "skip"}, page=url, htmx=True)
    assert response.status_code == 200
    assert "<h2>Importing</h2>" in response.text and "hx-trigger=\"every 1s\"" in response.text
    assert "hx-swap-oob=\"innerHTML\">Import started.</p>" in response.text
    assert 'aria-live="polite"' in response.text
    polling = client.get(url + "/status", headers={"HX-Request": "true"})
    assert polling.status_code == 200 and "queued" in polling.text
    with app.app_context():
        job = real_queue.queue().jobs[0]
        assert str(job.args) == f"({db.session.scalar(select(ContactImport.run_id))},)"
    real_queue.work()
    done = client.get(url + "/status", headers={"HX-Request": "true"})
    assert done.status_code == 286 and "2 created" in done.text
    assert ('<p id="import-announce" hx-swap-oob="innerHTML">Imported. 2 created, 0 updated,'
            in done.text)
    assert customers(app) == 1


def test_the_contacts_page_links_the_import_for_managers_only(client, auth):
    auth.sign_in("manager")
    assert 'href="/contacts/import"' in client.get("/contacts/").text


def test_people_already_here_are_linked_not_copied_with_update(app, client, auth):
    auth.sign_in("manager")
    with app.app_context():
        existing = factories.customer(name="Osteria Verde")
        contact = existing.contact_links[0].contact
        email, contact_id = contact.emails[0].email, contact.id
    data = f"{HEADER}\nNew Osteria,restaurant,Rosa,Tester,{email},,billing,,,,,,\n"
    url = uploaded(auth, data, on_duplicate="update")
    auth.post(url + "/run", {"on_duplicate": "update"}, page=url)
    report = read_report(client, url)
    assert report[0]["outcome"] == "updated" and report[0]["contact_id"] == str(contact_id)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 1
        links = {(l.customer.name, l.role) for l in db.session.get(Contact, contact_id).customer_links}
        assert links == {("Osteria Verde", "primary"), ("New Osteria", "billing")}


def test_a_run_that_fails_half_way_writes_nothing_and_can_be_retried(app, client, auth,
                                                                    monkeypatch):
    from crm.contacts import importing

    real_apply = importing.apply

    def apply_then_fail(plan, **kwargs):
        real_apply(plan, **kwargs)  # everything flushed, then the unit of work breaks
        raise RuntimeError("disk full")

    auth.sign_in("manager")
    url = uploaded(auth, GOOD)
    monkeypatch.setattr(importing, "apply", apply_then_fail)
    auth.post(url + "/run", {"on_duplicate": "skip"}, page=url)
    assert customers(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
        assert db.session.scalar(select(JobRun.status)) == "failed"
    page = client.get(url).text
    assert "The last run of this import failed and nothing was imported" in page
    monkeypatch.setattr(importing, "apply", real_apply)
    auth.post(url + "/run", {"on_duplicate": "skip"}, page=url)
    assert customers(app) == 1
    assert "<h2>Imported</h2>" in client.get(url).text


def test_an_import_whose_worker_died_can_be_retried_or_discarded(app, client, auth):
    """A run left "running" by a worker that was killed (no heartbeat since) ends as failed
    when its page is looked at; the import can then be run again or thrown away."""
    from datetime import timedelta

    from crm.common import utcnow
    from crm.contacts.models import ContactImport

    auth.sign_in("manager")
    url = uploaded(auth, GOOD)
    import_id = int(url.rstrip("/").rsplit("/", 1)[-1])
    with app.app_context():
        imp = db.session.get(ContactImport, import_id)
        long_ago = utcnow() - timedelta(minutes=10)
        run = JobRun(name="contacts_import", params={"import_id": imp.id}, status="running",
                     progress=41, owner_kind=imp.uploaded_by_kind, owner_id=imp.uploaded_by_id,
                     started_at=long_ago, heartbeat_at=long_ago)
        db.session.add(run)
        db.session.flush()
        imp.status, imp.run_id = "running", run.id
        db.session.commit()
    page = client.get(url).text
    assert "The last run of this import failed and nothing was imported" in page
    assert auth.post(url + "/discard", page=url).status_code == 303
    with app.app_context():
        assert db.session.get(ContactImport, import_id) is None
    url = uploaded(auth, GOOD)  # and a stuck one can be run again
    import_id = int(url.rstrip("/").rsplit("/", 1)[-1])
    with app.app_context():
        imp = db.session.get(ContactImport, import_id)
        run = JobRun(name="contacts_import", params={"import_id": imp.id}, status="running",
                     owner_kind=imp.uploaded_by_kind, owner_id=imp.uploaded_by_id,
                     started_at=long_ago, heartbeat_at=long_ago)
        db.session.add(run)
        db.session.flush()
        imp.status, imp.run_id = "running", run.id
        db.session.commit()
    client.get(url)
    auth.post(url + "/run", {"on_duplicate": "skip"}, page=url)
    assert customers(app) == 1


def test_starting_an_import_while_redis_is_stopped_says_so_and_claims_nothing(
        app, client, auth, redis_server):
    """Redis (a server of the test's own) stopped: Import answers 503 with a plain message,
    the page stays as it was, the import stays previewed, no run is left queued."""
    from crm.jobs.services import QueueUnavailable

    auth.sign_in("manager")
    url = uploaded(auth, GOOD)
    app.config["REDIS_URL"] = redis_server.url
    redis_server.stop()
    try:
        response = auth.post(url + "/run", {"on_duplicate": "skip"}, page=url, htmx=True)
        assert response.status_code == 503 and response.text == ""
        assert json.loads(response.headers["HX-Trigger"]) == {
            "toast": {"message": QueueUnavailable.message, "level": "error"}}
        assert response.headers["Retry-After"]
        page = auth.post(url + "/run", {"on_duplicate": "skip"}, page=url)  # without htmx
        assert page.status_code == 503 and "Background work is unavailable" in page.text
        assert "Nothing was started or changed" in page.text
    finally:
        app.config["REDIS_URL"] = None
    with app.app_context():
        assert db.session.scalar(select(ContactImport.status)) == "previewed"
        assert db.session.scalars(select(JobRun)).all() == []
    auth.post(url + "/run", {"on_duplicate": "skip"}, page=url)  # the queue is back: it runs
    assert customers(app) == 1
