"""Reports: dashboards with widgets per user, charts drawn on the server as SVG, the sowing
and packing plan, reports run as background jobs into stored files, and their schedules."""
from flask import Blueprint

from crm.features import Feature, NavItem

bp = Blueprint("reports", __name__)

feature = Feature(
    name="reports",
    blueprints=(bp,),
    views=(
        "crm.reports.sowing_views",  # /sowing: the sowing and packing plan
    ),
    permissions={
        # run reports and download one's own (what a report shows follows the viewer's
        # other permissions: amounts only for credit.amounts)
        "reports.run": {"admin", "manager", "sales", "finance"},
        # the sowing and packing plan: trays and containers, no money, no customer names
        "sowing.view": {"admin", "manager", "grower"},
    },
    nav=(
        NavItem("Sowing plan", "reports.sowing", "sowing.view", order=55),
    ),
)
