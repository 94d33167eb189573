"""Toasts: an HX-Trigger event for in-place htmx swaps, a flashed message otherwise."""
import json

from flask import after_this_request, flash, redirect

from crm.extensions import htmx


def toast(message: str, level: str = "success", events: dict | None = None):
    """Show a short confirmation after this (swapping) response; `events`: other htmx events
    to trigger with it (e.g. a list that reloads itself). The message carries no PII: without
    htmx it is flashed into the session cookie (signed, not encrypted), with htmx it is a
    response header. Name records by number or id (CUST-00042, Contact.reference)."""
    if not htmx:
        flash(message, level)
        return

    @after_this_request
    def _trigger(response):
        trigger = {"toast": {"message": message, "level": level}, **(events or {})}
        response.headers["HX-Trigger"] = json.dumps(trigger)
        return response


def redirect_with(url: str, message: str, level: str = "success"):
    """Go to `url` and show the message there: a full-page load for htmx, a 303 otherwise.
    The message is flashed into the session cookie, so it carries no PII (see toast)."""
    flash(message, level)
    if htmx:
        return "", 204, {"HX-Redirect": url}
    return redirect(url, 303)
