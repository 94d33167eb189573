"""The RQ dashboard (rq-dashboard 0.9.0) for admins at /admin/rq, made safe; without Redis a page
of ours at the same address saying that jobs run inline.

rq-dashboard has no authentication, no CSRF on its actions and an inline-script page. Here:
- every route of its blueprint, static files and JSON included, needs admin.jobs (the app's one
  guard, through blueprint_permission);
- its POST actions (requeue, delete, empty, compact) go through the app's CSRFProtect like every
  other POST (no exemption): crm/static/rq/shim.js adds the X-CSRFToken header to its jQuery
  requests from the page's csrf-token meta tag; its "requeue all" over GET is refused (405);
- its pages get the app's CSP: crm/templates/rq_dashboard/base.html (which the app's template
  folder serves in place of the package's) loads only files from this app; the page script it
  used to inline is served by `page_script` below, its row templates come precompiled and
  escaping everything (crm/static/rq/templates.js, built by crm/admin/rq_templates_build.js):
  a job description is text, never markup (its stored-XSS report, #526);
- the app enqueues every job with a description of names and ids only (crm.jobs.services).
"""
import rq_dashboard
from flask import abort, current_app, render_template, request, url_for
from redis.exceptions import ResponseError
from rq.exceptions import NoSuchJobError
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from crm.security.permissions import blueprint_permission, requires

RQ = rq_dashboard.blueprint
PAGE_SCRIPTS = {"rq_dashboard.queues_overview": "queues", "rq_dashboard.workers_overview": "workers",
                "rq_dashboard.jobs_overview": "jobs", "rq_dashboard.job_view": "job"}
JOBS_ARGS = ("queue_name", "registry_name", "per_page", "order", "page")


@RQ.route("/<int:instance_number>/crm/<any(queues, workers, jobs, job):name>.js")
def page_script(instance_number, name):
    """The script rq-dashboard inlined into a page, as a file (the CSP allows no inline script);
    it gets the page's values from the query string, each written into it as JSON."""
    args = request.args
    context = {"current_instance": instance_number,
               "rq_url_prefix": url_for("rq_dashboard.queues_overview"), "script_name": name}
    if name == "jobs":
        context.update(queue={"name": args.get("queue_name") or "default"},
                       registry_name=args.get("registry_name", "queued"),
                       per_page=args.get("per_page", 8, type=int),
                       order=args.get("order", "asc"), page=args.get("page", 1, type=int))
    elif name == "job":
        context["id"] = args.get("job_id", "")
    body = render_template("admin/rq_page_script.html", **context)
    return body, {"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-store"}


@RQ.context_processor
def page_script_url():
    def rq_page_script():
        name = PAGE_SCRIPTS.get(request.endpoint)
        if name is None:
            return None
        view_args = dict(request.view_args or {})
        instance = view_args.pop("instance_number", 0)
        if name == "jobs":
            query = {key: view_args[key] for key in JOBS_ARGS if view_args.get(key) is not None}
        else:
            query = {"job_id": view_args["job_id"]} if name == "job" else {}
        return url_for("rq_dashboard.page_script", instance_number=instance, name=name, **query)

    return {"rq_page_script": rq_page_script}


@RQ.before_request
def no_state_change_over_get():
    """Its "requeue all" also answers GET, which CSRF protection does not look at."""
    if request.endpoint == "rq_dashboard.requeue_all" and request.method != "POST":
        abort(405)


@RQ.errorhandler(NoSuchJobError)
@RQ.errorhandler(LookupError)  # an RQ instance number it does not have
@RQ.errorhandler(ResponseError)  # "compact" of a queue that does not exist: "no such key"
def not_there(error):
    """A job that expired, a queue or an instance it does not have: the app's 404, not a 500."""
    missing_key = isinstance(error, ResponseError) and "no such key" in str(error)
    if type(error) not in (NoSuchJobError, LookupError) and not missing_key:
        raise error
    return current_app.handle_http_exception(NotFound())


@requires("admin.jobs")
def jobs_inline():
    """Without Redis: jobs run inline in the web process; how to start Redis and a worker."""
    return render_template("admin/rq_inline.html")


def register_rq_dashboard(app):
    if not app.config.get("REDIS_URL"):
        app.add_url_rule("/admin/rq/", "admin.rq_inline", jobs_inline)
        return
    from rq_dashboard.web import setup_rq_connection

    app.config.setdefault("RQ_DASHBOARD_REDIS_URL", app.config["REDIS_URL"])
    app.config.setdefault("RQ_DASHBOARD_POLL_INTERVAL", 2500)
    # Its URLs number Redis instances from 0; the app's "int" (crm.common.IdConverter) takes
    # ids from 1, so its rules are made with Werkzeug's own.
    ids, app.url_map.converters["int"] = app.url_map.converters["int"], IntegerConverter
    try:
        app.register_blueprint(RQ, url_prefix="/admin/rq")
    finally:
        app.url_map.converters["int"] = ids
    setup_rq_connection(app)
    blueprint_permission(RQ, "admin.jobs")


def dashboard_url() -> str:
    """Where Admin links to: the RQ dashboard, or the page saying jobs run inline."""
    if "rq_dashboard.queues_overview" in current_app.view_functions:
        return url_for("rq_dashboard.queues_overview")
    return url_for("admin.rq_inline")
