"""Template helpers: the navigation, permission checks and display filters."""
from zoneinfo import ZoneInfo

from flask import current_app, render_template, request, url_for
from flask_login import current_user
from jinja2 import pass_context

from crm.common import farm_today, load
from crm.extensions import htmx
from crm.features import registry
from crm.money import format_money
from crm.normalise import phone_display
from crm.security.permissions import can
from crm.web import id_url


def nav_items(user=None):
    """The navigation items the signed-in user (or `user`) may open (declared by the
    features)."""
    user = current_user if user is None else user
    items = []
    for item in registry().nav:
        if (item.endpoint in current_app.view_functions and can(user, item.permission)
                and not (item.unless and can(user, item.unless))):
            url = url_for(item.endpoint)
            items.append({"label": item.label, "url": url, "id": item.id,
                          "current": False, "has_badge": item.badge is not None})
    # The section of the page: the item whose URL is the longest prefix of the path
    # ("/customers/" for /customers/5/contacts), one at most, never "/" for every page.
    def within(url):
        return request.path == url or (url != "/" and request.path.startswith(url.rstrip("/") + "/"))
    here = max((i for i in items if within(i["url"])), key=lambda i: len(i["url"]), default=None)
    if here:
        here["current"] = True
    return items


def badges(user) -> list[dict]:
    """Every badge the user's navigation shows, with its number (None = nothing to show)."""
    return [{"id": item.id, "badge": load(item.badge)(user), "label": item.badge_label}
            for item in registry().nav
            if item.badge and item.endpoint in current_app.view_functions
            and can(user, item.permission)]


def with_badges(response):
    """Add the out-of-band refresh of the navigation's badges to an htmx answer (after an
    action that may change their numbers)."""
    html, status = response if isinstance(response, tuple) else (response, 200)
    if not htmx:
        return html, status
    return html + render_badges(current_user), status


def render_badges(user) -> str:
    return "".join(render_template("layouts/_nav_badge.html", item=item, oob=True)
                   for item in badges(user))


def customer_tabs() -> dict:
    """The customer page's tabs, {key: Tab}, in their declared order."""
    return registry().tabs


def register_template_helpers(app):
    zone = ZoneInfo(app.config["FARM_TIMEZONE"])

    app.jinja_env.globals["id_url"] = id_url

    @app.context_processor
    def helpers():
        user = current_user._get_current_object()  # once a page, not through the proxy each time
        return {"nav_items": lambda: nav_items(user), "customer_tabs": customer_tabs,
                "can": lambda p: can(user, p), "farm_today": farm_today,
                "may_see_money": may_see_money(user)}

    def may_see_money(user) -> bool:
        return getattr(user, "role", None) is None or can(user, "credit.amounts")

    @app.template_filter("money")
    @pass_context
    def money(context, minor):
        """An amount in the farm's currency ($1,234.50). Only for roles that may see money
        (credit.amounts): a template showing one to anyone else fails loudly instead. (Who
        the viewer is comes with the page, asked once; a template rendered without the
        page's helpers asks here.)"""
        allowed = context.get("may_see_money")
        if allowed is None:
            allowed = may_see_money(current_user._get_current_object())
        if not allowed:
            raise PermissionError("an amount in a page for a role that may not see money")
        return format_money(minor)

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
