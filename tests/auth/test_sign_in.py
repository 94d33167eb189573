from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.auth.models import SignInThrottle
from crm.common import utcnow
from crm.extensions import db, limiter
from crm.security.blind_index import email_index
from tests.conftest import csrf_from


def sign_in(client, email, password, next_=""):
    token = csrf_from(client.get("/auth/sign-in").text)
    return client.post("/auth/sign-in", data={"email": email, "password": password,
                                              "csrf_token": token, "next": next_})


def events(app, action):
    with app.app_context():
        return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_sign_in_with_right_password_opens_customer_list(app, client, auth):
    auth.make_user("sales", "sam@farm.test")
    response = sign_in(client, " SAM@farm.test ", auth.password)
    assert response.status_code == 302 and response.headers["Location"] == "/customers/"
    assert client.get("/customers/").status_code == 200
    [event] = events(app, "sign_in")
    assert event.entity_type == "staff_user" and event.fields == []


def test_wrong_password_is_refused_with_one_message_and_keeps_email(app, client, auth):
    auth.make_user("sales", "sam@farm.test")
    wrong = sign_in(client, "sam@farm.test", "not the password")
    unknown = sign_in(client, "nobody@farm.test", "whatever123")
    for response in (wrong, unknown):
        assert response.status_code == 422
        assert "Email or password is not right." in response.text
    assert 'value="sam@farm.test"' in wrong.text
    assert client.get("/customers/").status_code == 302  # still signed out
    assert len(events(app, "sign_in_failed")) == 2


def test_repeated_failures_lock_the_account_for_a_while(app, client, auth):
    auth.make_user("sales", "sam@farm.test")
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        sign_in(client, "sam@farm.test", "wrong password")
    locked = sign_in(client, "sam@farm.test", auth.password)
    assert locked.status_code == 422
    assert "Too many failed attempts. Try again in 15 minutes." in locked.text

    with app.app_context():  # the lockout is time-limited
        throttle = db.session.get(SignInThrottle, email_index("sam@farm.test"))
        throttle.locked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert sign_in(client, "sam@farm.test", auth.password).status_code == 302
    with app.app_context():  # success clears the count
        assert db.session.get(SignInThrottle, email_index("sam@farm.test")) is None


def test_lockout_does_not_reveal_which_emails_have_accounts(app, client, auth):
    auth.make_user("sales", "sam@farm.test")
    answers = {}
    for email in ("sam@farm.test", "nobody@farm.test"):
        for _ in range(app.config["LOCKOUT_THRESHOLD"]):
            sign_in(client, email, "wrong password")
        answers[email] = sign_in(client, email, "wrong password").text
        limiter.reset()
    assert "Too many failed attempts" in answers["nobody@farm.test"]
    assert "Too many failed attempts" in answers["sam@farm.test"]


def test_sign_in_is_rate_limited_per_address(app, client, auth):
    statuses = [sign_in(client, "x@farm.test", "wrong password").status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


def test_sign_in_starts_a_fresh_session(app, client, auth):
    auth.make_user("viewer", "vic@farm.test")
    with client.session_transaction() as session:
        session["planted"] = "before sign-in"
    sign_in(client, "vic@farm.test", auth.password)
    with client.session_transaction() as session:
        assert "planted" not in session


def test_next_goes_only_to_local_paths(app, client, auth):
    auth.make_user("viewer", "vic@farm.test")
    assert sign_in(client, "vic@farm.test", auth.password,
                   "/customers/?kind=grocer").headers["Location"] == "/customers/?kind=grocer"
    client.post("/auth/sign-out", headers={"X-CSRFToken": auth.token()})
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "/\n\\x"):
        response = sign_in(client, "vic@farm.test", auth.password, evil)
        assert response.headers["Location"] == "/customers/"
        client.post("/auth/sign-out", headers={"X-CSRFToken": auth.token()})


def test_anonymous_page_visit_comes_back_after_sign_in(app, client, auth):
    auth.make_user("viewer", "vic@farm.test")
    response = client.get("/customers/?status=lead")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/sign-in?next=")
    page = client.get(response.headers["Location"])
    token = csrf_from(page.text)
    assert 'value="/customers/?status=lead"' in page.text
    back = client.post("/auth/sign-in", data={"email": "vic@farm.test", "password": auth.password,
                                              "csrf_token": token, "next": "/customers/?status=lead"})
    assert back.headers["Location"] == "/customers/?status=lead"


def test_sign_out_is_post_only_and_ends_every_session(app, client, auth):
    auth.sign_in("viewer")
    assert client.get("/auth/sign-out").status_code == 405
    other = app.test_client()  # the same user signed in elsewhere
    sign_in(other, "viewer@farm.test", auth.password)
    assert other.get("/customers/").status_code == 200

    stolen = client.get_cookie("crm_session").value
    client.post("/auth/sign-out", headers={"X-CSRFToken": auth.token()})
    assert client.get("/customers/").status_code == 302
    assert other.get("/customers/").status_code == 302  # server-side: the old session is dead
    replay = app.test_client()
    replay.set_cookie("crm_session", stolen)
    assert replay.get("/customers/").status_code == 302


def test_disabling_a_user_ends_their_sessions(app, client, auth):
    auth.sign_in("admin")
    victim = app.test_client()
    victim_id = auth.make_user("sales", "gone@farm.test")
    sign_in(victim, "gone@farm.test", auth.password)
    assert victim.get("/customers/").status_code == 200

    response = auth.post(f"/admin/users/{victim_id}",
                         {"role": "sales", "status": "disabled", "version": "1"})
    assert response.status_code == 303
    assert victim.get("/customers/").status_code == 302
    assert sign_in(victim, "gone@farm.test", auth.password).status_code == 422


def test_htmx_request_without_session_gets_hx_redirect_back_to_its_page(client):
    response = client.post("/customers/search", headers={
        "HX-Request": "true", "HX-Current-URL": "http://127.0.0.1:5000/customers/?kind=grocer"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/auth/sign-in?next=/customers/?kind%3Dgrocer"


def test_tampered_csrf_token_is_refused_with_a_clear_message(app, client, auth):
    auth.make_user("viewer", "vic@farm.test")
    client.get("/auth/sign-in")
    response = client.post("/auth/sign-in", data={
        "email": "vic@farm.test", "password": auth.password, "csrf_token": "tampered"})
    assert response.status_code == 400
    assert "expired or was tampered with" in response.text
    assert client.get("/customers/").status_code == 302


def test_failures_lock_only_when_they_fall_within_the_window(app, auth, monkeypatch):
    """LOCKOUT_THRESHOLD failures within LOCKOUT_WINDOW_MINUTES lock; typos spread over
    months never add up to a lockout, and a failure after the window starts a new count."""
    from crm.auth.services import SignInError, authenticate

    auth.make_user("sales", "sam@farm.test")
    threshold, window = app.config["LOCKOUT_THRESHOLD"], app.config["LOCKOUT_WINDOW_MINUTES"]
    clock = [utcnow()]
    monkeypatch.setattr("crm.auth.services.utcnow", lambda: clock[0])

    def attempt(password="a typo, again"):
        try:
            return authenticate("sam@farm.test", password)
        except SignInError as exc:
            return str(exc)
        finally:
            db.session.commit()

    with app.app_context():
        for _ in range(3 * threshold):  # one typo every few days for weeks
            clock[0] += timedelta(days=3)
            assert attempt() == "Email or password is not right."
        for _ in range(threshold - 1):  # nearly a lockout...
            clock[0] += timedelta(minutes=1)
            assert attempt() == "Email or password is not right."
        clock[0] += timedelta(minutes=window)  # ...then the window passes: a new count
        for _ in range(threshold - 1):
            assert attempt() == "Email or password is not right."
        assert attempt(auth.password).email == "sam@farm.test"

        step = timedelta(minutes=(window - 1) / (threshold - 1))
        for _ in range(threshold):  # within the window: locked, even the right password
            assert attempt() == "Email or password is not right."
            clock[0] += step
        assert attempt(auth.password).startswith("Too many failed attempts.")


def test_only_view_limits_are_allowed(app, make_app, monkeypatch):
    """The limiter's per-request hook is gone (crm.register_rate_limits): the sign-in checks its
    own limit; a limit that only that hook would apply stops the app at start-up."""
    from config import TestingConfig

    assert limiter._check_request_limit not in app.before_request_funcs[None]
    # as `@limiter.limit("…")` on a blueprint would leave it
    monkeypatch.setattr(limiter.limit_manager, "_blueprint_limits", {"customers": {"a limit"}})
    with pytest.raises(RuntimeError, match="rate limits other than on views"):
        make_app(TestingConfig)
