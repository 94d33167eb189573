"""What every feature's views share: fragment or page, records that may have moved, forms."""
from flask import abort, g, redirect, render_template, request, url_for
from sqlalchemy.exc import DBAPIError, OperationalError

from crm.audit.services import RecordMoved
from crm.common import parse_id
from crm.extensions import db, htmx


def signed_in_user():
    """The signed-in user if this request has already loaded them, else None. Never a query:
    error pages and response headers must work while the database is down."""
    user = g.get("_login_user")  # where Flask-Login keeps current_user once loaded
    return user if user is not None and user.is_authenticated else None


_ID_MARK = "2147483647"  # crm.common.MAX_ID: digits, as an id is in a URL


def id_url(endpoint: str, name: str, value, **values) -> str:
    """url_for(endpoint, name=value, **values) for a link repeated down a page, once per row,
    that differs only in that id: the URL is built once per request with a placeholder id
    that is then replaced (url_for costs 5-8 µs a call, a row has a few links). Anything but
    an int id goes through url_for."""
    if type(value) is not int:
        return url_for(endpoint, **{name: value}, **values)
    shapes = g.setdefault("_crm_id_urls", {})
    key = (endpoint, name, *values.items()) if values else (endpoint, name)
    shape = shapes.get(key)
    if shape is None:
        parts = url_for(endpoint, **{name: int(_ID_MARK)}, **values).split(_ID_MARK)
        shape = shapes[key] = tuple(parts) if len(parts) == 2 else ()
    if not shape:  # the placeholder's digits were in another value as well
        return url_for(endpoint, **{name: value}, **values)
    return f"{shape[0]}{value}{shape[1]}"


def database_unavailable(error) -> bool:
    """The database cannot be reached (connecting failed, or the connection dropped), as
    opposed to a query that went wrong."""
    return isinstance(error, DBAPIError) and (
        error.connection_invalidated
        or (isinstance(error, OperationalError) and error.statement is None)
    )


def arg_id(name: str) -> int | None:
    """The id in query argument `name` (crm.common.parse_id: ASCII digits, 1..MAX_ID), None
    when the argument is absent or empty; anything else is a 404, as in a path. Every id read
    from a query string comes through here."""
    raw = request.args.get(name, "")
    if raw == "":
        return None
    found = parse_id(raw)
    if found is None:
        abort(404)
    return found


def wants_fragment() -> bool:
    """An htmx request for part of a page (a history restore wants the whole page)."""
    return bool(htmx) and not htmx.history_restore_request


def render(page: str, fragment: str, status: int = 200, **context):
    """The fragment for htmx, the full page otherwise (both from the same context)."""
    return render_template(fragment if wants_fragment() else page, **context), status


def moved_response(error: RecordMoved):
    """A record merged into another (crm.audit.services.found): the same page of the record
    that stays (301) for a GET; anything else is 404."""
    if request.method != "GET" or request.endpoint is None:
        abort(404)
    args = {**request.view_args, f"{error.kind}_id": error.survivor_id, **request.args}
    return redirect(url_for(request.endpoint, **args), 301)


def save_form(form, apply, *, success, failure, errors=(ValueError,)):
    """The one path for a form: validate; call `apply()` (which calls the service); commit and
    return `success(result)`; or roll back, put the service's message on the form and return
    `failure()` (which re-renders the form, status 422). `errors` are the service errors whose
    message is shown to the user."""
    if form.validate_on_submit():
        try:
            result = apply()
        except errors as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            return success(result)
    return failure()
