"""Error pages render without the database: a 503 when it cannot be reached, the generic 500
otherwise, and neither looks the signed-in user up."""
import logging

import pytest

from crm.security.permissions import public
from tests import factories
from tests.auth.test_sign_in import sign_in


@pytest.fixture
def broken_app(unreachable_database_app):
    app = unreachable_database_app

    @public
    def boom():
        raise RuntimeError("an ordinary bug")

    app.add_url_rule("/boom", "boom", boom)
    return app


def errors_logged(caplog):
    return [r for r in caplog.records if r.levelno >= logging.ERROR]


def assert_database_unavailable(response):
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 30  # the limiter may set a later one
    assert "The database is unavailable" in response.text
    text = response.text.lower()
    assert "traceback" not in text and "sqlite" not in text and "127.0.0.1" not in text


def test_signed_out_request_needing_the_database_gets_the_503_page(broken_app, caplog):
    client = broken_app.test_client()
    assert client.get("/auth/sign-in").status_code == 200  # the form itself needs no database
    response = sign_in(client, "sam@farm.test", "a password")
    assert_database_unavailable(response)
    [logged] = errors_logged(caplog)  # one line and one traceback, from the first failure only
    assert logged.exc_info and "/auth/sign-in" in logged.getMessage()


def test_signed_in_request_gets_the_503_page_without_the_staff_layout(app, auth, client,
                                                                       broken_app, caplog):
    auth.sign_in("viewer")  # on the working database, then the same session on the broken one
    other = broken_app.test_client()
    other.set_cookie("crm_session", client.get_cookie("crm_session").value)
    response = other.get("/customers/")
    assert_database_unavailable(response)
    assert "Sign out" not in response.text
    assert len(errors_logged(caplog)) == 1
    fragment = other.get("/customers/", headers={"HX-Request": "true"})
    assert fragment.status_code == 503 and "<html" not in fragment.text


def test_an_ordinary_error_still_gets_the_generic_page(broken_app, caplog):
    response = broken_app.test_client().get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text and "Retry-After" not in response.headers
    assert "an ordinary bug" not in response.text
    assert len(errors_logged(caplog)) == 1


def test_signed_in_error_pages_keep_the_staff_layout_when_the_database_is_up(client, auth):
    auth.sign_in("viewer")
    response = client.get("/customers/999999")
    assert response.status_code == 404 and "Sign out" in response.text


# -- every HTTP error gets the app's page, and a fragment for htmx ---------------------------

WERKZEUG_PAGE = "<!doctype html>\n<html lang=en>\n<title>"


def assert_app_page(response, status, title):
    assert response.status_code == status
    assert not response.text.startswith(WERKZEUG_PAGE)
    assert "<html" in response.text and f"<h1>{title}</h1>" in response.text
    assert "Go to the customer list" in response.text


def assert_app_fragment(response, status, title):
    assert response.status_code == status
    assert "<html" not in response.text and "<title>" not in response.text
    assert f"<h1>{title}</h1>" in response.text and 'class="card error-card"' in response.text


def test_a_conflict_from_abort_gets_the_apps_page_and_a_fragment_for_htmx(app, client, auth):
    """Discarding an import that already ran is refused with 409 (abort(409) in the view):
    the app's page, and for htmx the fragment that its responseHandling swaps in."""
    from tests.contacts.test_import import GOOD, uploaded

    auth.sign_in("manager")
    url = uploaded(auth, GOOD)
    assert auth.post(url + "/run", {"on_duplicate": "skip"}, page=url).status_code == 303
    full = auth.post(url + "/discard", page=url)
    assert_app_page(full, 409, "Not possible now")
    assert "Sign out" in full.text  # the staff layout: this user was already loaded
    swapped = auth.post(url + "/discard", page=url, htmx=True)
    assert_app_fragment(swapped, 409, "Not possible now")
    assert "HX-Request" in swapped.headers["Vary"]


def test_an_archived_customers_contacts_post_gets_the_apps_409_page(app, client, auth):
    auth.sign_in("manager")
    with app.app_context():
        cid = factories.customer("Closed Cafe").id
    auth.post(f"/customers/{cid}/archive", page=f"/customers/{cid}")
    full = auth.post(f"/customers/{cid}/contacts", {"first_name": "Late", "role": "kitchen"},
                     page=f"/customers/{cid}")
    assert full.status_code == 409 and not full.text.startswith(WERKZEUG_PAGE)
    assert "is archived" in full.text
    # htmx goes to the customer's page with the message instead (crm.customers.views)
    swapped = auth.post(f"/customers/{cid}/contacts", {"first_name": "Late", "role": "kitchen"},
                        page=f"/customers/{cid}", htmx=True)
    assert swapped.status_code == 204 and swapped.headers["HX-Redirect"] == f"/customers/{cid}"


def test_a_method_not_allowed_keeps_its_allow_header(client, auth):
    auth.sign_in("viewer")
    full = client.get("/auth/sign-out")
    assert_app_page(full, 405, "Not allowed")
    assert set(full.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    assert full.headers["Content-Type"] == "text/html; charset=utf-8"
    fragment = client.get("/auth/sign-out", headers={"HX-Request": "true"})
    assert_app_fragment(fragment, 405, "Not allowed")
    assert "POST" in fragment.headers["Allow"]


@pytest.fixture
def gone_app(make_app, tmp_path):
    """An app with a route that answers 410, a status ERRORS has no text for (and no
    database: error pages must not need one)."""
    from werkzeug.exceptions import abort

    from config import TestingConfig

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path / 'missing' / 'crm.sqlite3'}"

    app = make_app(Config)

    @public
    def gone():
        abort(410)

    @public
    def teapot():
        abort(418, "Short and stout.")

    app.add_url_rule("/gone", "gone", gone)
    app.add_url_rule("/teapot", "teapot", teapot)
    return app


def test_a_status_without_its_own_text_gets_the_apps_page_with_werkzeugs_words(gone_app):
    client = gone_app.test_client()
    full = client.get("/gone")
    assert_app_page(full, 410, "Gone")
    assert "no longer available" in full.text
    fragment = client.get("/gone", headers={"HX-Request": "true"})
    assert_app_fragment(fragment, 410, "Gone")
    teapot = client.get("/teapot", headers={"HX-Request": "true"})
    assert_app_fragment(teapot, 418, "I&#39;m a teapot")
    assert "Short and stout." in teapot.text
