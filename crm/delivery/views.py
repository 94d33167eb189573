from datetime import date, timedelta

from flask import current_app, render_template, request
from sqlalchemy import select

from crm.catalogue.models import Route
from crm.catalogue.services import routes
from crm.common import farm_today
from crm.contacts.services import with_contacts
from crm.customers.services import customer_or_404
from crm.delivery import bp
from crm.delivery.services import delivery_sheet
from crm.extensions import db
from crm.pdf import pdf_response, stylesheet
from crm.preferences.services import preferences
from crm.security.permissions import requires


class SheetRequestError(ValueError):
    pass


def _sheet_args():
    """(day, route or None) from ?date=YYYY-MM-DD&route=NAME; clear errors for bad values."""
    raw = request.args.get("date", "")
    if raw:
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise SheetRequestError(f"“{raw[:20]}” is not a date; use YYYY-MM-DD, e.g. "
                                    f"{farm_today():%Y-%m-%d}.") from None
    else:
        day = farm_today() + timedelta(days=1)  # sheets are printed the day before
    route = None
    name = request.args.get("route", "").strip()
    if name:
        route = db.session.scalar(select(Route).where(Route.name == name))
        if route is None:
            raise SheetRequestError(f"There is no route called “{name[:60]}”.")
    return day, route


@bp.get("/sheets")
@requires("delivery.view")
def sheets():
    """The delivery preference sheets for a date (and route): print them, or get the PDF."""
    try:
        day, route = _sheet_args()
    except SheetRequestError as exc:
        return render_template("delivery/sheets.html", error=str(exc), routes=routes(),
                               day=None, route=None, sheet=None), 400
    return render_template("delivery/sheets.html", sheet=delivery_sheet(day, route), day=day,
                           route=route, routes=routes(), error=None)


@bp.get("/sheets.pdf")
@requires("delivery.view")
def sheets_pdf():
    """The same sheets as a PDF (WeasyPrint): a page break per route, totals at the end."""
    try:
        day, route = _sheet_args()
    except SheetRequestError as exc:
        return render_template("delivery/sheets.html", error=str(exc), routes=routes(),
                               day=None, route=None, sheet=None), 400
    html = render_template("delivery/sheet_document.html", sheet=delivery_sheet(day, route),
                           css=stylesheet(current_app.static_folder, "sheet.css"),
                           external_links=True)
    name = f"delivery-{day:%Y-%m-%d}{'-' + route.name.lower().replace(' ', '-') if route else ''}.pdf"
    return pdf_response(html, name)  # the same HTML printed lately: that PDF (crm.pdf)


@bp.get("/customers/<int:customer_id>")
@requires("delivery.view")
def customer_sheet(customer_id):
    """One customer's preference sheet on one printed page."""
    customer = customer_or_404(customer_id, load=with_contacts(details=True))
    return render_template("delivery/customer_sheet.html", customer=customer,
                           prefs=preferences(customer.id))
