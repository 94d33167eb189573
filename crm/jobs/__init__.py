from flask import Blueprint

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

from crm.jobs import views  # noqa: E402,F401
