"""Template helpers: the navigation, permission checks and display filters."""
from zoneinfo import ZoneInfo

from flask import current_app, g, request, url_for
from flask_login import current_user

from crm.common import farm_today
from crm.contacts.normalise import phone_display
from crm.security.permissions import PERMISSIONS, can


def overdue_follow_ups():
    """The number on the "Follow-ups" item: the signed-in person's overdue follow-ups."""
    from crm.communications.services import overdue_count

    return overdue_count(current_user.id, farm_today())


# (label, endpoint, permission, badge count or None). Items appear once their feature
# registers the endpoint.
NAV = [
    ("Customers", "customers.index", "customers.view", None),
    ("Contacts", "contacts.index", "contacts.view", None),
    ("Follow-ups", "communications.my_follow_ups", "communications.log", overdue_follow_ups),
    ("Tickets", "communications.tickets", "communications.view", None),
    ("Activity", "communications.activity", "communications.manage", None),
    ("Delivery sheets", "delivery.sheets", "delivery.view", None),
    ("Catalogue", "catalogue.index", "catalogue.manage", None),
    ("Credit", "credit.index", "credit.view", None),
    ("Reports", "reports.index", "reports.view", None),
    ("Admin", "admin.index", "admin.users", None),
]


def nav_items():
    items = []
    for label, endpoint, permission, badge in NAV:
        if endpoint in current_app.view_functions and permission in PERMISSIONS and can(
            current_user, permission
        ):
            url = url_for(endpoint)
            items.append({"label": label, "url": url, "id": endpoint.split(".")[-1],
                          "current": request.path == url or request.path.startswith(url + "/"),
                          "badge": badge() if badge and not g.get("error_page") else None})
    return items


def register_template_helpers(app):
    zone = ZoneInfo(app.config["FARM_TIMEZONE"])

    @app.context_processor
    def helpers():
        return {"nav_items": nav_items, "can": lambda p: can(current_user, p),
                "farm_today": farm_today}

    @app.template_filter("localdate")
    def localdate(value):
        return value.astimezone(zone).strftime("%b %-d, %Y") if value else ""

    @app.template_filter("localdatetime")
    def localdatetime(value):
        return value.astimezone(zone).strftime("%b %-d, %Y %-I:%M %p") if value else ""

    @app.template_filter("day")
    def day(value):
        """A calendar date (no time zone involved), e.g. "Tue Nov 24"."""
        return value.strftime("%a %b %-d") if value else ""

    @app.template_filter("age")
    def age(value, now):
        """How long ago, roughly: "just now", "12 min", "5 h", "3 days"."""
        minutes = max(int((now - value).total_seconds() // 60), 0)
        if minutes < 1:
            return "just now"
        if minutes < 60:
            return f"{minutes} min"
        if minutes < 48 * 60:
            return f"{minutes // 60} h"
        return f"{minutes // (24 * 60)} days"

    @app.template_filter("phone")
    def phone(value):
        return phone_display(value, app.config["DEFAULT_PHONE_REGION"]) if value else ""
