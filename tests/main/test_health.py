"""/healthz says the process is alive; /readyz says whether it can reach what it needs."""
from config import TestingConfig


def test_healthz_and_readyz_answer_ok_when_everything_is_up(client):
    for url in ("/healthz", "/readyz"):
        response = client.get(url)
        assert (response.status_code, response.text) == (200, "ok")
        assert response.mimetype == "text/plain"


def test_readyz_names_redis_when_it_stops_answering(database_url, app, make_app, redis_server):
    class WithRedis(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = redis_server.url

    client = make_app(WithRedis).test_client()
    assert client.get("/readyz").text == "ok"
    redis_server.stop()
    response = client.get("/readyz")
    assert (response.status_code, response.text) == (503, "unavailable: redis")


def test_readyz_names_the_database_when_it_cannot_be_reached(unreachable_database_app, caplog):
    client = unreachable_database_app.test_client()
    assert client.get("/healthz").status_code == 200  # still alive: no database in liveness
    response = client.get("/readyz")
    assert (response.status_code, response.text) == (503, "unavailable: database")
    assert not caplog.records  # an expected answer, not an error to log
