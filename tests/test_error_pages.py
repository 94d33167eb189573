"""Error pages render without the database: a 503 when it cannot be reached, the generic 500
otherwise, and neither looks the signed-in user up."""
import logging

import pytest

from crm.security.permissions import public
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
