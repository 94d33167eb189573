"""One self-polling progress component (templates/jobs/macros.html) for every job: the generic
run page, the duplicate scan and the CSV import all answer their polls with it, each from its
own route, and each stops the polling (286) once its run is done."""
import re
from datetime import timedelta
from pathlib import Path

import pytest

from crm import FEATURES
from crm.common import utcnow
from crm.contacts.models import ContactImport
from crm.extensions import db
from crm.jobs.models import JobRun

HTMX = {"HX-Request": "true"}
TEMPLATES = Path(__file__).resolve().parents[2] / "crm" / "templates"


def start(user_id, name, **fields):
    run = JobRun(name=name, params={}, owner_kind="staff", owner_id=user_id, status="running",
                 progress=40, message="Halfway", started_at=utcnow(), **fields)
    db.session.add(run)
    db.session.commit()
    return run


def generic(user_id):
    run = start(user_id, "security.reindex")
    return f"/jobs/{run.id}", f"job-{run.id}", run.id


def duplicate_scan(user_id):
    run = start(user_id, "duplicate_scan")
    return f"/contacts/duplicates/scan?run={run.id}", "duplicate-scan", run.id


def contacts_import(user_id):
    run = start(user_id, "contacts_import")
    imp = ContactImport(filename="people.csv", content="", status="running", run_id=run.id,
                        counts={"rows": 2}, uploaded_by_kind="staff", uploaded_by_id=user_id)
    db.session.add(imp)
    db.session.commit()
    return f"/contacts/import/{imp.id}/status", "import-status", run.id


def finish(run_id):
    run = db.session.get(JobRun, run_id)
    run.status, run.progress, run.finished_at = "finished", 100, utcnow()
    run.result = {"contacts": 0, "customers": 0}
    for imp in db.session.query(ContactImport).filter_by(run_id=run_id):
        imp.status, imp.counts = "imported", {"rows": 2, "created": 2}
    db.session.commit()


def root(html, element_id):
    """The opening tag of the component's root element."""
    match = re.search(rf'<(?:div|section) id="{element_id}"[^>]*>', html)
    assert match, html
    return match.group(0)


@pytest.mark.parametrize("case", [generic, duplicate_scan, contacts_import])
def test_each_jobs_progress_is_the_one_component_and_stops_with_286(app, client, auth, case):
    user_id = auth.sign_in("manager")
    with app.app_context():
        url, element_id, run_id = case(user_id)

    polled = client.get(url, headers=HTMX)
    assert polled.status_code == 200 and "<html" not in polled.text
    tag = root(polled.text, element_id)
    assert re.search(r'class="job-run[ "]', tag)  # the component's marker
    assert (f'hx-get="{url}" hx-trigger="every 1s" hx-target="this" hx-swap="outerHTML"'
            in tag)
    assert '<div class="job-progress">' in polled.text and 'value="40"' in polled.text
    assert '<p class="hint" aria-live="polite">40% — Halfway' in polled.text

    with app.app_context():
        finish(run_id)
    done = client.get(url, headers=HTMX)
    assert done.status_code == 286  # htmx stops polling
    tag = root(done.text, element_id)
    assert re.search(r'class="job-run[ "]', tag) and "hx-get" not in tag
    assert "hx-trigger" not in tag


@pytest.mark.parametrize("case", [generic, duplicate_scan, contacts_import])
def test_a_run_stuck_in_the_queue_polls_every_5s_and_says_why(app, client, auth, case):
    user_id = auth.sign_in("manager")
    with app.app_context():
        url, element_id, run_id = case(user_id)
        run = db.session.get(JobRun, run_id)
        run.status, run.started_at = "queued", None
        run.created_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    polled = client.get(url, headers=HTMX)
    assert polled.status_code == 200
    assert 'hx-trigger="every 5s"' in root(polled.text, element_id)
    assert "Still waiting for a background worker" in polled.text


def test_pressing_scan_while_one_runs_moves_focus_onto_its_bar(app, client, auth):
    """The scan's button is replaced by the component: focus goes to the bar it shows."""
    user_id = auth.sign_in("manager")
    with app.app_context():
        start(user_id, "duplicate_scan")
    response = auth.post("/contacts/duplicates/scan", page="/contacts/duplicates", htmx=True)
    assert response.status_code == 200
    assert '<div class="job-progress" tabindex="-1" data-autofocus>' in response.text
    polled = client.get("/contacts/duplicates/scan", headers=HTMX)
    assert '<div class="job-progress">' in polled.text  # a poll leaves focus where it is


def test_only_the_jobs_component_polls_itself():
    """No template but the component's own says `every` in an hx-trigger."""
    polling = sorted(str(path.relative_to(TEMPLATES)) for path in TEMPLATES.rglob("*.html")
                     if 'hx-trigger="every' in path.read_text())
    assert polling == ["jobs/macros.html"]


def test_the_jobs_package_names_no_feature():
    """crm/jobs and its templates are the base: they import and link to no feature."""
    features = {name.removeprefix("crm.") for name in FEATURES} - {"jobs"}
    base = Path(__file__).resolve().parents[2] / "crm" / "jobs"
    for path in [*base.glob("*.py"), *(TEMPLATES / "jobs").glob("*.html")]:
        named = set(re.findall(r"\bcrm\.(\w+)", path.read_text()))
        named |= set(re.findall(r"url_for\(['\"](\w+)\.", path.read_text()))
        assert not named & features, path
