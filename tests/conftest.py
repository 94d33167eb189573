"""Shared fixtures: app (SQLite file, or TEST_DATABASE_URL), client, runner, auth helper.

The schema is built by the real migrations. Rows are deleted after every test.
CSRF stays on: the auth helper reads tokens from the pages like a browser would.
"""
import os
import re
import shutil
import socket
import subprocess
import time

import flask_migrate
import pytest
from sqlalchemy import text

from config import TestingConfig
from crm import create_app
from crm.common import SYSTEM
from crm.extensions import db, limiter

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
FORM_KEY_RE = re.compile(r'name="((?:[\w-]+-)?form_key)" type="hidden" value="([^"]+)"')
HEADER_RE = re.compile(r'"X-CSRFToken": "([^"]+)"')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    return os.environ.get("TEST_DATABASE_URL") or (
        f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    )


@pytest.fixture(scope="session")
def app(database_url):
    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url

    app = create_app(Config)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every table after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        from crm.credit.services import verify

        disagree = verify()  # the ledger agrees with the invoices and payments after every test
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                if table.name == "ledger_entry":
                    _empty_append_only(conn, table)
                else:
                    conn.execute(table.delete())
    limiter.reset()
    assert not disagree, f"the books disagree after this test: {disagree}"


def _empty_append_only(conn, table):
    """Empty the ledger between tests: its triggers refuse DELETE (migration 0014), so on
    PostgreSQL TRUNCATE (no row triggers), on SQLite the triggers are set aside meanwhile."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE {table.name}"))
        return
    triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                 "AND tbl_name = :table"), {"table": table.name}).all()
    for name, _ in triggers:
        conn.execute(text(f"DROP TRIGGER {name}"))
    conn.execute(table.delete())
    for _, sql in triggers:
        conn.execute(text(sql))


@pytest.fixture
def make_app():
    """create_app() for tests that need another configuration; engines closed afterwards."""
    made = []

    def make(config_class, **kwargs):
        made.append(create_app(config_class, **kwargs))
        return made[-1]

    yield make
    for other in made:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


class RedisServer:
    """A private redis-server on a free port, started and stopped by the test."""

    def __init__(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self):
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    pytest.fail(f"redis-server did not start on port {self.port}")
                time.sleep(0.05)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
        if self.process:
            self.process.wait(timeout=10)
        self.process = None


TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class RealQueue:
    """The app's jobs on a real Redis (a private db and queue) with no worker running: runs
    wait in the queue until `work()` works them off, as `flask worker --burst` would."""

    def __init__(self, app):
        from redis import Redis

        self.app, self.url = app, TEST_REDIS_URL
        self.connection = Redis.from_url(self.url)
        try:
            self.connection.ping()
        except Exception as exc:  # say how to fix it rather than skip
            pytest.fail(f"Redis is needed at {self.url} ({exc}); start it with redis-server")
        self.connection.flushdb()

    def queue(self):
        from rq import Queue

        return Queue(self.app.config["JOB_QUEUE"], connection=self.connection)

    def work(self) -> bool:
        from rq import SimpleWorker

        with self.app.app_context():
            worked = SimpleWorker([self.queue()], connection=self.connection).work(burst=True)
            db.session.remove()
        return worked


@pytest.fixture
def real_queue(app):
    found = RealQueue(app)
    app.config.update(REDIS_URL=found.url, JOB_QUEUE="crm-test")
    yield found
    app.config.update(REDIS_URL=None, JOB_QUEUE="crm")
    found.connection.flushdb()
    found.connection.close()


@pytest.fixture
def redis_server(app):
    """A real Redis the test can stop. Afterwards the shared limiter is bound to `app` again
    (create_app rebinds the one Limiter to whichever app was made last)."""
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is needed for this test; install Debian's redis-server")
    server = RedisServer().start()
    yield server
    server.stop()
    limiter.init_app(app)
    limiter._storage_dead = False  # Flask-Limiter keeps no per-app state for its fallback


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


@pytest.fixture(params=["sqlite", "postgresql"])
def unreachable_database_app(request, make_app, tmp_path):
    """The app on a database that cannot be reached: an SQLite file in a directory that does
    not exist, or PostgreSQL on a port where nothing listens."""
    url = (f"sqlite:///{tmp_path / 'missing' / 'crm.sqlite3'}" if request.param == "sqlite"
           else f"postgresql+psycopg://crm:secret@127.0.0.1:{closed_port()}/crm")

    class NoDatabase(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        PROPAGATE_EXCEPTIONS = False  # answer as production does, not raise into the test

    return make_app(NoDatabase)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_from(html: str) -> str:
    match = CSRF_RE.search(html) or HEADER_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def form_keys_from(html: str) -> dict:
    """The one-time keys of the forms on a page that create something (crm.forms.FormKeyField),
    by field name: what a browser sends with each of those forms."""
    return dict(FORM_KEY_RE.findall(html))


def session_cookie(app, client) -> str:
    """What the client's session cookie holds, decoded (it is signed, not encrypted: anyone who
    sees the cookie can read this), as text to search."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None, "no session cookie"
    return repr(app.session_interface.get_signing_serializer(app).loads(cookie.value))


class Auth:
    """Signs the test client in as a role, through the real sign-in form."""

    password = "correct horse battery"

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.user_id = None

    def make_user(self, role="admin", email=None):
        from crm.auth.services import create_user

        email = email or f"{role}@farm.test"
        with self.app.app_context():
            user = create_user(email, f"{role.title()} Person", role, self.password, actor=SYSTEM)
            db.session.commit()
            return user.id

    def sign_in(self, role="admin", email=None):
        email = email or f"{role}@farm.test"
        self.user_id = self.make_user(role, email)
        response = self.post("/auth/sign-in", {"email": email, "password": self.password},
                             page="/auth/sign-in")
        assert response.status_code == 302, response.text
        return self.user_id

    def token(self, page="/customers/"):
        return csrf_from(self.client.get(page).text)

    def post(self, url, data=None, page=None, htmx=False, **kwargs):
        """POST with the CSRF token taken from `page` (default: the URL itself), and the keys of
        the page's creating forms (form_keys_from) where `data` does not give its own."""
        html = self.client.get(page or url).text
        headers = {"X-CSRFToken": csrf_from(html)}
        if htmx:
            headers["HX-Request"] = "true"
        if data is None or isinstance(data, dict):  # not a body made by hand
            data = {**form_keys_from(html), **(data or {})}
        return self.client.post(url, data=data, headers=headers, **kwargs)


@pytest.fixture
def auth(app, client):
    return Auth(app, client)


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.remove()
