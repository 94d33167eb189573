"""The signed-in user's dashboard: their widgets, and the buttons that add, remove and move them
and choose a widget's period. htmx swaps the dashboard (or the one widget) in place; without
JavaScript each button is a plain form that posts and comes back to the page (303)."""
from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user

from crm.common import farm_today
from crm.extensions import db, htmx
from crm.reports import bp
from crm.reports.dashboard import (
    DashboardError,
    StaleLayout,
    add_widget,
    available,
    layout,
    layout_token,
    move_widget,
    remove_widget,
    reset,
    set_period,
    shown_widgets,
    widget_data,
)
from crm.reports.widgets import PERIODS, WIDGETS, allowed
from crm.security.permissions import requires
from crm.toasts import toast
from crm.web import wants_fragment

PERMISSION = "reports.dashboard"


def _context(status_message: str = "", error: str = ""):
    placed = layout(current_user)
    return {"shown": shown_widgets(placed, current_user, farm_today()),
            "addable": available(current_user, placed), "token": layout_token(placed),
            "periods": PERIODS, "status_message": status_message, "error": error,
            "count": len(placed)}


def _dashboard(status: int = 200, message: str = "", error: str = ""):
    context = _context(message, error)
    template = "reports/_dashboard.html" if wants_fragment() else "reports/dashboard.html"
    body = render_template(template, **context)
    db.session.commit()  # the cache rows counted for this page
    return body, status, {"Vary": "HX-Request"}


@bp.get("/dashboard")
@requires(PERMISSION)
def dashboard():
    """The signed-in user's dashboard: their widgets, or their role's defaults."""
    return _dashboard()


def _widget_key(key: str) -> str:
    """A widget key from the URL: 404 for one that does not exist, 403 for one the user's role
    may not see (it is never offered to them)."""
    if key not in WIDGETS:
        abort(404)
    if not allowed(current_user, key):
        abort(403)
    return key


def _seen():
    return request.form.get("layout")


def _after_change(message: str, anchor: str | None = None):
    """Done: htmx gets the dashboard as it is now (with the words for screen readers), a
    plain post goes back to the page."""
    db.session.commit()
    toast(message)
    if htmx:
        return _dashboard(message=message)
    return redirect(url_for(".dashboard", _anchor=anchor), 303)


def _refused(exc: DashboardError):
    db.session.rollback()
    status = 409 if isinstance(exc, StaleLayout) else 422
    toast(str(exc), "error")
    if htmx:  # the whole dashboard as it is now, wherever the request meant to swap
        body, status, headers = _dashboard(status, error=str(exc))
        return body, status, {**headers, "HX-Retarget": "#dashboard", "HX-Reswap": "outerHTML"}
    return redirect(url_for(".dashboard"), 303)


@bp.post("/dashboard/widgets")
@requires(PERMISSION)
def add():
    """Add a widget (at the end)."""
    key = _widget_key(request.form.get("key", ""))
    try:
        added = add_widget(current_user, key, seen=_seen())
    except DashboardError as exc:
        return _refused(exc)
    return _after_change(f"{added.widget.title} added at the end.", f"widget-{key}")


@bp.post("/dashboard/widgets/<key>/remove")
@requires(PERMISSION)
def remove(key):
    """Take a widget off the dashboard (it can be added again)."""
    key = _widget_key(key)
    try:
        removed = remove_widget(current_user, key, seen=_seen())
    except DashboardError as exc:
        return _refused(exc)
    return _after_change(f"{removed.title} removed.", "dashboard")


@bp.post("/dashboard/widgets/<key>/move")
@requires(PERMISSION)
def move(key):
    """Move a widget one place up or down."""
    key = _widget_key(key)
    direction = request.form.get("direction", "")
    try:
        at = move_widget(current_user, key, direction, seen=_seen())
    except DashboardError as exc:
        return _refused(exc)
    count = len(layout(current_user))
    return _after_change(f"{WIDGETS[key].title} is now {at + 1} of {count}.", f"widget-{key}")


@bp.post("/dashboard/widgets/<key>/period")
@requires(PERMISSION)
def period(key):
    """Choose the period a widget counts over (kept for the user); an unknown period gives
    the widget's default and says so."""
    key = _widget_key(key)
    asked = request.form.get("period", "")
    try:
        placed, used = set_period(current_user, key, asked)
    except DashboardError as exc:
        return _refused(exc)
    db.session.commit()
    label = PERIODS.get(placed.period, "")
    if used:
        toast(f"{placed.widget.title}: {label.lower()}.")
    else:
        toast(f"That period is not offered for {placed.widget.title}; showing "
              f"{label.lower()}.", "warning")
    if not htmx:
        return redirect(url_for(".dashboard", _anchor=f"widget-{key}"), 303)
    placed_all = layout(current_user)
    at = next(i for i, p in enumerate(placed_all) if p.key == key)
    shown = widget_data(placed_all[at], current_user, farm_today())
    shown.index = at
    # the widget alone: `shown` stands for the dashboard's list only as far as its length
    body = render_template("reports/_widget.html", s=shown, shown=placed_all,
                           token=layout_token(placed_all), periods=PERIODS)
    db.session.commit()
    return body, 200, {"Vary": "HX-Request"}


@bp.post("/dashboard/reset")
@requires(PERMISSION)
def restore_defaults():
    """Back to the role's default widgets."""
    reset(current_user)
    return _after_change("Your dashboard is back to the widgets of your role.", "dashboard")
