from urllib.parse import urlsplit

from flask import current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from crm.auth import bp
from crm.auth.forms import SignInForm
from crm.auth.services import SignInError, authenticate
from crm.extensions import db, limiter
from crm.security.permissions import can, public


def safe_next(target: str | None) -> str:
    """`target` if it is a path on this site, else the home page."""
    if target:
        parts = urlsplit(target)
        if (
            not parts.scheme
            and not parts.netloc
            and target.startswith("/")
            and not target.startswith(("//", "/\\"))
            and target.isprintable()
        ):
            return target
    # the customer list; a role without it (the grower) goes home, to its first page
    return url_for("customers.index") if can(current_user, "customers.view") else url_for(
        "main.home")


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(lambda: current_app.config["SIGN_IN_RATE_LIMIT"], methods=["POST"])
def sign_in():
    """Staff sign-in form."""
    if current_user.is_authenticated and request.method == "GET":
        return redirect(safe_next(request.args.get("next")))
    form = SignInForm(next=request.args.get("next", ""))
    error = None
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data)
        except SignInError as exc:
            db.session.commit()  # failure counts and the audit event
            error = str(exc)
        else:
            session.clear()  # a fresh session: nothing from before sign-in survives
            login_user(user)
            db.session.commit()
            return redirect(safe_next(form.next.data))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/sign_in.html", form=form, error=error), status


@bp.post("/sign-out")
@public
def sign_out():
    """End the session here and everywhere else this user is signed in."""
    if current_user.is_authenticated:
        current_user.end_sessions()
        db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("auth.sign_in"))
