from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user
from redis import Redis, RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from crm.extensions import db, htmx
from crm.main import bp
from crm.main.search import MAX_QUERY, search_everything
from crm.navigation import nav_items, render_badges
from crm.security.encryption import seal, unseal
from crm.security.permissions import can, public, requires


@bp.get("/")
@public
def home():
    """The staff home: the signed-in user's dashboard; for a role without one, its first
    navigation item (the grower: the sowing plan); else the customer list (sign-in first if
    needed)."""
    if current_user.is_authenticated:
        if ("reports.dashboard" in current_app.view_functions
                and can(current_user, "reports.dashboard")):
            return redirect(url_for("reports.dashboard"))
        if not can(current_user, "customers.view"):
            items = nav_items(current_user)
            if items:
                return redirect(items[0]["url"])
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


DROPDOWN_HITS = 5  # of each kind, under the header's search box
PAGE_HITS = 20  # of each kind, on the results page


def _results(q: str, limit: int) -> dict:
    """What the results partial shows; the search sealed once for every link that carries it."""
    groups = search_everything(q, current_user, limit=limit)
    sealed = seal(q, actor=current_user.actor) if q else None
    return dict(q=q, groups=groups, sealed=sealed,
                count=sum(len(group.hits) for group in groups))


@bp.post("/search")
@requires("main.navigation")
def search():
    """The header search: the typed text arrives in the body. htmx gets the grouped results
    under the box; without JavaScript, the results page (the search sealed in its URL)."""
    q = request.form.get("q", "")[:MAX_QUERY].strip()
    if not htmx:
        sealed = seal(q, actor=current_user.actor) if q else None
        return redirect(url_for(".search_page", s=sealed), 303)
    return render_template("main/_search_results.html", dropdown=True,
                           **_results(q, DROPDOWN_HITS))


@bp.get("/search")
@requires("main.navigation")
def search_page():
    """Everything a search finds, grouped by kind, as a page (the search sealed in `s`)."""
    q = unseal(request.args.get("s", ""), actor=current_user.actor) or ""
    return render_template("main/search.html", dropdown=False, **_results(q, PAGE_HITS))
