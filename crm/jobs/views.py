from flask import abort, render_template
from flask_login import current_user

from crm.jobs import bp
from crm.jobs.progress import poll_status
from crm.jobs.services import get_run
from crm.security.permissions import can, requires
from crm.web import wants_fragment


@bp.get("/<int:run_id>")
@requires("jobs.view")
def progress(run_id):
    """A job run's progress; the htmx component polls itself and stops (286) once done."""
    run = get_run(run_id, owner=None if can(current_user, "admin.jobs") else current_user.actor)
    if run is None:
        abort(404)
    if wants_fragment():
        return render_template("jobs/_progress.html", run=run), poll_status(run)
    return render_template("jobs/run.html", run=run)
