"""Background jobs: JobRun, enqueue/execute, the progress component, `flask worker`."""
from flask import Blueprint

from crm.features import Feature
from crm.security.permissions import ROLES

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

feature = Feature(
    name="jobs",
    blueprints=(bp,),
    views=("crm.jobs.views",),
    models=("crm.jobs.models",),
    permissions={"jobs.view": set(ROLES)},
    cli=("crm.jobs.cli:worker_command", "crm.jobs.cli:cron_cli"),
)
