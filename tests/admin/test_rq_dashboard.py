"""The RQ dashboard at /admin/rq: admins only on every one of its routes, CSRF on its actions,
the app's CSP on its pages with nothing loaded from elsewhere, job descriptions shown as text;
without Redis a page saying that jobs run inline."""
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import rq_dashboard
from rq import Queue, SimpleWorker
from rq.job import Job

from config import TestingConfig
from crm.security.permissions import ROLES
from tests.conftest import TEST_REDIS_URL, Auth
from tests.security.test_permissions import concrete_url

STATIC = Path(__file__).resolve().parents[2] / "crm" / "static" / "rq"


def fail_loudly():
    raise RuntimeError("failed on purpose")


@pytest.fixture
def redis_app(database_url, app, make_app):
    """The app with REDIS_URL set (so the dashboard is registered) on a private Redis db."""
    class WithRedis(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = TEST_REDIS_URL
        JOB_QUEUE = "crm-test"

    made = make_app(WithRedis)
    connection = made.redis_conn
    connection.flushdb()
    yield made
    connection.flushdb()


@pytest.fixture
def admin(redis_app):
    signed_in = Auth(redis_app, redis_app.test_client())
    signed_in.sign_in("admin")
    return signed_in


def failed_job(app, description="credit_nightly run 1"):
    """A job that failed on the app's queue (worked off by a real RQ worker)."""
    queue = Queue(app.config["JOB_QUEUE"], connection=app.redis_conn)
    job = queue.enqueue(fail_loudly, description=description)
    SimpleWorker([queue], connection=app.redis_conn).work(burst=True)
    assert job.get_status(refresh=True) == "failed"
    return job


def meta_token(html):
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)


def test_rq_dashboard_is_for_admins_only(redis_app, admin):
    anonymous = redis_app.test_client()
    assert anonymous.get("/admin/rq/").status_code == 302
    manager = Auth(redis_app, redis_app.test_client())
    manager.sign_in("manager")
    assert manager.client.get("/admin/rq/").status_code == 403
    page = admin.client.get("/admin/rq/")
    assert page.status_code == 200 and "RQ" in page.text
    assert admin.client.get("/admin/").text.count('href="/admin/rq/"') == 1


def dashboard_rules(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("rq_dashboard.")]


def test_every_dashboard_route_static_and_json_included_needs_admin_jobs(redis_app, admin):
    rules = dashboard_rules(redis_app)
    endpoints = {rule.endpoint for rule in rules}
    assert {"rq_dashboard.static", "rq_dashboard.list_jobs", "rq_dashboard.requeue_job_view",
            "rq_dashboard.page_script"} <= endpoints
    cases = [(rule, method) for rule in rules for method in rule.methods - {"HEAD", "OPTIONS"}]
    anonymous = redis_app.test_client()
    for rule, method in cases:
        url = concrete_url(rule, record_id=1)
        with anonymous.open(url, method=method) as response:
            assert response.status_code == 302, (method, rule.rule)
            assert response.headers["Location"].startswith("/auth/sign-in"), rule.rule
    for role in sorted(set(ROLES) - {"admin"}):
        other = Auth(redis_app, redis_app.test_client())
        other.sign_in(role)
        token = other.token()
        for rule, method in cases:
            with other.client.open(concrete_url(rule, record_id=1), method=method,
                                   headers={"X-CSRFToken": token}) as response:
                assert response.status_code == 403, (role, method, rule.rule)
    token = admin.token("/admin/")
    for rule, method in cases:
        with admin.client.open(concrete_url(rule, record_id=1), method=method,
                               headers={"X-CSRFToken": token}) as response:
            assert response.status_code not in (302, 401, 403), (method, rule.rule)
            assert response.status_code < 500, (method, rule.rule, response.status_code)


def test_requeue_needs_the_csrf_token_and_works_with_it(redis_app, admin):
    job = failed_job(redis_app)
    page = admin.client.get(f"/admin/rq/0/view/job/{job.id}")
    token = meta_token(page.text)  # the page's csrf-token meta tag, which its script sends
    assert admin.client.post(f"/admin/rq/job/{job.id}/requeue").status_code == 400
    forged = admin.client.post(f"/admin/rq/job/{job.id}/requeue", headers={"X-CSRFToken": "x"})
    assert forged.status_code == 400
    assert Job.fetch(job.id, connection=redis_app.redis_conn).get_status() == "failed"
    done = admin.client.post(f"/admin/rq/job/{job.id}/requeue", headers={"X-CSRFToken": token})
    assert done.status_code == 200 and done.json == {"status": "OK"}
    assert Job.fetch(job.id, connection=redis_app.redis_conn).get_status() == "queued"


def test_delete_and_empty_need_the_token_too(redis_app, admin):
    job = failed_job(redis_app)
    queue = redis_app.config["JOB_QUEUE"]
    assert admin.client.post(f"/admin/rq/job/{job.id}/delete").status_code == 400
    assert admin.client.post(f"/admin/rq/queue/{queue}/failed/empty").status_code == 400
    assert admin.client.post(f"/admin/rq/requeue/{queue}").status_code == 400
    assert Job.exists(job.id, connection=redis_app.redis_conn)
    token = meta_token(admin.client.get("/admin/rq/").text)
    deleted = admin.client.post(f"/admin/rq/job/{job.id}/delete", headers={"X-CSRFToken": token})
    assert deleted.json == {"status": "OK"}
    assert not Job.exists(job.id, connection=redis_app.redis_conn)


def test_requeue_all_is_refused_over_get(redis_app, admin):
    job = failed_job(redis_app)
    response = admin.client.get(f"/admin/rq/requeue/{redis_app.config['JOB_QUEUE']}")
    assert response.status_code == 405
    assert Job.fetch(job.id, connection=redis_app.redis_conn).get_status() == "failed"


def page_urls(job_id, queue):
    return ["/admin/rq/", "/admin/rq/0/view/workers", "/admin/rq/0/view/jobs",
            f"/admin/rq/0/view/jobs/{queue}/failed/8/asc/1", f"/admin/rq/0/view/job/{job_id}"]


def test_dashboard_pages_have_the_apps_csp_and_load_nothing_from_elsewhere(redis_app, admin):
    job = failed_job(redis_app)
    for url in page_urls(job.id, redis_app.config["JOB_QUEUE"]):
        page = admin.client.get(url)
        assert page.status_code == 200, url
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert page.headers["Cache-Control"] == "no-store"
        scripts = re.findall(r"<script\b([^>]*)>", page.text)
        assert all("src=" in attrs or 'type="text/template"' in attrs for attrs in scripts), url
        assert " style=" not in page.text, url
        loaded = re.findall(r'<(?:script|link|img)\b[^>]*(?:src|href)="([^"]+)"', page.text)
        assert loaded and all(src.startswith("/") and not src.startswith("//")
                              for src in loaded), (url, loaded)
        for src in loaded:  # every file the page loads is served here (and to admins)
            with admin.client.get(src) as served:
                assert served.status_code == 200, src
    script = re.findall(r'<script src="(/admin/rq/0/crm/job\.js[^"]*)"',
                        admin.client.get(f"/admin/rq/0/view/job/{job.id}").text)
    served = admin.client.get(script[0].replace("&amp;", "&"))
    assert served.content_type.startswith("text/javascript")
    assert json.dumps(job.id) in served.text and "POLL_INTERVAL" in served.text


def test_job_page_script_writes_its_values_as_json(redis_app, admin):
    served = admin.client.get('/admin/rq/0/crm/job.js?job_id=x"</script><b>')
    assert served.status_code == 200
    assert 'var job_id = "x\\"\\u003c/script\\u003e\\u003cb\\u003e";' in served.text


@pytest.mark.skipif(not shutil.which("node"), reason="needs node to run the page templates")
def test_a_description_with_markup_is_shown_as_text(redis_app, admin):
    """rq-dashboard #526: the job page put a description into the page as HTML."""
    evil = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'
    job = failed_job(redis_app, description=evil)
    data = admin.client.get(f"/admin/rq/0/data/job/{job.id}.json").json
    assert data["description"] == evil  # the data is the data; the page must escape it
    rows = admin.client.get(
        f"/admin/rq/0/data/jobs/{redis_app.config['JOB_QUEUE']}/failed/8/asc/1.json").json["jobs"]
    underscore = Path(rq_dashboard.__file__).parent / "static" / "js" / "underscore-umd-min.js"
    program = f"""
        global.window = global;
        global._ = require({json.dumps(str(underscore))});
        global.url_for_single_job_view = id => '/admin/rq/0/view/job/' + encodeURIComponent(id);
        require({json.dumps(str(STATIC / 'templates.js'))});
        const job = {json.dumps(data)}, row = {json.dumps(rows[0])};
        job.depends_on = []; job.dependents = [];
        process.stdout.write(JSON.stringify([RQ_TEMPLATES['job-info']({{d: job}}),
                                             RQ_TEMPLATES['job-row']({{d: row}})]));
    """
    shown = json.loads(subprocess.run(["node", "-e", program], capture_output=True, text=True,
                                      check=True).stdout)
    for html in shown:
        assert "<script>" not in html and "<img" not in html
        assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in html


def test_templates_need_no_eval(redis_app):
    compiled = (STATIC / "templates.js").read_text()
    assert "new Function" not in compiled and "eval(" not in compiled
    assert compiled.count("window.RQ_TEMPLATES[") >= 14
    assert "<%" not in compiled


def test_jobs_the_app_enqueues_are_described_by_name_and_id(redis_app, app):
    from crm.common import SYSTEM
    from crm.extensions import db
    from crm.jobs.services import enqueue

    with redis_app.app_context():
        run = enqueue("security.reindex", actor=SYSTEM)
        db.session.commit()
        job = Job.fetch(run.rq_job_id, connection=redis_app.redis_conn)
        assert job.description == f"security.reindex run {run.id}"


def test_without_redis_admin_rq_says_jobs_run_inline(app, auth):
    auth.sign_in("admin")
    page = auth.client.get("/admin/rq/")
    assert page.status_code == 200
    assert "Jobs run inline" in page.text and "flask --app wsgi worker" in page.text
    assert "redis-server --bind 127.0.0.1" in page.text
    assert 'href="/admin/rq/"' in auth.client.get("/admin/").text


def test_without_redis_the_page_is_for_admins_only(app, client, auth):
    assert client.get("/admin/rq/").status_code == 302
    auth.sign_in("manager")
    assert auth.client.get("/admin/rq/").status_code == 403


def test_the_jobs_link_opens_the_apps_queue(redis_app, admin):
    page = admin.client.get("/admin/rq/").text
    assert 'href="/admin/rq/0/view/jobs/crm-test/queued/8/asc/1"' in page
