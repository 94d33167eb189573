from flask import abort, current_app, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from crm.admin import bp
from crm.admin.dashboard import dashboard_url
from crm.admin.forms import ROLE_LABELS, STATUSES, NewStaffUserForm, StaffUserForm
from crm.auth.models import StaffUser
from crm.auth.services import StaffUserError, create_user, update_staff_user
from crm.common import ConflictError
from crm.extensions import db, htmx
from crm.jobs.models import JobRun
from crm.jobs.progress import poll_status
from crm.jobs.services import enqueue
from crm.security.permissions import requires
from crm.toasts import redirect_with, toast
from crm.web import claim, created, render, replayed


@bp.get("/")
@requires("admin.users")
def index():
    """Admin home: staff users, recent background jobs, maintenance."""
    staff = dict(db.session.execute(select(StaffUser.active, func.count())
                                    .group_by(StaffUser.active)).all())
    runs = db.session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(10)).all()
    return render_template(
        "admin/index.html", active=staff.get(True, 0), disabled=staff.get(False, 0), runs=runs,
        form=FlaskForm(),
        rq_dashboard="rq_dashboard.queues_overview" in current_app.view_functions,
        rq_url=dashboard_url(),
    )


@bp.post("/reindex")
@requires("admin.jobs")
def reindex():
    """Start rebuilding the blind indexes; answers with the self-polling progress component."""
    run = enqueue("security.reindex", actor=current_user.actor)
    db.session.commit()  # the job starts once the run is saved
    toast("Rebuilding the search indexes.")
    if htmx:
        return render_template("jobs/_progress.html", run=run), poll_status(run)
    return redirect_with(url_for("jobs.progress", run_id=run.id), "Rebuilding the search indexes.")


# -- staff users -----------------------------------------------------------------------------
# Toasts and flashes name users by id and role only: a flash rides in the session cookie,
# which is signed, not encrypted.

def _users_page(form, status=200):
    """The staff list with the add form (the form alone for htmx), as `form` stands."""
    users = db.session.scalars(select(StaffUser).order_by(StaffUser.active.desc(),
                                                          StaffUser.id)).all()
    return render("admin/users.html", "admin/_new_user_form.html", status, form=form,
                  users=users, roles=ROLE_LABELS)


def _refused(form, error: StaffUserError, fields: dict | None = None):
    """Put a service's refusal on the form field it is about (`fields`: service field name
    -> form field name), else on the form as a whole."""
    db.session.rollback()
    name = (fields or {}).get(error.field, error.field)
    if name in form:
        form[name].errors = [*form[name].errors, str(error)]
    else:
        form.form_errors.append(str(error))


@bp.get("/users/")
@requires("admin.users")
def users():
    """Staff users: who they are, their role, status and last sign-in; the form to add one."""
    return _users_page(NewStaffUserForm())


@bp.post("/users/")
@requires("admin.users")
def add_user():
    """Add a staff user, by the rules of `flask users create`; a refusal keeps what was typed
    (but the passwords)."""
    form = NewStaffUserForm()
    if (again := replayed(form)) is not None:  # sent twice: added once
        return again
    if form.validate_on_submit():
        if (again := claim(form)) is not None:
            return again
        try:
            user = create_user(form.email.data, form.name.data or "", form.role.data,
                               form.password.data, actor=current_user.actor)
        except StaffUserError as exc:
            _refused(form, exc)
        else:
            created(form, url_for("admin.edit_user", user_id=user.id))
            db.session.commit()
            return redirect_with(url_for("admin.users"), f"Staff user #{user.id} added with "
                                 f"the {ROLE_LABELS[user.role]} role.")
    return _users_page(form, 422)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("admin.users")
def edit_user(user_id):
    """One staff user: change their role, disable or re-enable them (ending their sessions);
    a save over another admin's newer change is refused (409), not applied."""
    user = db.session.get(StaffUser, user_id)
    if user is None:
        abort(404)
    form = StaffUserForm(data={"role": user.role, "status": _status(user),
                               "version": user.version} if request.method == "GET" else None)
    conflict = None
    if form.validate_on_submit():
        try:
            changed = update_staff_user(user, role=form.role.data,
                                        active=form.status.data == "active",
                                        expected_version=form.version.data,
                                        actor=current_user.actor)
        except ConflictError:
            db.session.rollback()  # and `user` reads what the other admin saved
            conflict = _conflict(form, user)
        except StaffUserError as exc:
            _refused(form, exc, {"active": "status"})
        else:
            db.session.commit()
            return redirect_with(url_for("admin.users"), _saved_message(user, changed))
    status = 409 if conflict is not None else 422 if form.errors else 200
    return render("admin/user.html", "admin/_user_form.html", status, form=form, user=user,
                  conflict=conflict, roles=ROLE_LABELS)


def _status(user) -> str:
    return "active" if user.active else "disabled"


def _conflict(form, current) -> dict:
    """What the other admin saved that differs from this form ({label: value}); the form
    moves on to their version, so saving again is a deliberate overwrite."""
    saved = {"role": (current.role, ROLE_LABELS), "status": (_status(current), STATUSES)}
    differences = {form[name].label.text: labels.get(value, value)
                   for name, (value, labels) in saved.items() if form[name].data != value}
    form.version.data = current.version
    return differences


def _saved_message(user, changed: list[str]) -> str:
    """The toast after a save: by id and role, never by name or email."""
    who, role = f"Staff user #{user.id}", ROLE_LABELS[user.role]
    if not changed:
        return "Nothing changed."
    if changed == ["role"]:
        return f"{who} now has the {role} role. Their sessions have ended."
    if not user.active:
        also = f" and given the {role} role" if "role" in changed else ""
        return f"{who} disabled{also}. Their sessions have ended."
    also = f" with the {role} role" if "role" in changed else ""
    return f"{who} re-enabled{also}: they can sign in again."
