from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth", cli_group="users")

from crm.auth import cli, views  # noqa: E402,F401
