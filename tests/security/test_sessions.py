"""Sessions: the signing serializer is made once per set of keys, and reads what Flask's own
interface signs (and the other way round), fallback keys included."""
import itsdangerous
import pytest
from flask.sessions import SecureCookieSessionInterface

from crm.security.sessions import SessionInterface


def test_the_serializer_is_made_once_per_set_of_keys(app):
    interface = app.session_interface
    assert isinstance(interface, SessionInterface)
    assert interface.get_signing_serializer(app) is interface.get_signing_serializer(app)


def test_cookies_are_the_same_as_flasks(app):
    ours = SessionInterface().get_signing_serializer(app)
    flasks = SecureCookieSessionInterface().get_signing_serializer(app)
    assert ours.loads(flasks.dumps({"a": 1})) == {"a": 1}
    assert flasks.loads(ours.dumps({"b": 2})) == {"b": 2}


def test_a_new_secret_key_gets_its_own_serializer_and_old_cookies_need_a_fallback(app):
    interface = SessionInterface()
    old_cookie = interface.get_signing_serializer(app).dumps({"a": 1})
    secret, fallbacks = app.secret_key, app.config["SECRET_KEY_FALLBACKS"]
    try:
        app.secret_key = "a-new-secret-key-for-this-test"
        with pytest.raises(itsdangerous.BadSignature):
            interface.get_signing_serializer(app).loads(old_cookie)
        app.config["SECRET_KEY_FALLBACKS"] = [secret]
        assert interface.get_signing_serializer(app).loads(old_cookie) == {"a": 1}
    finally:
        app.secret_key, app.config["SECRET_KEY_FALLBACKS"] = secret, fallbacks
