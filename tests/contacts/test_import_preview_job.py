"""A large upload is checked once, by a job, while its page shows progress; its preview is
stored (encrypted) and paged, so viewing it never parses or checks the file again."""
import sys

import pytest
from sqlalchemy import func, select, text

from crm.contacts.importing import preview
from crm.contacts.models import ContactImport, ContactImportRow
from crm.extensions import db
from crm.jobs.models import JobRun
from crm.jobs.services import queue
from tests.contacts.test_import import GOOD, HEADER, customers, uploaded


def rows_file(count: int) -> str:
    return HEADER + "\n" + "".join(
        f"Place {n},restaurant,Al{n},Baker,al{n}@place{n}.example,,,,,,,,\n"
        for n in range(count))


@pytest.fixture
def counted(monkeypatch):
    """How many times the file is parsed and checked."""
    calls = {"parse": 0, "check": 0}
    for name in calls:
        real = getattr(preview, name)

        def counting(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(preview, name, counting)
    return calls


@pytest.fixture
def queued(app, real_queue):
    """Jobs on a real Redis queue and no worker, and every upload big enough for a job: the
    runs wait until the test calls queued() (a worker's burst)."""
    app.config["IMPORT_CHECK_INLINE_BYTES"] = 1024
    yield real_queue.work
    app.config["IMPORT_CHECK_INLINE_BYTES"] = 256 * 1024


def test_a_50000_row_preview_viewed_three_times_is_checked_once(app, client, auth, counted):
    auth.sign_in("manager")
    app.config["IMPORT_CHECK_INLINE_BYTES"] = 0  # a job (inline: no Redis in this test)
    url = uploaded(auth, rows_file(50_000))
    assert counted == {"parse": 1, "check": 1}
    for page in ("", "?page=2", "?page=500"):
        html = client.get(url + page).text
        assert "Import 50,000 rows" in html
    assert "Rows 49,901–50,000 of 50,000 (page 500 of 500)." in html
    assert html.count('<th scope="row" class="num"') == 100
    assert counted == {"parse": 1, "check": 1}  # viewing read stored rows only
    with app.app_context():
        stored = db.session.scalar(select(func.count()).select_from(ContactImportRow))
        raw = db.session.execute(text("SELECT shown FROM contact_import_row LIMIT 1")).scalar()
    assert stored == 50_000
    assert "al0@place0" not in raw and "Place 0" not in raw  # encrypted like the file


def test_a_large_upload_is_checked_by_a_job_while_its_page_polls(app, client, auth, queued):
    auth.sign_in("manager")
    url = uploaded(auth, rows_file(40))
    page = client.get(url)
    assert "<h2>Checking the file</h2>" in page.text and 'hx-trigger="every 1s"' in page.text
    with app.app_context():
        assert db.session.scalar(select(ContactImport.status)) == "checking"
        assert queue().count == 1  # waiting for a worker
    poll = client.get(url + "/status", headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "Checking the file" in poll.text
    queued()
    done = client.get(url + "/status", headers={"HX-Request": "true"})
    assert done.status_code == 286  # polling stops; the preview takes the component's place
    assert '<div id="import-preview" class="import-preview">' in done.text
    assert "Import 40 rows" in done.text and "<html" not in done.text


def test_changing_the_duplicate_policy_checks_a_large_file_again_as_a_job(app, client, auth,
                                                                          queued):
    auth.sign_in("manager")
    url = uploaded(auth, rows_file(40))
    queued()
    changed = auth.post(url, {"on_duplicate": "update"}, page=url, htmx=True)
    assert changed.status_code == 200 and "Checking the file" in changed.text
    queued()
    assert "Import 40 rows" in client.get(url).text
    only_valid = auth.post(url, {"on_duplicate": "update", "skip_invalid": "y"}, page=url,
                           htmx=True)  # decides nothing the stored check depends on
    assert "Import 40 rows" in only_valid.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JobRun)) == 2


def test_a_check_whose_worker_died_can_be_checked_again(app, client, auth, queued,
                                                         real_queue):
    from datetime import timedelta

    from crm.common import utcnow

    auth.sign_in("manager")
    url = uploaded(auth, rows_file(40))
    with app.app_context():  # the worker took the run and was killed with it
        run = db.session.scalar(select(JobRun))
        long_ago = utcnow() - timedelta(minutes=10)
        run.status, run.started_at, run.heartbeat_at = "running", long_ago, long_ago
        db.session.commit()
    real_queue.connection.flushdb()  # its job went with it
    page = client.get(url).text
    assert "The file has not been checked" in page and "Its check stopped" in page
    assert auth.post(url + "/check", page=url).status_code == 303
    queued()
    assert "Import 40 rows" in client.get(url).text
    auth.post(url + "/run", {"on_duplicate": "skip"}, page=url)
    queued()
    assert customers(app) == 40
    with app.app_context():  # the stored rows hold the file's values: gone with the file
        assert db.session.scalar(select(func.count()).select_from(ContactImportRow)) == 0


def test_a_large_file_that_cannot_be_used_says_why_on_its_page(app, client, auth, queued,
                                                                monkeypatch):
    monkeypatch.setattr(sys.modules["crm.contacts.importing.read"], "MAX_ROWS", 30)  # found only once every row is read
    auth.sign_in("manager")
    url = uploaded(auth, rows_file(40))
    queued()
    page = client.get(url).text
    assert "This file cannot be imported" in page
    assert "The file has more than 30 rows. Split it into smaller files." in page
    assert "Discard this file" in page
    with app.app_context():
        assert db.session.scalar(select(ContactImport.status)) == "unreadable"


def test_a_small_file_is_still_checked_in_the_upload_and_errors_show_on_the_form(client, auth):
    auth.sign_in("manager")
    url = uploaded(auth, GOOD)
    assert "Import 2 rows" in client.get(url).text
