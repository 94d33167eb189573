from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from crm.admin import tasks, views  # noqa: E402,F401
