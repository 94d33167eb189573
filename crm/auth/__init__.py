"""Staff users: sign-in with lockout, sessions, `flask users`."""
from flask import Blueprint

from crm.features import Feature

bp = Blueprint("auth", __name__, url_prefix="/auth", cli_group="users")

feature = Feature(
    name="auth",
    blueprints=(bp,),
    views=("crm.auth.views", "crm.auth.cli"),
    models=("crm.auth.models",),
    demo="crm.auth.demo:seed",
)
