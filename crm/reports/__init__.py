"""Reports: dashboards with widgets per user, charts drawn on the server as SVG, the sowing
and packing plan, reports run as background jobs into stored files, and their schedules."""
from flask import Blueprint

from crm.features import Feature, NavItem
from crm.security.permissions import ROLES

bp = Blueprint("reports", __name__)

feature = Feature(
    name="reports",
    blueprints=(bp,),
    models=("crm.reports.models", "crm.reports.dashboard_models"),
    views=("crm.reports.views", "crm.reports.dashboard_views",
           "crm.reports.sowing_views"),  # /sowing: the sowing and packing plan
    # the dashboard first; report runs (history, downloads) and the inbox of scheduled ones,
    # its unread count; the sowing plan
    nav=(NavItem("Dashboard", "reports.dashboard", "reports.dashboard", order=1),
         NavItem("Reports", "reports.reports_page", "reports.run", order=70,
                 badge="crm.reports.runs:unread_badge", badge_label="new in the inbox"),
         NavItem("Sowing plan", "reports.sowing", "sowing.view", order=55)),
    jobs={"report_run": "crm.reports.runs:report_job",
          "reports_cleanup": "crm.reports.runs:cleanup_job",
          "reports_due": "crm.reports.schedules:due_job",  # run_due, as a job
          "reports.refresh_dashboards": "crm.reports.dashboard:refresh_job"},
    cli=("crm.reports.dashboard_cli:reports_cli",),
    # flask cron (farm time): schedules that came due, each once; the dashboards' cached
    # numbers counted again; expired report files gone
    periodic={"reports_due": ("crm.reports.schedules:run_due", "* * * * *"),
              "dashboards_refresh": ("reports.refresh_dashboards", "15 3 * * *"),
              "reports_cleanup": ("reports_cleanup", "30 3 * * *")},
    permissions={
        # run reports and download one's own (what a report shows follows the viewer's
        # other permissions: amounts only for credit.amounts)
        "reports.run": {"admin", "manager", "sales", "finance"},
        # the sowing and packing plan: trays and containers, no money, no customer names
        "sowing.view": {"admin", "manager", "grower"},
        # one's own dashboard (each widget asks for its own permission as well); the
        # grower's home is the sowing plan
        "reports.dashboard": set(ROLES) - {"grower"},
    },
)
