"""Reports in the staff UI: run one (a job), watch it, the history, downloads (streamed from
the stored chunks, audited), the inbox of scheduled reports, and schedules."""
from flask import (
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField

from crm.audit.services import record
from crm.extensions import db, limiter
from crm.forms import choices
from crm.jobs.progress import poll_status
from crm.jobs.services import QueueUnavailable, sweep_stale_runs
from crm.reports import bp
from crm.reports.catalog import GROUPS, ReportError, get_report, reports_for, validate
from crm.reports.runs import (
    file_chunks,
    file_name,
    get_run,
    history,
    inbox,
    mark_read,
    request_run,
    title,
)
from crm.reports.schedules import (
    PERIODS,
    WEEKDAYS,
    delete_schedule,
    get_schedule,
    save_schedule,
    schedules_of,
    when,
)
from crm.security.permissions import ROLES, requires
from crm.toasts import toast
from crm.web import render, wants_fragment

THROTTLED = ("Too many report requests at once: wait a few seconds and try again. "
             "Nothing more was started.")


def _throttled(limit):
    """Flask-Limiter's breach answer for report requests: the page's message, 429."""
    body = render_template("reports/_throttled.html", message=THROTTLED)
    return Response(body, 429)


def _user_key():
    return f"reports:{current_user.id}"


class RunForm(FlaskForm):
    class Meta:
        csrf = True

    date_from = StringField("From", render_kw={"type": "date"})
    date_to = StringField("To", render_kw={"type": "date"})
    as_of = StringField("As of", render_kw={"type": "date"},
                        description="Empty: today (farm time).")
    group = SelectField("Group by", choices=choices(GROUPS), validate_choice=False)
    segment = SelectField("Segment", choices=[], validate_choice=False)


def _segment_choices():
    from crm.segments.services import segment_choices

    return [SelectChoice("", "Choose a segment"),
            *[SelectChoice(str(v), label) for v, label in segment_choices(current_user)]]


def run_form(report, formdata=None):
    form = RunForm(formdata=formdata)
    if "segment" in report.params:
        form.segment.choices = _segment_choices()
    return form


def _fields(report):
    names = []
    if "period" in report.params:
        names += ["date_from", "date_to"]
    return names + [p for p in report.params if p != "period"]


def _raw_params(report):
    """What was typed for the report's parameters (form names mapped to parameter names);
    any other field is kept as it came, so validation can refuse it by name."""
    ignored = {"csrf_token", "report", "form_key"}
    mapping = {"date_from": "from", "date_to": "to"}
    return {mapping.get(k, k): v for k, v in request.form.items() if k not in ignored}


def _index(report=None, form=None, status=200, run=None):
    reports = reports_for(current_user)
    if report is None and reports:
        report = reports[0]
    form = form if form is not None else (run_form(report) if report else None)
    return render("reports/index.html", "reports/_run_form.html", status, reports=reports,
                  report=report, form=form, fields=_fields(report) if report else [],
                  runs=history(current_user), run=run, title=title)


@bp.get("/reports")
@requires("reports.run")
def reports_page():
    """The reports one may run, the chosen one's form, and the history of one's runs."""
    key = request.args.get("report")
    if key:
        try:
            report = get_report(key)
        except ReportError as exc:
            return _refuse(None, str(exc), status=404)
        if not report.allowed(current_user):
            return _refuse(None, "You may not run this report: it shows what your role does "
                           "not see.", status=404)
        return _index(report)
    return _index()


@bp.post("/reports/runs")
@requires("reports.run")
@limiter.limit(lambda: current_app.config.get("REPORT_RATE_LIMIT", "5 per second"),
               key_func=_user_key, on_breach=_throttled)
def start():
    """Start a run of a report (its job gets the run's id only)."""
    try:
        report = get_report(request.form.get("report"))
    except ReportError as exc:
        return _refuse(None, str(exc))
    form = run_form(report, request.form)
    if not report.allowed(current_user):
        return _refuse(report, "You may not run this report: it shows what your role does "
                       "not see.", form, status=403)
    if not form.validate():
        return _index(report, form, 422)
    try:
        params = validate(report, _raw_params(report), current_user)
        run = request_run(report.key, params, current_user, actor=current_user.actor)
        db.session.commit()
    except ReportError as exc:
        db.session.rollback()
        return _refuse(report, str(exc), form)
    except QueueUnavailable as exc:
        db.session.rollback()
        return _refuse(report, str(exc), form, status=503)
    if not wants_fragment():
        return redirect(url_for(".run_status", run_id=run.id), 303)
    toast(f"{report.title}: started")
    return _index(report, run_form(report), run=run)


def _refuse(report, message, form=None, status=422):
    if report is None:
        return render("reports/index.html", "reports/_run_form.html", status,
                      reports=reports_for(current_user), report=None, form=None, fields=[],
                      runs=history(current_user), run=None, title=title, error=message)
    form = form or run_form(report)
    form.form_errors.append(message)
    return _index(report, form, status)


@bp.get("/reports/runs/<int:run_id>")
@requires("reports.run")
def run_status(run_id):
    """A run's progress (polled by its component until done: 286) and its downloads."""
    run = get_run(run_id, current_user)
    if run is None:
        abort(404)
    if run.job is not None and not run.job.done:
        sweep_stale_runs()
        db.session.refresh(run.job)
    context = {"run": run, "title": title}
    if wants_fragment():
        return render_template("reports/_run_status.html", **context), poll_status(run.job)
    return render_template("reports/run.html", **context)


@bp.get("/reports/runs/<int:run_id>/<any(csv, pdf):kind>")
@requires("reports.run")
def download(run_id, kind):
    """A run's CSV or PDF, for its owner (or its role) while they may still see its data."""
    run = get_run(run_id, current_user)
    if run is None or run.completed_at is None:
        abort(404)
    mark_read(run, current_user)
    record("report.download", "report_run", run.id, actor=current_user.actor, fields=(kind,))
    db.session.commit()
    from crm.downloads import download_headers

    size = run.csv_size if kind == "csv" else run.pdf_size
    chunks = stream_with_context(file_chunks(run, kind))  # a chunk in memory at a time
    mimetype = "text/csv" if kind == "csv" else "application/pdf"
    response = Response(chunks, mimetype=mimetype, headers={
        **download_headers(file_name(run, kind), inline=kind == "pdf"),
        "Content-Length": str(size)})
    return response


@bp.get("/reports/inbox")
@requires("reports.run")
def inbox_page():
    """Finished scheduled reports for me or my role, the unread first marked."""
    return render_template("reports/inbox.html", items=inbox(current_user), title=title)


# -- schedules --------------------------------------------------------------------------------

class ScheduleForm(FlaskForm):
    report = SelectField("Report", choices=[], validate_choice=False)
    period = SelectField("Period", choices=choices(PERIODS), validate_choice=False,
                         description="Resolved when the report runs.")
    frequency = SelectField("How often", choices=choices({"weekly": "Weekly",
                                                          "monthly": "Monthly"}),
                            validate_choice=False)
    weekday = SelectField("Weekday (weekly)", choices=choices({str(i): d for i, d in
                                                               enumerate(WEEKDAYS)}),
                          validate_choice=False)
    day = SelectField("Day of the month (monthly)",
                      choices=choices({**{str(i): str(i) for i in range(1, 29)}, "0": "Last day"}),
                      validate_choice=False)
    at_time = StringField("Time (farm time, HH:MM)", default="07:00",
                          render_kw={"inputmode": "numeric", "autocomplete": "off"})
    role = SelectField("For", choices=[], validate_choice=False,
                       description="Yourself, or everyone holding a role.")
    group = SelectField("Group sales by", choices=choices(GROUPS), validate_choice=False,
                        description="The sales report only.")


def schedule_form(formdata=None):
    form = ScheduleForm(formdata=formdata)
    form.report.choices = [SelectChoice(r.key, r.title) for r in reports_for(current_user)
                           if "segment" not in r.params]
    form.role.choices = [SelectChoice("", "Myself"),
                         *[SelectChoice(r, f"Role: {r}") for r in ROLES]]
    return form


def _schedules(form=None, status=200):
    return render("reports/schedules.html", "reports/_schedule_form.html", status,
                  form=form or schedule_form(), schedules=schedules_of(current_user),
                  when=when, periods=PERIODS, get_report=get_report)


@bp.get("/reports/schedules")
@requires("reports.run")
def schedules():
    """My report schedules and the form to add one."""
    return _schedules()


@bp.post("/reports/schedules")
@requires("reports.run")
def add_schedule():
    """Add a schedule; errors come back in the form (422) with what was typed."""
    form = schedule_form(request.form)
    if not form.validate():
        return _schedules(form, 422)
    params = {}
    try:
        report = get_report(form.report.data)
        if "group" in report.params:
            params["group"] = form.group.data
        schedule = save_schedule(current_user, report_key=report.key, params=params,
                                 period=form.period.data, frequency=form.frequency.data,
                                 weekday=form.weekday.data, day=form.day.data,
                                 at_time=form.at_time.data, role=form.role.data or None)
        db.session.commit()
    except ReportError as exc:
        db.session.rollback()
        if exc.field and exc.field in form:
            form[exc.field].errors = [*form[exc.field].errors, str(exc)]
        else:
            form.form_errors.append(str(exc))
        return _schedules(form, 422)
    message = f"Scheduled: {report.title}, {when(schedule).lower()}"
    if not wants_fragment():
        return redirect(url_for(".schedules"), 303)
    toast(message)
    return _schedules()


@bp.post("/reports/schedules/<int:schedule_id>/delete")
@requires("reports.run")
def remove_schedule(schedule_id):
    """Delete one of my schedules (the reports it made stay until they expire)."""
    schedule = get_schedule(schedule_id, current_user)
    if schedule is None:
        abort(404)
    delete_schedule(schedule)
    db.session.commit()
    if not wants_fragment():
        return redirect(url_for(".schedules"), 303)
    toast("Schedule deleted")
    return _schedules()
