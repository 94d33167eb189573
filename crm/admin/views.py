from flask import abort, current_app, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from crm.admin import bp
from crm.auth.models import StaffUser
from crm.auth.services import disable_user
from crm.extensions import db, htmx
from crm.jobs.models import JobRun
from crm.jobs.progress import poll_status
from crm.jobs.services import enqueue
from crm.security.permissions import requires
from crm.toasts import redirect_with, toast


@bp.get("/")
@requires("admin.users")
def index():
    """Admin home: staff users, recent background jobs, maintenance."""
    users = db.session.scalars(select(StaffUser).order_by(StaffUser.id)).all()
    runs = db.session.scalars(select(JobRun).order_by(JobRun.id.desc()).limit(10)).all()
    return render_template(
        "admin/index.html", users=users, runs=runs, form=FlaskForm(),
        rq_dashboard="rq_dashboard.queues_overview" in current_app.view_functions,
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


@bp.post("/users/<int:user_id>/disable")
@requires("admin.users")
def disable(user_id):
    """Disable a staff user and end their sessions."""
    user = db.session.get(StaffUser, user_id)
    if user is None:
        abort(404)
    if user.id == current_user.id:
        return redirect_with(url_for("admin.index"), "You cannot disable yourself.", "error")
    disable_user(user, actor=current_user.actor)
    db.session.commit()
    return redirect_with(url_for("admin.index"), "User disabled; their sessions have ended.")
