from flask import redirect, url_for

from crm.main import bp
from crm.security.permissions import public


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
