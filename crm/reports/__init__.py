"""Reports: dashboards with widgets per user, charts drawn on the server as SVG, the sowing
and packing plan, reports run as background jobs into stored files, and their schedules."""
from flask import Blueprint

from crm.features import Feature, NavItem
from crm.security.permissions import ROLES

bp = Blueprint("reports", __name__)

feature = Feature(
    name="reports",
    blueprints=(bp,),
    views=("crm.reports.dashboard_views",),
    models=("crm.reports.dashboard_models",),
    permissions={
        # run reports and download one's own (what a report shows follows the viewer's
        # other permissions: amounts only for credit.amounts)
        "reports.run": {"admin", "manager", "sales", "finance"},
        # one's own dashboard (each widget asks for its own permission as well)
        "reports.dashboard": set(ROLES),
    },
    nav=(NavItem("Dashboard", "reports.dashboard", "reports.dashboard", order=1),),
    jobs={"reports.refresh_dashboards": "crm.reports.dashboard:refresh_job"},
    cli=("crm.reports.dashboard_cli:reports_cli",),
)
