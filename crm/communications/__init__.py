from flask import Blueprint

bp = Blueprint("communications", __name__)

from crm.communications import views  # noqa: E402,F401
