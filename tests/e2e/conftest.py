"""Browser fixtures: the test app served for real, and Debian's Chromium driven by Playwright.

Playwright cannot download its own browsers here, so it launches the system Chromium
(CHROMIUM_PATH, default /usr/bin/chromium). Without that binary the e2e tests fail, saying so.

The server runs the session's `app` object in a thread, so the test process and the browser
share one database; tests/conftest.py empties it after every test as usual.
"""
import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from crm.common import SYSTEM
from crm.extensions import db

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item so `page` can screenshot a failed test."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


@pytest.fixture(scope="session")
def live_server(app):
    """The base URL of the test app served on a free local port."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="e2e-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def playwright_instance():
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM} (run `make browser` or set CHROMIUM_PATH)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance):
    browser = playwright_instance.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def new_page(browser, live_server, request):
    """Open pages in fresh browser contexts (own cookies); closed after the test.

    A page of a failed test is screenshotted to test-artifacts/failures/.
    """
    contexts = []

    def open_page(viewport=None):
        context = browser.new_context(base_url=live_server, viewport=viewport or DESKTOP,
                                      locale="en-US", timezone_id="America/Chicago")
        context.set_default_timeout(5_000)
        context.set_default_navigation_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page

    report = getattr(request.node, "report_call", None)
    failed = report is not None and report.failed
    for n, context in enumerate(contexts):
        if failed:
            for m, page in enumerate(context.pages):
                name = re.sub(r"[^\w.-]+", "_", request.node.name)
                path = ARTIFACTS / "failures" / f"{name}-{n}-{m}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    page.screenshot(path=str(path), full_page=True)
                except Exception:  # a screenshot must never hide the real failure
                    pass
        context.close()


@pytest.fixture
def page(new_page):
    """One desktop-sized page."""
    return new_page()


@pytest.fixture
def make_staff(app):
    """Create a staff user through the real service; returns (email, password)."""

    def make(role="sales", email=None, name=None):
        from crm.auth.services import create_user

        email = email or f"{role}@farm.test"
        with app.app_context():
            create_user(email, name or f"{role.title()} Person", role, PASSWORD, actor=SYSTEM)
            db.session.commit()
            db.session.remove()
        return email, PASSWORD

    return make


def sign_in(page, email, password=PASSWORD):
    """Sign in through the form, like a person would, and wait for the customer list."""
    page.goto("/auth/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/customers/"))


# Elements past the right edge (tables scroll inside .table-wrap, a customer's tabs inside
# their row at phone width, on purpose).
OVERFLOW_JS = """() => {
  const doc = document.documentElement;
  const wide = [...document.querySelectorAll('body *')].filter(el => {
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.right > doc.clientWidth + 1 && !el.closest('.table-wrap, .tabs ul');
  }).slice(0, 5).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
      + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''));
  return {scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth, wide};
}"""


class Screenshots:
    """Full-page screenshots into test-artifacts/screenshots/<width>/, noting sideways overflow."""

    def __init__(self, width_name):
        self.out = ARTIFACTS / "screenshots" / width_name
        self.out.mkdir(parents=True, exist_ok=True)
        self.overflow = []

    def take(self, page, name, full_page=True):
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(self.out / f"{name}.png"), full_page=full_page,
                        animations="disabled")
        info = page.evaluate(OVERFLOW_JS)
        if info["scrollWidth"] > info["clientWidth"] or info["wide"]:
            self.overflow.append(f"{name}: page {info['scrollWidth']}px in {info['clientWidth']}px; "
                                 f"past the edge: {', '.join(info['wide']) or '-'}")


def pytest_collection_modifyitems(items):
    """Every test under tests/e2e is a browser journey (`make test-fast` leaves them out)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.e2e)
