"""What every feature's views share: fragment or page, records that may have moved, forms,
and forms that create something answering a second send with the first one's result."""
from datetime import datetime, timedelta

from flask import abort, g, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import String, delete
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Mapped, mapped_column

from crm.audit.services import RecordMoved
from crm.common import UTCDateTime, actor_check, parse_id, utcnow
from crm.extensions import db, htmx
from crm.forms import FORM_KEY
from crm.toasts import redirect_with


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


def save_form(form, apply, *, success, failure, errors=(ValueError,), result_url=None):
    """The one path for a form: validate; call `apply()` (which calls the service); commit and
    return `success(result)`; or roll back, put the service's message on the form and return
    `failure()` (which re-renders the form, status 422). `errors` are the service errors whose
    message is shown to the user.

    A form that creates (it has a form key, crm.forms.FormKeyField) also gives
    `result_url(result)`: where what it created is shown. The same form sent again is answered
    with a redirect there instead of creating again (replayed, claim, created)."""
    if (again := replayed(form)) is not None:
        return again
    if form.validate_on_submit():
        if (again := claim(form)) is not None:
            return again
        try:
            result = apply()
        except errors as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            if _key(form) is not None:
                created(form, result_url(result))
            db.session.commit()
            return success(result)
    return failure()


# -- forms that create: one send, one record ----------------------------------------------------

class FormReplay(db.Model):
    """A form that created something, by the one-time key it carried (crm.forms.FormKeyField),
    and where its result is shown. Its row is written in the transaction that creates, so a
    second send of the same form (a double click, a retry, Back and send again) either waits
    for the first and is answered with its result, or finds the first rolled back and creates.
    Kept for KEPT_FOR; a user's older rows go when they next create something."""

    __tablename__ = "form_replay"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    actor_kind: Mapped[str] = mapped_column(String(10))  # crm.common.Actor
    actor_id: Mapped[int | None]
    result_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    __table_args__ = (actor_check("actor"),)


KEPT_FOR = timedelta(days=30)
REPLAYED = "That was sent twice; it was saved once."


def _key(form) -> str | None:
    """The form's key when it has one and it is well-formed (else validation refuses it)."""
    field = getattr(form, "form_key", None)
    data = getattr(field, "data", None)
    return data if isinstance(data, str) and FORM_KEY.fullmatch(data) else None


def _first_result(found: FormReplay):
    """The answer to a second send: the first one's result, with a word that it was sent
    twice. A key someone else used is a bad request (keys are random: a made-up request)."""
    actor = current_user.actor
    if (found.actor_kind, found.actor_id) != (actor.kind, actor.id):
        abort(400)
    return redirect_with(found.result_url or request.path, REPLAYED)


def replayed(form):
    """The answer to a form that was sent (and created) before, or None: call it first, before
    validating (what the first send created may make the second one invalid, e.g. a name that
    is now taken)."""
    key = _key(form) if request.method == "POST" else None
    found = db.session.get(FormReplay, key) if key else None
    return _first_result(found) if found is not None else None


def claim(form):
    """Claim the form's key for the create about to happen, in its transaction and before it:
    a second send of the same form waits here until the first commits or rolls back. None: go
    on and create (then `created`); otherwise the answer to give (the first send created)."""
    key = _key(form)
    if key is None:
        return None
    actor = current_user.actor
    db.session.execute(delete(FormReplay).where(
        FormReplay.actor_kind == actor.kind, FormReplay.actor_id == actor.id,
        FormReplay.created_at < utcnow() - KEPT_FOR))
    db.session.add(FormReplay(key=key, actor_kind=actor.kind, actor_id=actor.id))
    try:
        db.session.flush()
    except IntegrityError:  # the same key, committed by the other send meanwhile
        db.session.rollback()
        found = db.session.get(FormReplay, key)
        if found is None:
            abort(400)
        return _first_result(found)
    return None


def created(form, url: str):
    """Note where what the form created is shown (before the commit), for a second send."""
    key = _key(form)
    if key is not None:
        db.session.get(FormReplay, key).result_url = url  # claimed in this transaction
