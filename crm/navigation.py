"""Template helpers: the navigation, permission checks and display filters."""
from zoneinfo import ZoneInfo

from flask import current_app, request, url_for
from flask_login import current_user

from crm.contacts.normalise import phone_display
from crm.security.permissions import PERMISSIONS, can

# (label, endpoint, permission). Items appear once their feature registers the endpoint.
NAV = [
    ("Customers", "customers.index", "customers.view"),
    ("Contacts", "contacts.index", "contacts.view"),
    ("Delivery sheets", "delivery.sheets", "delivery.view"),
    ("Activity", "communications.activity", "communications.view"),
    ("Credit", "credit.index", "credit.view"),
    ("Reports", "reports.index", "reports.view"),
    ("Admin", "admin.index", "admin.users"),
]


def nav_items():
    items = []
    for label, endpoint, permission in NAV:
        if endpoint in current_app.view_functions and permission in PERMISSIONS and can(
            current_user, permission
        ):
            blueprint = endpoint.split(".")[0]
            items.append({"label": label, "url": url_for(endpoint),
                          "current": request.blueprint == blueprint})
    return items


def register_template_helpers(app):
    zone = ZoneInfo(app.config["FARM_TIMEZONE"])

    @app.context_processor
    def helpers():
        return {"nav_items": nav_items, "can": lambda p: can(current_user, p)}

    @app.template_filter("localdate")
    def localdate(value):
        return value.astimezone(zone).strftime("%b %-d, %Y") if value else ""

    @app.template_filter("localdatetime")
    def localdatetime(value):
        return value.astimezone(zone).strftime("%b %-d, %Y %-I:%M %p") if value else ""

    @app.template_filter("phone")
    def phone(value):
        return phone_display(value, app.config["DEFAULT_PHONE_REGION"]) if value else ""
