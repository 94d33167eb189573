"""Sign-in while the rate limiter's Redis is down: counted in memory, not a 500."""
import logging

from config import TestingConfig
from tests.auth.test_sign_in import sign_in
from tests.conftest import Auth

FALLBACK_WARNING = "falling back to in-memory storage"


def test_sign_in_works_and_locks_out_while_redis_is_down(database_url, app, make_app,
                                                          redis_server, caplog):
    class WithRedis(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = RATELIMIT_STORAGE_URI = redis_server.url

    redis_app = make_app(WithRedis)
    client = redis_app.test_client()
    auth = Auth(redis_app, client)
    auth.make_user("sales", "sam@farm.test")
    assert sign_in(client, "sam@farm.test", auth.password).status_code == 302  # Redis up
    client.post("/auth/sign-out", headers={"X-CSRFToken": auth.token()})

    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        assert sign_in(client, "sam@farm.test", auth.password).status_code == 302
        client.post("/auth/sign-out", headers={"X-CSRFToken": auth.token()})
        for _ in range(redis_app.config["LOCKOUT_THRESHOLD"]):
            assert sign_in(client, "sam@farm.test", "wrong password").status_code == 422
        locked = sign_in(client, "sam@farm.test", auth.password)
    assert locked.status_code == 422
    assert "Too many failed attempts" in locked.text
    warnings = [r for r in caplog.records if FALLBACK_WARNING in r.getMessage()]
    assert len(warnings) == 1  # once for the outage, not once per request
