"""Microgreens CRM: the application factory."""
import logging

from flask import Flask, g, render_template, request
from flask.globals import _cv_request

from config import INSTANCE_DIR, config_from_env
from crm.extensions import csrf, db, htmx, limiter, login, migrate

log = logging.getLogger(__name__)


class App(Flask):
    """Flask, with the URLs that take no values built once per script root: every page links
    the same navigation, static files and form actions (about 20 url_for calls a page, 5-8 µs
    each). URLs with values (ids, filters, a sealed search) are built every time as before."""

    CONSTANT_URLS_MAX = 1024  # endpoints and static files: far fewer; beyond it, no caching

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._constant_urls = {}

    def url_for(self, endpoint, /, *, _anchor=None, _method=None, _scheme=None, _external=None,
                **values):
        req_ctx = _cv_request.get(None)
        constant = (
            req_ctx is not None and req_ctx.url_adapter is not None
            and _anchor is None and _method is None and _scheme is None and not _external
            and endpoint[:1] != "."
            and (not values or (endpoint == "static" and values.keys() == {"filename"}))
            and not any(self.url_default_functions.values())
        )
        if not constant:
            return super().url_for(endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme,
                                   _external=_external, **values)
        adapter = req_ctx.url_adapter
        key = (adapter.script_name, adapter.subdomain, endpoint, values.get("filename"))
        url = self._constant_urls.get(key)
        if url is None:
            url = super().url_for(endpoint, **values)
            if url.startswith("/") and len(self._constant_urls) < self.CONSTANT_URLS_MAX:
                self._constant_urls[key] = url
        return url


def create_app(config_class=None, features=None):
    config_class = config_class or config_from_env()
    config_class.check()
    app = App(__name__, instance_path=str(INSTANCE_DIR))
    app.config.from_object(config_class)
    if app.config["PROXY_COUNT"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)
    if app.config.get("CREATE_MISSING_KEYS"):
        from crm.security.keys import load_development_keys

        load_development_keys(app, INSTANCE_DIR)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    register_url_converters(app)
    register_security(app)  # first, so the guard runs before any other before_request hook
    register_extensions(app)
    register_features(app, features or FEATURES)
    register_rate_limits(app)
    register_errors(app)
    from crm.navigation import register_template_helpers

    register_template_helpers(app)
    return app


def register_url_converters(app):
    """`<int:…>` in every route matches only what crm.common.parse_id reads as an id: ASCII
    digits (werkzeug's `\\d+` also matches "２"), 1..MAX_ID; anything else is a 404."""
    from werkzeug.routing import IntegerConverter, ValidationError

    from crm.common import parse_id

    class IdConverter(IntegerConverter):
        regex = r"[0-9]+"

        def to_python(self, value):
            found = parse_id(value)
            if found is None:
                raise ValidationError()
            return found

    app.url_map.converters["int"] = IdConverter


def register_extensions(app):
    # Errors from the driver never echo bound values (they are ciphertext anyway).
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        **app.config["SQLALCHEMY_ENGINE_OPTIONS"], "hide_parameters": True,
    }
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # A database that does not answer fails the request (the 503 page, /readyz) within
        # seconds rather than holding the worker until gunicorn kills it; 2 s is libpq's minimum.
        options["connect_args"] = {"connect_timeout": 2, **options.get("connect_args", {})}
    db.init_app(app)
    from crm.common import render_migration_type

    migrate.init_app(app, db, render_as_batch=True, compare_type=True,
                     render_item=render_migration_type)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    if not logging.getLogger().handlers:
        # Flask-Limiter logs to a NullHandler; its "storage unreachable" warning should reach
        # the same stream as the app's own log (stderr, gunicorn's error log).
        from flask.logging import default_handler

        limiter.logger.addHandler(default_handler)
    login.init_app(app)
    login.session_protection = "strong"
    from crm.security.sessions import SessionInterface

    app.session_interface = SessionInterface()

    from crm.auth.services import load_user

    login.user_loader(load_user)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from sqlalchemy import event

        with app.app_context():

            @event.listens_for(db.engine, "connect")
            def _sqlite_pragmas(dbapi_connection, record):
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA busy_timeout=5000")
                cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL
                cursor.execute("PRAGMA cache_size=-32000")  # 32 MB of pages per connection
                cursor.execute("PRAGMA mmap_size=268435456")
                cursor.close()


def register_rate_limits(app):
    """Flask-Limiter checks every request in a before_request hook, for limits on the whole
    app, default limits and limits on blueprints. A view decorated with @limiter.limit (the
    sign-in) checks its own limit when it is called, hook or not. This app has only those, so
    the hook goes: it was a third of what /healthz costs, on every request. Declaring a limit of
    another kind stops the app at start-up rather than have it silently not apply."""
    manager = limiter.limit_manager
    others = (manager.application_limits, manager.default_limits,
              manager._blueprint_limits, limiter._meta_limits)
    if any(others):
        raise RuntimeError("rate limits other than on views (@limiter.limit) are not checked: "
                           "see crm.register_rate_limits")
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)


# The features, in the order their navigation, tabs and demo steps come unless they say
# otherwise. Adding a feature is adding its package here.
FEATURES = ("crm.main", "crm.auth", "crm.customers", "crm.contacts", "crm.communications",
            "crm.preferences", "crm.catalogue", "crm.orders", "crm.credit", "crm.segments",
            "crm.reports",
            "crm.delivery",
            "crm.jobs", "crm.admin", "crm.demo")


def register_features(app, features):
    """Each feature's declaration (crm.features): blueprints, permissions, navigation, tabs,
    jobs, CLI commands, demo steps and merge rules."""
    from importlib import import_module

    from crm.features import register_feature
    from crm.security.permissions import check_views

    for name in features:
        register_feature(app, import_module(name).feature)
    check_views(app)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)

SECURITY_HEADERS = (  # on every answer, rq-dashboard's pages included (crm.admin.dashboard)
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
)
SECURITY_HEADER_NAMES = frozenset(name.lower() for name, _ in SECURITY_HEADERS)


def register_security(app):
    from crm.security.permissions import guard
    from crm.web import signed_in_user

    app.before_request(guard)

    @app.before_request
    def upload_limit():  # before CSRFProtect reads the body
        view = app.view_functions.get(request.endpoint)
        if getattr(view, "max_content_length", None):
            request.max_content_length = view.max_content_length

    @app.after_request
    def security_headers(response):
        """The same headers on every answer (a view's own value of one stays): built once,
        added in one go when the answer has none of them, as nearly every answer has not."""
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}
        fixed = SECURITY_HEADERS
        if present.isdisjoint(SECURITY_HEADER_NAMES):
            headers.extend(fixed)
        else:
            headers.extend(header for header in fixed if header[0].lower() not in present)
        headers.add("Vary", "HX-Request")
        if signed_in_user() is not None and request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
        return response


ERRORS = {
    400: ("Bad request", "The form could not be read. Reload the page and try again."),
    403: ("Not allowed", "Your role does not allow this page or action."),
    404: ("Not found", "There is nothing here. It may have been removed."),
    405: ("Not allowed", "That action is not available here."),
    409: ("Not possible now", ("That cannot be done in the record's present state. Reload "
                               "the page to see it as it is now.")),
    413: ("Too large", "That upload is larger than this form accepts ({limit})."),
    429: ("Slow down", "Too many attempts. Wait a minute and try again."),
    500: ("Something went wrong", "The error has been logged. Try again in a moment."),
    503: ("The database is unavailable", ("The farm's records cannot be reached just now. "
                                          "Nothing was lost; try again in a minute.")),
}
RETRY_AFTER_SECONDS = 30


def register_errors(app):
    """Error pages for every HTTP error: the texts of ERRORS where it has the status, the
    exception's own name and description otherwise; a fragment for htmx. They never query
    the database (no user lookup: the staff layout only for a user this request already
    loaded), so they still render while it is down."""
    from flask_wtf.csrf import CSRFError
    from werkzeug.exceptions import HTTPException

    from crm.web import database_unavailable, signed_in_user, wants_fragment

    def render_error(status, title, message, headers=()):
        headers = dict(headers)
        if status == 500:
            db.session.rollback()
        if status == 413:
            message = message.format(limit=f"{request.max_content_length // 2**20} MB at most")
        if status == 503:
            headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        template = "errors/_error.html" if wants_fragment() else "errors/error.html"
        user = signed_in_user()
        if user is None:
            # Flask-Login puts current_user in every template's context: make that "signed
            # out" here instead of a user lookup (the lookup may be what just failed).
            g._login_user = login.anonymous_user()
        return render_template(template, status=status, title=title, message=message,
                               staff_layout=user is not None and status != 503), status, headers

    def http_error(error: HTTPException):
        """Any HTTPException (abort(409), a 405 from routing, …): the app's page, keeping the
        headers the status needs (Allow on a 405) but not Werkzeug's body or content type.
        An exception that carries its own response (abort(response)) keeps it."""
        if error.response is not None:
            return error.response
        status = error.code or 500
        title, message = ERRORS.get(status, (error.name, error.description))
        headers = [(k, v) for k, v in error.get_headers() if k.lower() != "content-type"]
        return render_error(status, title, message, headers)

    def server_error(error):
        # Flask has logged the exception (one line and its traceback) before calling this.
        if database_unavailable(getattr(error, "original_exception", None)):
            return render_error(503, *ERRORS[503])
        return render_error(500, *ERRORS[500])

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(500, server_error)
    from crm.audit.services import RecordMoved
    from crm.web import moved_response

    app.register_error_handler(RecordMoved, moved_response)
    from crm.jobs.services import QueueUnavailable
    from crm.toasts import toast

    def queue_unavailable(error):
        # Raised before anything was claimed (crm.jobs.services.enqueue): undo the request's
        # changes; an htmx page stays as it was, with the message as a toast.
        db.session.rollback()
        if wants_fragment():
            toast(str(error), "error")
            return "", 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return render_error(503, "Background work is unavailable", str(error))

    app.register_error_handler(QueueUnavailable, queue_unavailable)
    app.register_error_handler(CSRFError, lambda error: render_error(
        400, "Form expired", "This form expired or was tampered with. Reload the page and try again."
    ))
