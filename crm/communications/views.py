from datetime import datetime, time, timedelta
from functools import cache

from flask import abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from crm.audit.services import found
from crm.auth.models import StaffUser
from crm.common import (
    ConflictError,
    accepts_uploads,
    farm_today,
    farm_zone,
    utcnow,
)
from crm.communications import bp
from crm.communications.eml import EmlError, parse_eml
from crm.communications.forms import (
    EmailFileForm,
    ReplyForm,
    contact_log_form,
    entry_form,
    new_ticket_form,
    primary_contact_id,
    quick_log_form,
    reschedule_form,
    ticket_form,
)
from crm.communications.models import CHANNELS, TICKET_STATUSES
from crm.communications.services import (
    PRIORITY_SORTS,
    TICKETS_PAGE_SIZE,
    InteractionError,
    Priority,
    assignable_staff,
    complete_follow_up,
    customer_ranks,
    decode_cursor,
    deleted_entries,
    follow_ups,
    get_entry,
    get_ticket,
    last_channel,
    log_email,
    log_interaction,
    may_change,
    open_ticket,
    overdue_by_person,
    people_to_call,
    priority_available,
    reschedule_follow_up,
    set_deleted,
    snooze_dates,
    staff_list,
    thread,
    timeline,
    update_interaction,
    update_ticket,
)
from crm.communications.services import tickets as list_tickets
from crm.contacts.pages import contact_page
from crm.contacts.services import get_contact, with_contacts
from crm.customers.models import Customer
from crm.customers.services import (
    ArchivedError,
    customer_or_404,
    get_customer,
    search_customers,
)
from crm.extensions import db, htmx
from crm.features import RANK_RISKS, RANK_TIERS
from crm.navigation import with_badges
from crm.security.permissions import can, requires
from crm.toasts import redirect_with, toast
from crm.web import arg_id, claim, created, replayed, save_form, wants_fragment

LOG_ERRORS = (InteractionError, ArchivedError)  # what the service says is shown on the form
EMAIL_FILE_LIMIT = 10 * 2**20  # an .eml with attachments; larger is refused with a message


@bp.app_context_processor
def _helpers():
    user = current_user._get_current_object()  # once per page, not once per entry
    return {"may_change": lambda entry: may_change(user, entry)}


def _customer(customer_id):
    return customer_or_404(customer_id, overview=False, load=with_contacts())


@cache  # built on first use, once every model is mapped
def _tab_customer_statement():
    """The Communications tab's customer with the page header's owner and parent, in one
    statement built once (the quick log, which needs its people, is fetched on its own)."""
    return (select(Customer).where(Customer.id == bindparam("customer_id"))
            .options(joinedload(Customer.owner), joinedload(Customer.parent)))


def _tab_customer(customer_id):
    customer = db.session.scalars(_tab_customer_statement(), {"customer_id": customer_id})
    return found(customer.unique().one_or_none(), "customer", customer_id)


def _contact(contact_id):
    return found(get_contact(contact_id), "contact", contact_id)


# -- timelines -------------------------------------------------------------------------------

def _filters():
    """Timeline filters from the query string: a bad date or channel is ignored; an id that is
    not one is a 404 (crm.web.arg_id)."""
    args = request.args

    def day(name):
        try:
            found = datetime.strptime(args.get(name, ""), "%Y-%m-%d").date()
        except ValueError:
            return None
        return found if 2000 <= found.year <= 2100 else None

    return {
        "customer": arg_id("customer"),
        "contact": arg_id("contact"),
        "channel": args.get("channel") if args.get("channel") in CHANNELS else "",
        "staff": arg_id("staff"),
        "from": day("from"),
        "to": day("to"),
    }


def _before():
    """The `before` cursor of "Show older entries" (None for the first page); one that is not a
    cursor is a 404, like an id that is not one."""
    before = request.args.get("before") or None
    if before is not None and decode_cursor(before) is None:
        abort(404)
    return before


def _timeline(filters, before=None):
    """(entries, URL of the next page or None) under the filters, dates in the farm's zone."""
    zone = farm_zone()
    since = datetime.combine(filters["from"], time(), zone) if filters["from"] else None
    until = (datetime.combine(filters["to"] + timedelta(days=1), time(), zone)
             if filters["to"] else None)
    found, cursor = timeline(customer_id=filters["customer"], contact_id=filters["contact"],
                             before=before, channel=filters["channel"],
                             staff_id=filters["staff"], since=since, until=until)
    endpoint = ("communications.entries" if filters["customer"] or filters["contact"]
                else "communications.activity")
    more_url = url_for(endpoint, before=cursor, **{k: v for k, v in filters.items() if v}
                       ) if cursor else None
    return found, more_url


def _timeline_context(filters, staff=None):
    """What the timeline with its filters shows; `staff`: staff_list(), if already loaded."""
    entries, more_url = _timeline(filters)
    staff = staff_list() if staff is None else staff
    return dict(entries=entries, more_url=more_url, filters=filters, staff=staff,
                channels=CHANNELS, show_customer=not filters["customer"])


def _entries_page(filters):
    """The answer to "Show older entries" or to changed filters: a fragment of the timeline."""
    before = _before()
    found, more_url = _timeline(filters, before=before)
    context = dict(entries=found, more_url=more_url, filters=filters,
                   show_customer=not filters["customer"])
    if not wants_fragment():  # without JavaScript: the same entries on a page of their own
        return render_template("communications/entries_page.html", **context)
    template = "communications/_entries.html" if before else "communications/_timeline.html"
    return render_template(template, **context)


@bp.get("/timeline")
@requires("communications.view")
def entries():
    """A customer's or a contact's timeline entries (?customer= or ?contact=)."""
    filters = _filters()
    if not (filters["customer"] or filters["contact"]):
        abort(400)
    return _entries_page(filters)


@bp.get("/activity")
@requires("communications.manage")
def activity():
    """Everything logged with every customer, newest first."""
    filters = {**_filters(), "customer": None, "contact": None}
    if wants_fragment():
        return _entries_page(filters)
    return render_template("communications/activity.html", **_timeline_context(filters))


# -- the customer's Communications tab -------------------------------------------------------

def _render_panel(customer, form=None, status=200, upload=None, staff=None, unfolded=None):
    """The tab (a page, or its panel for htmx); `staff`: staff_list(), if already loaded.
    Without `form` or `upload` that form's fold fetches it when first opened; `unfolded`
    names the fold shown open ("quick-log", "email-file") when its form has no errors."""
    filters = {**_filters(), "customer": customer.id, "contact": None}
    context = dict(customer=customer, tab="communications", form=form, upload=upload,
                   unfolded=unfolded,
                   quick_log_url=url_for("communications.quick_log", customer_id=customer.id),
                   log_action=url_for("communications.log", customer_id=customer.id),
                   can_log=can(current_user, "communications.log"),
                   **_timeline_context(filters, staff))
    if wants_fragment():
        return render_template("customers/_tab.html", **context), status
    return render_template("customers/detail.html", **context), status


def _fresh_quick_log(customer, staff=None):
    """An empty quick log with its defaults: now, the primary contact, the last channel."""
    form = quick_log_form(customer, assignable_staff(staff))
    form.set_defaults(primary_contact_id(customer), last_channel(current_user.id))
    return form


def _logged_message(entry):
    return f"Opened {entry.ticket.number}." if entry.ticket is not None else "Logged."


@bp.get("/customers/<int:customer_id>/communications")
@requires("communications.view")
def panel(customer_id):
    """A customer's Communications tab: the quick log (folded) and the timeline."""
    return _render_panel(_tab_customer(customer_id))


def _loggable_customer(customer_id):
    """The customer a log form is opened for, or None when it is archived (no form then)."""
    customer = _customer(customer_id)
    return None if customer.is_archived else customer


@bp.get("/customers/<int:customer_id>/communications/log")
@requires("communications.log")
def quick_log(customer_id):
    """The quick log's form: for htmx, the form alone (its fold has just been opened);
    otherwise the tab with the form unfolded."""
    if (customer := _loggable_customer(customer_id)) is None:
        return redirect(url_for("communications.panel", customer_id=customer_id))
    if wants_fragment():
        return render_template(
            "communications/_quick_log_form.html", form=_fresh_quick_log(customer),
            log_target="#tab-panel", log_swap="innerHTML",
            log_action=url_for("communications.log", customer_id=customer.id))
    staff = staff_list()  # for the filters and the follow-up's choices: one query
    return _render_panel(customer, _fresh_quick_log(customer, staff), staff=staff,
                         unfolded="quick-log")


@bp.get("/customers/<int:customer_id>/communications/email-file")
@requires("communications.log")
def email_file(customer_id):
    """The form for an .eml file, as the quick log's (above)."""
    if (customer := _loggable_customer(customer_id)) is None:
        return redirect(url_for("communications.panel", customer_id=customer_id))
    upload = EmailFileForm(formdata=None)
    if wants_fragment():
        return render_template("communications/_email_file_form.html", customer=customer,
                               upload=upload)
    return _render_panel(customer, upload=upload, unfolded="email-file")


@bp.post("/customers/<int:customer_id>/communications")
@requires("communications.log")
def log(customer_id):
    """Log an interaction; the panel comes back with the entry on top and a fresh form."""
    customer = _customer(customer_id)
    form = quick_log_form(customer, assignable_staff(), formdata=request.form)

    def logged(entry):
        toast(_logged_message(entry))
        return with_badges(_render_panel(customer))  # the fold closed, its next form fresh

    return save_form(
        form, lambda: log_interaction(customer, form.data_for_service(), actor=current_user.actor),
        success=logged, failure=lambda: _render_panel(customer, form, status=422),
        errors=LOG_ERRORS, result_url=_entry_url)


def _entry_url(entry):
    """Where a logged entry is shown: on its customer's timeline."""
    return url_for("communications.panel", customer_id=entry.customer_id) + f"#entry-{entry.id}"


@bp.post("/customers/<int:customer_id>/communications/email-file")
@requires("communications.log")
@accepts_uploads(EMAIL_FILE_LIMIT)
def log_email_file(customer_id):
    """Log an email from an uploaded .eml file."""
    customer = _customer(customer_id)
    upload = EmailFileForm()
    if (again := replayed(upload)) is not None:
        return again
    if upload.validate_on_submit():
        if (again := claim(upload)) is not None:
            return again
        try:
            parsed = parse_eml(upload.file.data.read())
            entry = log_email(customer, parsed, actor=current_user.actor)
        except (EmlError, InteractionError, ArchivedError) as exc:
            db.session.rollback()
            upload.file.errors.append(str(exc))
        else:
            created(upload, _entry_url(entry))
            db.session.commit()
            toast(f"Email logged{' from ' + entry.contact.reference if entry.contact else ''}.")
            return _render_panel(customer)
    return _render_panel(customer, status=422, upload=upload)


# -- a contact's timeline (on the contact's page) --------------------------------------------

def contact_panel(contact, form=None):
    """What the contact page shows of communications (nothing without the permission)."""
    if not can(current_user, "communications.view"):
        return None
    if form is None:
        form = contact_log_form(contact, assignable_staff())
        form.set_defaults(None, last_channel(current_user.id))
    filters = {**_filters(), "customer": None, "contact": contact.id}
    return dict(form=form, can_log=can(current_user, "communications.log"),
                log_action=url_for("communications.log_for_contact", contact_id=contact.id),
                **_timeline_context(filters))


@bp.post("/contacts/<int:contact_id>/communications")
@requires("communications.log")
def log_for_contact(contact_id):
    """The quick log on a contact's page: an interaction with this person at one customer."""
    contact = _contact(contact_id)
    form = contact_log_form(contact, assignable_staff(), formdata=request.form)

    def log_it():
        data = {**form.data_for_service(), "contact_id": contact.id}
        return log_interaction(_customer(form.customer_id.data), data,
                               actor=current_user.actor)

    def logged(entry):
        toast(_logged_message(entry))
        return _contact_panel_response(_contact(contact_id), None, 200)

    return save_form(form, log_it, success=logged, errors=LOG_ERRORS,
                     failure=lambda: _contact_panel_response(contact, form, 422),
                     result_url=lambda entry: url_for("contacts.detail", contact_id=contact.id)
                     + f"#entry-{entry.id}")


def _contact_panel_response(contact, form, status):
    context = contact_panel(contact, form)
    if not wants_fragment():
        return contact_page(contact, status, replace={"communications/_contact_panel.html": context})
    return with_badges((render_template("communications/_contact_panel.html", contact=contact,
                                        **context), status))


# -- one entry: show, edit, delete, restore --------------------------------------------------

def _changeable(entry_id):
    entry = get_entry(entry_id)
    if entry is None:
        abort(404)
    if not may_change(current_user, entry):
        abort(403)
    return entry


def _render_entry(entry, status=200):
    return render_template("communications/_entry.html", e=entry,
                           show_customer=request.args.get("show_customer") == "1"), status


@bp.get("/interactions/<int:entry_id>")
@requires("communications.view")
def entry(entry_id):
    """One timeline item (what "Cancel" on the edit form goes back to)."""
    found = get_entry(entry_id)
    if found is None:
        abort(404)
    if not wants_fragment():
        return _back_to_timeline(found)
    return _render_entry(found)


def _back_to_timeline(found):
    url = url_for("communications.panel", customer_id=found.customer_id)
    return redirect(f"{url}#entry-{found.id}", 303)


@bp.route("/interactions/<int:entry_id>/edit", methods=["GET", "POST"])
@requires("communications.log")
def edit(entry_id):
    """Edit an entry in place in the timeline; managers may edit anyone's."""
    found = _changeable(entry_id)
    form = entry_form(found, _customer(found.customer_id), assignable_staff(),
                      formdata=request.form if request.method == "POST" else None)
    conflict = None
    if form.validate_on_submit():
        try:
            changed = update_interaction(found, form.data_for_service(), expected_version=form.version.data,
                                         actor=current_user.actor)
        except ConflictError as exc:
            conflict = exc.current
            form.version.data = conflict.version  # saving again is a deliberate overwrite
        except LOG_ERRORS as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            toast("Saved." if changed else "Nothing changed.")
            if not htmx:
                return _back_to_timeline(found)
            return with_badges(_render_entry(get_entry(entry_id)))
    status = 409 if conflict is not None else (422 if form.errors else 200)
    template = "communications/_entry_form.html" if wants_fragment() else "communications/edit_page.html"
    return render_template(template, e=found, form=form, conflict=conflict), status


@bp.post("/interactions/<int:entry_id>/delete")
@requires("communications.log")
def delete(entry_id):
    """Delete an entry (an admin can restore it); the item leaves the timeline."""
    found = _changeable(entry_id)
    set_deleted(found, True, actor=current_user.actor)
    db.session.commit()
    toast("Deleted. An admin can restore it.")
    if htmx:
        return with_badges("")
    return redirect(url_for("communications.panel", customer_id=found.customer_id), 303)


@bp.post("/interactions/<int:entry_id>/restore")
@requires("communications.restore")
def restore(entry_id):
    found = get_entry(entry_id, deleted=True)
    if found is None:
        abort(404)
    set_deleted(found, False, actor=current_user.actor)
    db.session.commit()
    toast("Restored to the timeline.")
    if htmx:
        return ""
    return redirect(url_for("communications.deleted"), 303)


@bp.get("/interactions/deleted")
@requires("communications.restore")
def deleted():
    """Deleted entries, newest deletion first, each restorable."""
    return render_template("communications/deleted.html", entries=deleted_entries())


# -- follow-ups ------------------------------------------------------------------------------

def _follow_up_scope():
    """Whose follow-ups the list shows, from ?assignee=: "" (mine, the default), "all"
    (everyone's) or a staff id; anyone else's only with communications.manage (else 403).
    Returns (assignee id or None for everyone's, the value for links and forms)."""
    raw = request.args.get("assignee", "")
    if raw in ("", "me") or raw == str(current_user.id):
        return current_user.id, ""
    if not can(current_user, "communications.manage"):
        abort(403)
    if raw == "all":
        return None, "all"
    staff_id = arg_id("assignee")
    if db.session.get(StaffUser, staff_id) is None:
        abort(404)
    return staff_id, str(staff_id)


def _render_follow_ups(status=200, forms=None):
    """The follow-ups list under the scope; `forms`: {entry id: a reschedule form as sent}."""
    today = farm_today()
    assignee_id, scope = _follow_up_scope()
    priority = Priority.from_args(request.args)
    found = follow_ups(assignee_id, priority=priority)
    groups = {
        "Overdue": [e for e in found if e.follow_up_due < today],
        "Due today": [e for e in found if e.follow_up_due == today],
        "Coming up": [e for e in found if e.follow_up_due > today],
    }
    forms = {**{e.id: reschedule_form(e) for e in found}, **(forms or {})}
    team = can(current_user, "communications.manage")
    whose = (None if assignee_id == current_user.id
             else db.session.get(StaffUser, assignee_id) if assignee_id else "all")
    return render_template(
        "communications/follow_ups.html", groups=groups, today=today, forms=forms,
        people=people_to_call(found), snooze=lambda e: snooze_dates(e, today), scope=scope,
        whose=whose, team=team, staff=assignable_staff() if team else [],
        overdue=overdue_by_person(today) if team else [],
        **_priority_context(priority, found),
    ), status


def _priority_context(priority, found):
    """What a list needs to filter and sort by service priority and show the badges."""
    return {"priority": priority, "ranked": priority_available(), "tiers": RANK_TIERS,
            "risks": RANK_RISKS, "sorts": PRIORITY_SORTS,
            "ranks": customer_ranks(e.customer_id for e in found)}


@bp.get("/follow-ups")
@requires("communications.log")
def my_follow_ups():
    """What the signed-in person has to follow up, overdue first (managers: anyone's)."""
    return _render_follow_ups()


def _follow_up_of(entry_id):
    """The follow-up, for its assignee or someone who may change the entry (else 404/403)."""
    found = get_entry(entry_id)
    if found is None or found.follow_up_due is None:
        abort(404)
    if found.follow_up_assignee_id != current_user.id and not may_change(current_user, found):
        abort(403)
    return found


@bp.post("/interactions/<int:entry_id>/follow-up/reschedule")
@requires("communications.log")
def reschedule(entry_id):
    """A new due date for a follow-up (or snoozed a day or a week); the list comes back."""
    found = _follow_up_of(entry_id)
    _follow_up_scope()  # the list it goes back to must be one this user may see
    form = reschedule_form(found, formdata=request.form)
    if form.validate_on_submit():
        try:
            changed = reschedule_follow_up(found, form.due(), actor=current_user.actor,
                                           today=farm_today())
        except LOG_ERRORS as exc:
            db.session.rollback()
            form.follow_up_due.errors.append(str(exc))
        else:
            db.session.commit()
            toast(f"Follow-up moved to {found.follow_up_due:%a %b} {found.follow_up_due.day}."
                  if changed else "It was already due then.")
            if not htmx:
                return redirect(url_for("communications.my_follow_ups",
                                        assignee=request.args.get("assignee") or None,
                                        **Priority.from_args(request.args).args()), 303)
            return with_badges(_render_follow_ups())
    db.session.rollback()
    return with_badges(_render_follow_ups(422, forms={found.id: form}))


@bp.post("/interactions/<int:entry_id>/follow-up/done")
@requires("communications.log")
def follow_up_done(entry_id):
    """Done in one click: the row goes, the count in the navigation follows."""
    found = _follow_up_of(entry_id)
    complete_follow_up(found, actor=current_user.actor)
    db.session.commit()
    toast("Follow-up done.")
    if htmx:
        return with_badges(render_template("communications/_follow_up.html", e=found))
    return redirect(url_for("communications.my_follow_ups"), 303)


# -- tickets -------------------------------------------------------------------------------

@bp.get("/tickets")
@requires("communications.view")
def tickets():
    """Tickets waiting longest first: open and pending unless a status is chosen; filtered
    and sorted by the customers' value tier and churn risk when asked."""
    status = request.args.get("status", "")
    status = status if status in TICKET_STATUSES else ""
    priority = Priority.from_args(request.args)
    found = list_tickets(status, priority=priority)
    return render_template("communications/tickets.html", tickets=found,
                           status=status, statuses=TICKET_STATUSES, now=utcnow(),
                           page_size=TICKETS_PAGE_SIZE,
                           can_log=can(current_user, "communications.log"),
                           **_priority_context(priority, found))


CUSTOMER_MATCHES = 8  # how many customers the picker lists


def _customer_matches(text):
    """The customers the picker offers for what was typed (a number, part of a name)."""
    text = (text or "").strip()
    if not text:
        return []
    return search_customers(text, user=current_user, per_page=CUSTOMER_MATCHES)[0]


def _picked_customer(form):
    """(the customer the new ticket is for or None, the matches to offer); puts the reason on
    the customer field when there is none or several."""
    picked = form.customer_id.data
    if picked is not None:
        customer = get_customer(picked, overview=False)
        if customer is not None and not customer.is_archived:
            return customer, []
    matches = _customer_matches(form.customer.data)
    if len(matches) == 1:
        return matches[0], matches
    typed = (form.customer.data or "").strip()[:60]
    form.customer.errors = list(form.customer.errors) + [
        f"Several customers match “{typed}”: choose one below." if matches else
        f"No customer matches “{typed}”. Type part of the name or the number (CUST-00012)."]
    return None, matches


def _render_new_ticket(form, matches=(), status=200):
    return render_template("communications/new_ticket.html", form=form, matches=matches), status


@bp.route("/tickets/new", methods=["GET", "POST"])
@requires("communications.log")
def new_ticket():
    """Open a ticket from the tickets page: pick the customer (typed, by name or number)."""
    form = new_ticket_form(assignable_staff(),
                           formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        return _render_new_ticket(form)
    if (again := replayed(form)) is not None:
        return again
    valid = form.validate_on_submit()
    customer, matches = _picked_customer(form) if form.customer.data else (None, [])
    if not valid or customer is None:
        return _render_new_ticket(form, matches, 422)
    if (again := claim(form)) is not None:
        return again
    try:
        entry = open_ticket(_customer(customer.id),
                            form.data_for_service(utcnow().replace(microsecond=0)),
                            actor=current_user.actor, assignee_id=form.assignee_id.data)
    except LOG_ERRORS as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return _render_new_ticket(form, matches, 422)
    url = url_for("communications.ticket", ticket_id=entry.ticket.id)
    created(form, url)
    db.session.commit()
    return redirect_with(url, f"Opened {entry.ticket.number} for {entry.customer.number}.")


@bp.post("/tickets/new/customers")
@requires("communications.log")
def ticket_customers():
    """The picker's matches for what is typed (active search; the same list the form shows
    after sending a name that several customers have). POST: what is typed may be a person's
    name, and it stays out of URLs and access logs, as in the header search."""
    text = request.form.get("customer", "")[:200]
    return render_template("communications/_customer_matches.html",
                           matches=_customer_matches(text), typed=text.strip())


def _ticket(ticket_id):
    found = get_ticket(ticket_id)
    if found is None:
        abort(404)
    return found


def _render_ticket(ticket, form=None, reply=None, status=200, conflict=None):
    return render_template(
        "communications/ticket.html", ticket=ticket, messages=thread(ticket),
        form=form or ticket_form(ticket, assignable_staff()), reply=reply or ReplyForm(formdata=None),
        conflict=conflict, can_log=can(current_user, "communications.log"), now=utcnow(),
    ), status


@bp.get("/tickets/<int:ticket_id>")
@requires("communications.view")
def ticket(ticket_id):
    return _render_ticket(_ticket(ticket_id))


@bp.post("/tickets/<int:ticket_id>")
@requires("communications.log")
def update_ticket_status(ticket_id):
    """Change the status or assignee; refused when someone else changed it first."""
    found = _ticket(ticket_id)
    form = ticket_form(found, assignable_staff(), formdata=request.form)
    if not form.validate_on_submit():
        return _render_ticket(found, form=form, status=422)
    try:
        changed = update_ticket(found, form.data_for_service(),
                                expected_version=form.version.data, actor=current_user.actor)
    except ConflictError as exc:
        form.version.data = exc.current.version
        return _render_ticket(exc.current, form=form, status=409, conflict=exc.current)
    except LOG_ERRORS as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return _render_ticket(found, form=form, status=422)
    db.session.commit()
    toast(f"{found.number} is {found.status_label.lower()}." if "status" in changed
          else "Saved." if changed else "Nothing changed.")
    return _render_ticket(_ticket(ticket_id))


@bp.post("/tickets/<int:ticket_id>/replies")
@requires("communications.log")
def reply(ticket_id):
    """Add a message to the ticket's thread (it shows on the customer's timeline too)."""
    found = _ticket(ticket_id)
    reply_form = ReplyForm()
    if (again := replayed(reply_form)) is not None:
        return again
    if not reply_form.validate_on_submit():
        return _render_ticket(found, reply=reply_form, status=422)
    if (again := claim(reply_form)) is not None:
        return again
    data = {"channel": "ticket", "direction": reply_form.direction.data,
            "body": reply_form.body.data.strip(), "occurred_at": utcnow().replace(microsecond=0),
            "visibility": "internal"}
    try:
        log_interaction(_customer(found.customer_id), data, actor=current_user.actor, ticket=found)
    except LOG_ERRORS as exc:
        db.session.rollback()
        reply_form.body.errors.append(str(exc))
        return _render_ticket(found, reply=reply_form, status=422)
    created(reply_form, url_for("communications.ticket", ticket_id=ticket_id))
    db.session.commit()
    toast("Message added.")
    return _render_ticket(_ticket(ticket_id))
