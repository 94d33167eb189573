"""Flask's signed-cookie sessions, with the signing serializer made once per secret key.

Flask builds a new itsdangerous serializer on every request (open_session) and again when the
cookie is written; it holds nothing but the keys, salt and settings, so one per set of keys is
the same thing, made once. Bounded: one entry per (secret key, fallbacks) the app has had.
"""
from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    def __init__(self):
        self._serializers = {}

    def get_signing_serializer(self, app):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        try:
            return self._serializers[keys]
        except KeyError:
            made = self._serializers[keys] = super().get_signing_serializer(app)
            return made
        except TypeError:  # an unhashable key: build it as Flask does
            return super().get_signing_serializer(app)
