def test_security_headers_on_every_page(client):
    response = client.get("/auth/sign-in")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_signed_in_pages_are_not_stored(client, auth):
    auth.sign_in("viewer")
    assert client.get("/customers/").headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_and_samesite(client, auth):
    auth.sign_in("viewer")
    cookie = client.get_cookie("crm_session")
    assert cookie.http_only and cookie.same_site == "Lax"


def test_production_cookie_is_secure():
    from config import ProductionConfig

    assert ProductionConfig.SESSION_COOKIE_SECURE is True


def test_pages_load_no_third_party_assets_and_no_inline_script(client, auth):
    auth.sign_in("viewer")
    html = client.get("/customers/").text
    assert "https://" not in html and "http://" not in html
    assert "<script>" not in html and " on" + "click=" not in html
    assert "/static/vendor/htmx-2.0." in html
    assert 'hx-headers=\'{"X-CSRFToken": "' in html


def test_errors_are_generic(client, auth):
    auth.sign_in("viewer")
    response = client.get("/customers/999999")
    assert response.status_code == 404
    assert "Not found" in response.text and "Traceback" not in response.text


def test_a_views_own_header_value_stays(app, client):
    """The fixed headers are added only where the answer has none of its own."""
    from flask import Flask

    from crm import register_security
    from crm.security.permissions import public

    other = Flask(__name__)
    register_security(other)

    @other.get("/framed")
    @public
    def framed():
        return "ok", 200, {"X-Frame-Options": "SAMEORIGIN"}

    response = other.test_client().get("/framed")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Vary"] == "HX-Request"


def test_every_header_once_on_a_plain_answer(client):
    response = client.get("/healthz")
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                 "X-Frame-Options"):
        assert len(response.headers.getlist(name)) == 1, name
