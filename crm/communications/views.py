from datetime import datetime, time, timedelta

from flask import abort, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm.auth.models import StaffUser
from crm.common import MAX_ID
from crm.communications import bp
from crm.communications.forms import QuickLogForm, farm_zone
from crm.communications.models import CHANNELS
from crm.communications.services import InteractionError, last_channel, log_interaction, timeline
from crm.customers.forms import choices
from crm.customers.services import get_customer
from crm.customers.tabs import TABS
from crm.extensions import db, htmx
from crm.security.permissions import can, requires
from crm.toasts import toast


def _customer(customer_id):
    customer = get_customer(customer_id, contacts=True)
    if customer is None:
        abort(404)
    return customer


def _contact_choices(customer):
    people = {link.contact_id: link.contact.full_name for link in customer.contact_links}
    return choices({"": "— nobody in particular —", **{str(k): v for k, v in people.items()}})


def _filters(args):
    """Timeline filters from the query string; bad values are ignored, not errors."""
    def day(name):
        try:
            return datetime.strptime(args.get(name, ""), "%Y-%m-%d").date()
        except ValueError:
            return None

    staff = args.get("staff", "")
    return {
        "channel": args.get("channel") if args.get("channel") in CHANNELS else "",
        "staff": int(staff) if staff.isdigit() and int(staff) <= MAX_ID else None,
        "from": day("from"),
        "to": day("to"),
    }


def _timeline(customer, filters, before=None):
    """(entries, URL of the next page or None) under the filters, dates in the farm's zone."""
    zone = farm_zone()
    since = datetime.combine(filters["from"], time(), zone) if filters["from"] else None
    until = (datetime.combine(filters["to"] + timedelta(days=1), time(), zone)
             if filters["to"] else None)
    found, cursor = timeline(customer.id, before=before, channel=filters["channel"],
                             staff_id=filters["staff"], since=since, until=until)
    more_url = url_for(
        "communications.entries", customer_id=customer.id, before=cursor,
        **{k: v for k, v in filters.items() if v},
    ) if cursor else None
    return found, more_url


def _render_panel(customer, form, status=200):
    filters = _filters(request.args)
    entries, more_url = _timeline(customer, filters)
    staff = db.session.scalars(select(StaffUser).order_by(StaffUser.id)).all()
    context = dict(customer=customer, tab="communications", tabs=TABS, form=form,
                   entries=entries, more_url=more_url, filters=filters, staff=staff,
                   channels=CHANNELS, can_log=can(current_user, "communications.log"))
    if htmx and not htmx.history_restore_request:
        return render_template("customers/_tab.html", **context), status
    return render_template("customers/detail.html", **context), status


@bp.get("/customers/<int:customer_id>/communications")
@requires("communications.view")
def panel(customer_id):
    """A customer's Communications tab: the quick log and the timeline."""
    customer = _customer(customer_id)
    form = QuickLogForm(formdata=None)
    form.contact_id.choices = _contact_choices(customer)
    form.set_defaults(customer, last_channel(current_user.id))
    return _render_panel(customer, form)


@bp.get("/customers/<int:customer_id>/communications/entries")
@requires("communications.view")
def entries(customer_id):
    """More timeline entries (click to load), or the timeline under new filters."""
    customer = _customer(customer_id)
    filters = _filters(request.args)
    before = request.args.get("before")
    found, more_url = _timeline(customer, filters, before=before)
    template = "communications/_entries.html" if before else "communications/_timeline.html"
    return render_template(template, customer=customer, entries=found, more_url=more_url,
                           filters=filters)


@bp.post("/customers/<int:customer_id>/communications")
@requires("communications.log")
def log(customer_id):
    """Log an interaction; the panel comes back with the entry on top and a fresh form."""
    customer = _customer(customer_id)
    form = QuickLogForm()
    form.contact_id.choices = _contact_choices(customer)
    if form.validate_on_submit():
        try:
            log_interaction(customer, form.data_for_service(), actor=current_user)
        except InteractionError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            toast("Logged.")
            fresh = QuickLogForm(formdata=None)
            fresh.contact_id.choices = form.contact_id.choices
            fresh.set_defaults(customer, form.channel.data)
            return _render_panel(customer, fresh)
    return _render_panel(customer, form, status=422)
