from flask import current_app, redirect, url_for
from flask_login import current_user
from redis import Redis, RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from crm.extensions import db
from crm.main import bp
from crm.navigation import render_badges
from crm.security.permissions import public, requires


@bp.get("/")
@public
def home():
    """The staff home: the customer list (sign-in first if needed)."""
    return redirect(url_for("customers.index"))


@bp.get("/healthz")
@public
def healthz():
    """Liveness check; also the trivial endpoint `make bench` compares pages against."""
    return "ok", 200, {"Content-Type": "text/plain"}


READY_TIMEOUT = 1  # seconds for each check


def database_ready() -> bool:
    try:
        with db.engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"SET LOCAL statement_timeout = {READY_TIMEOUT * 1000}"))
            connection.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        return False


def redis_ready() -> bool:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return True  # not configured: jobs run inline, nothing to reach
    client = Redis.from_url(url, socket_connect_timeout=READY_TIMEOUT, socket_timeout=READY_TIMEOUT)
    try:
        return bool(client.ping())
    except (RedisError, OSError):
        return False
    finally:
        client.close()


@bp.get("/readyz")
@public
def readyz():
    """Readiness check for a load balancer: the database answers `SELECT 1` and Redis (when
    configured) answers PING. 503 names what failed, never a URL or an error message."""
    failed = [name for name, ready in (("database", database_ready), ("redis", redis_ready))
              if not ready()]
    if failed:
        return f"unavailable: {', '.join(failed)}", 503, {"Content-Type": "text/plain"}
    return "ok", 200, {"Content-Type": "text/plain"}


@bp.get("/nav/badges")
@requires("main.navigation")
def badges():
    """The navigation's numbers, out of band, in one request after the page has loaded."""
    return render_badges(current_user)
