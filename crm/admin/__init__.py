"""Admins: staff users, job runs, maintenance, the RQ dashboard, key rotation."""
from flask import Blueprint

from crm.features import Feature, NavItem

bp = Blueprint("admin", __name__, url_prefix="/admin")

feature = Feature(
    name="admin",
    blueprints=(bp,),
    views=("crm.admin.views",),
    permissions={"admin.users": {"admin"}, "admin.jobs": {"admin"}},
    nav=(NavItem("Admin", "admin.index", "admin.users", order=100),),
    jobs={"security.reindex": "crm.admin.tasks:reindex_job"},
    cli=("crm.security.cli:crypto_cli",),
    setup="crm.admin.dashboard:register_rq_dashboard",
)
