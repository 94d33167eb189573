from flask import redirect, url_for
from flask_login import current_user

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


@bp.get("/nav/badges")
@requires("main.navigation")
def badges():
    """The navigation's numbers, out of band, in one request after the page has loaded."""
    return render_badges(current_user)
