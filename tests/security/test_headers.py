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
