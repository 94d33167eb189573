from config import TestingConfig
from tests.conftest import Auth
from tests.jobs.test_jobs import REDIS_URL


def test_rq_dashboard_is_for_admins_only(database_url, app, make_app):
    class WithRedis(TestingConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = REDIS_URL

    redis_app = make_app(WithRedis)
    anonymous = redis_app.test_client()
    assert anonymous.get("/admin/rq/").status_code == 302
    viewer = Auth(redis_app, redis_app.test_client())
    viewer.sign_in("manager")
    assert viewer.client.get("/admin/rq/").status_code == 403
    admin = Auth(redis_app, redis_app.test_client())
    admin.sign_in("admin")
    page = admin.client.get("/admin/rq/")
    assert page.status_code == 200 and "RQ" in page.text
    assert admin.client.get("/admin/").text.count("/admin/rq/") >= 1
