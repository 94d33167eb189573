from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from crm.common import ConflictError
from crm.contacts import bp
from crm.contacts.merge import MergeError, linked_counts, load_pair, survivor_of
from crm.contacts.merge import merge as merge_records
from crm.contacts import normalise
from crm.contacts.normalise import phone_display
from crm.contacts.forms import AddressForm, ContactForm, PersonForm
from crm.contacts.models import CONTACT_ROLES, Contact
from crm.contacts.services import (
    add_contact,
    emails_taken,
    get_contact,
    link_contact,
    possible_duplicates,
    unlink_contact,
    update_contact,
)
from crm.customers.models import Address
from crm.customers.services import add_address, get_customer, remove_address, update_address
from crm.extensions import db, htmx
from crm.security.permissions import can, requires
from crm.toasts import redirect_with, toast


# The contact book's tools: (label, endpoint, permission, what it is for).
TOOLS = [
    ("Import from a CSV file", "contacts.import_upload", "contacts.import",
     "Bring in customers with their contacts from a spreadsheet: checked row by row first."),
    ("Export to a CSV file", "contacts.export", "contacts.export",
     "Customers and their contacts, as filtered in the customer list."),
    ("Possible duplicates", "contacts.duplicates", "contacts.merge",
     "People and customers entered twice: compare them and merge."),
]


@bp.get("/contacts/")
@requires("contacts.view")
def index():
    """The contact book's tools: import, export, possible duplicates."""
    tools = [(label, endpoint, text) for label, endpoint, permission, text in TOOLS
             if endpoint in current_app.view_functions and can(current_user, permission)]
    return render_template("contacts/index.html", tools=tools)


@bp.get("/contacts/<int:contact_id>")
@requires("customers.view")
def detail(contact_id):
    """A person: how to reach them, the customers they are with, what was said with them."""
    from crm.communications.views import contact_panel  # communications builds on contacts

    contact = get_contact(contact_id)
    if contact is None:
        survivor = survivor_of("contact", contact_id)
        if survivor is None:
            abort(404)
        return redirect(url_for("contacts.detail", contact_id=survivor), 301)
    return render_template("contacts/detail.html", contact=contact, **contact_panel(contact))


# What a merge moves, in words (tables not named here show their own name).
LINKED = {"address": "addresses", "customer_contact": "contact links",
          "interaction": "timeline entries", "ticket": "tickets", "delivery_plan": "delivery plan",
          "standing_item": "standing items", "product_preference": "likes and dislikes",
          "delivery_pause": "pauses", "preference_change": "preference history entries",
          "contact_email": "emails", "contact_phone": "phones",
          "contact_preference": "channel preferences", "customer": "locations"}


def _shown(kind, record, field):
    """A field's value as the merge screen shows it."""
    value = getattr(record, field)
    if kind == "customer":
        if field == "owner_id":
            return record.owner.name if record.owner else ""
        if field == "parent_id":
            return f"{record.parent.name} ({record.parent.number})" if record.parent else ""
        if field in ("kind", "status"):
            return getattr(record, f"{field}_label")
        if field == "pricing_tier":
            return (value or "").title()
    return value or ""


@bp.route("/merge/<any(customer, contact):kind>/<int:a>/<int:b>", methods=["GET", "POST"])
@requires("contacts.merge")
def merge(kind, a, b):
    """Merge two customers or two contacts: side by side, pick the surviving values."""
    try:
        pair = load_pair(kind, a, b)
    except MergeError as exc:
        abort(400, str(exc))
    except LookupError:
        abort(404)
    records = {"a": pair.a, "b": pair.b}
    choices = {"survivor": request.form.get("survivor", "a")}
    errors, status = [], 200
    for field in pair.fields:
        default = "b" if not getattr(pair.a, field) and getattr(pair.b, field) else "a"
        choices[field] = request.form.get(field, default)
    if request.method == "POST":
        if any(choice not in records for choice in choices.values()):
            errors.append("Choose A or B for every line.")
        versions = {}
        for side, found in records.items():
            raw = request.form.get(f"version_{side}", "")
            versions[found.id] = int(raw) if raw.isdigit() else None
        if not errors:
            survivor = records[choices["survivor"]]
            loser = records["b" if choices["survivor"] == "a" else "a"]
            values = {f: getattr(records[choices[f]], f) for f in pair.fields}
            try:
                merged = merge_records(kind, survivor.id, loser.id, values, versions=versions,
                                       actor=current_user.actor)
            except ConflictError:
                db.session.rollback()
                errors.append("One of the two was changed by someone else since you opened "
                              "this page. Nothing was merged; check the values again.")
                status = 409
                pair = load_pair(kind, a, b)
                records = {"a": pair.a, "b": pair.b}
            except MergeError as exc:
                db.session.rollback()
                errors.append(str(exc))
            else:
                db.session.commit()
                label = merged.number if kind == "customer" else merged.full_name
                url = (url_for("customers.detail", customer_id=merged.id) if kind == "customer"
                       else url_for("contacts.detail", contact_id=merged.id))
                return redirect_with(url, f"Merged into {label}.")
        status = status if status != 200 else 422
    rows = [(field, label, {side: _shown(kind, r, field) for side, r in records.items()})
            for field, label in pair.fields.items()]
    moves = {side: {LINKED.get(t, t.replace("_", " ")): n
                    for t, n in linked_counts(kind, r.id).items()}
             for side, r in records.items()}
    return render_template("contacts/merge.html", kind=kind, pair=pair, records=records,
                           rows=rows, choices=choices, moves=moves, errors=errors), status


# -- people and addresses on a customer's Contacts tab --------------------------------------
# Every form posts and gets the whole tab back (422 with errors and what was typed).

PEOPLE = "/customers/<int:customer_id>/contacts"


def _customer(customer_id):
    customer = get_customer(customer_id, overview=True, contacts="details")
    if customer is None:
        abort(404)
    return customer


def _tab(customer, status=200, **state):
    """The Contacts tab (htmx) or the customer page with it, in the given state: forms being
    filled, a contact or address being edited, possible duplicates to choose from."""
    state.setdefault("person_form", PersonForm(formdata=None))
    state.setdefault("address_form", AddressForm(formdata=None))
    context = dict(customer=customer, tab="contacts", **state)
    if htmx and not htmx.history_restore_request:
        return render_template("customers/_tab.html", **context), status
    return render_template("customers/detail.html", **context), status


def _done(customer_id, message):
    db.session.commit()
    toast(message)
    return _tab(_customer(customer_id))


@bp.get(PEOPLE)
@requires("customers.view")
def panel(customer_id):
    """A customer's Contacts tab: its people and addresses, added and edited in place."""
    customer = get_customer(customer_id, overview=True, contacts="details")
    if customer is None:
        survivor = survivor_of("customer", customer_id)
        if survivor is None:
            abort(404)
        return redirect(url_for("contacts.panel", customer_id=survivor), 301)
    return _tab(customer)


def _editable(customer_id):
    """The customer whose contacts are changed; 409 when it is archived."""
    customer = _customer(customer_id)
    if customer.is_archived:
        abort(409, f"{customer.number} is archived; restore it to change its contacts.")
    return customer


@bp.post(PEOPLE)
@requires("customers.edit")
def add_person(customer_id):
    """Add a person; if they may already be on record, show who first (link or save anyway)."""
    customer = _editable(customer_id)
    form = PersonForm()
    if not form.validate_on_submit():
        return _tab(customer, 422, person_form=form)
    person = form.person_data()
    if form.save_anyway.data != "1":
        place = customer.delivery_address
        candidates = possible_duplicates(person, customer_id=customer.id,
                                         postal_code=place and place.postal_code,
                                         city=place and place.city)
        if candidates:
            form.save_anyway.data = "1"
            return _tab(customer, 200, person_form=form, candidates=candidates)
    add_contact(customer, person, role=form.role.data, actor=current_user.actor)
    return _done(customer.id, f"Added {person['first_name']}.")


@bp.post(PEOPLE + "/<int:contact_id>/link")
@requires("customers.edit")
def link_person(customer_id, contact_id):
    """Link a person already on record (chosen among possible duplicates) to this customer."""
    customer = _editable(customer_id)
    contact = db.session.get(Contact, contact_id) or abort(404)
    role = request.form.get("role", "")
    if role not in CONTACT_ROLES:
        abort(400, "Choose a role.")
    linked = link_contact(customer, contact, role, actor=current_user.actor)
    return _done(customer.id, f"Linked {contact.full_name}." if linked
                 else f"{contact.full_name} was already linked in that role.")


@bp.post(PEOPLE + "/<int:contact_id>/remove")
@requires("customers.edit")
def remove_person(customer_id, contact_id):
    """Take a person off this customer; they stay on record with their history."""
    customer = _editable(customer_id)
    if not unlink_contact(customer, contact_id, actor=current_user.actor):
        abort(404)
    return _done(customer.id, "Removed from this customer. The person stays on record.")


def _contact_form(contact, customer, formdata=None):
    form = ContactForm(formdata=formdata, prefix=f"contact-{contact.id}",
                       obj=None if formdata else contact)
    if formdata is None:
        for rows, items, attr in ((form.emails, contact.emails, "email"),
                                  (form.phones, contact.phones, "phone")):
            while len(rows):
                rows.pop_entry()
            for item in items:
                value = getattr(item, attr)
                if attr == "phone":
                    value = phone_display(value, current_app.config["DEFAULT_PHONE_REGION"])
                rows.append_entry({"value": value, "opted_out": item.opted_out,
                                   "invalid": item.invalid})
            rows.append_entry()  # room for one more
        form.primary_email.data = next((str(i) for i, e in enumerate(contact.emails)
                                        if e.is_primary), "0")
        form.primary_phone.data = next((str(i) for i, p in enumerate(contact.phones)
                                        if p.is_primary), "0")
        form.version.data = contact.version
        roles = [link.role for link in contact.customer_links
                 if customer and link.customer_id == customer.id]
        form.role.data = roles[0] if roles else "ordering"
    return form


def _save_contact(contact, form, customer=None):
    """Validate and save the contact form: (changed fields or None, conflict or None)."""
    if not form.validate_on_submit():
        return None, None
    for row in form.emails:
        if row.value.data and emails_taken([row.value.data], contact.id):
            row.value.errors = [*row.value.errors, "Another person already has this email: "
                                "merge the two from Possible duplicates instead."]
    if not form.row_errors_noted():
        return None, None
    try:
        changed = update_contact(
            contact, {"first_name": normalise.person_name(form.first_name.data),
                      "last_name": normalise.person_name(form.last_name.data, surname=True) or None,
                      "notes": form.notes.data or None},
            emails=form.channels(form.emails, form.primary_email),
            phones=form.channels(form.phones, form.primary_phone),
            expected_version=form.version.data, actor=current_user.actor,
            customer=customer, role=form.role.data if customer else None)
    except ConflictError as exc:
        form.version.data = exc.current.version  # saving again overwrites on purpose
        return None, exc.current
    return changed, None


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@requires("customers.edit")
def edit(contact_id):
    """Edit a person on their own page: name, notes, emails and phones."""
    contact = get_contact(contact_id) or abort(404)
    form = _contact_form(contact, None, request.form if request.method == "POST" else None)
    del form.role  # roles belong to each customer link, edited on that customer's tab
    conflict = None
    if request.method == "POST":
        changed, conflict = _save_contact(contact, form)
        if changed is not None:
            db.session.commit()
            return redirect_with(url_for("contacts.detail", contact_id=contact.id),
                                 "Saved." if changed else "Nothing changed.")
    status = 409 if conflict else 422 if form.errors else 200
    return render_template("contacts/edit.html", contact=contact, f=form,
                           conflict=conflict), status


@bp.route(PEOPLE + "/<int:contact_id>/edit", methods=["GET", "POST"])
@requires("customers.edit")
def edit_person(customer_id, contact_id):
    """Edit a person in place on the tab: name, role here, notes, emails and phones."""
    customer = _editable(customer_id)
    contact = next((link.contact for link in customer.contact_links
                    if link.contact_id == contact_id), None) or abort(404)
    if request.method == "GET":
        return _tab(customer, editing=contact.id, contact_form=_contact_form(contact, customer))
    form = _contact_form(contact, customer, request.form)
    changed, conflict = _save_contact(contact, form, customer)
    if changed is not None:
        return _done(customer.id, "Saved." if changed else "Nothing changed.")
    db.session.rollback()
    return _tab(_customer(customer.id), 409 if conflict else 422, editing=contact.id,
                contact_form=form, conflict=conflict)


@bp.post("/customers/<int:customer_id>/addresses")
@requires("customers.edit")
def add_address_view(customer_id):
    customer = _editable(customer_id)
    form = AddressForm()
    if not form.validate_on_submit():
        return _tab(customer, 422, address_form=form)
    add_address(customer, form.address_data(), actor=current_user.actor)
    return _done(customer.id, "Address added.")


def _address(customer, address_id):
    place = db.session.get(Address, address_id)
    if place is None or place.customer_id != customer.id:
        abort(404)
    return place


@bp.route("/customers/<int:customer_id>/addresses/<int:address_id>/edit",
          methods=["GET", "POST"])
@requires("customers.edit")
def edit_address(customer_id, address_id):
    customer = _editable(customer_id)
    place = _address(customer, address_id)
    if request.method == "GET":
        return _tab(customer, editing_address=place.id,
                    edit_address_form=AddressForm(formdata=None, obj=place,
                                                  prefix=f"address-{place.id}"))
    form = AddressForm(prefix=f"address-{place.id}")
    if not form.validate_on_submit():
        return _tab(customer, 422, editing_address=place.id, edit_address_form=form)
    try:
        changed = update_address(place, form.address_data(),
                                 expected_version=form.version.data, actor=current_user.actor)
    except ConflictError as exc:
        form.version.data = exc.current.version  # saving again overwrites on purpose
        return _tab(_customer(customer.id), 409, editing_address=place.id,
                    edit_address_form=form, address_conflict=True)
    return _done(customer.id, "Saved." if changed else "Nothing changed.")


@bp.post("/customers/<int:customer_id>/addresses/<int:address_id>/remove")
@requires("customers.edit")
def remove_address_view(customer_id, address_id):
    customer = _editable(customer_id)
    remove_address(_address(customer, address_id), actor=current_user.actor)
    return _done(customer.id, "Address removed.")


from crm.contacts import duplicate_views, import_views  # noqa: E402,F401  (their routes)
