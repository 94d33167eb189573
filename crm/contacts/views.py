from functools import partial

from flask import Response, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from crm import normalise
from crm.audit.services import found
from crm.common import ConflictError
from crm.contacts import bp
from crm.contacts.forms import (
    AddressForm,
    NewAddressForm,
    NewCustomerForm,
    PersonForm,
    contact_form,
)
from crm.contacts.import_samples import sample_csv, template_csv
from crm.contacts.merge import MergeError, linked_counts, load_pair
from crm.contacts.merge import merge as merge_records
from crm.contacts.models import CONTACT_ROLES, Contact
from crm.contacts.pages import contact_page
from crm.contacts.search import find_people, roles_at, searchable
from crm.contacts.services import (
    EmailTaken,
    TooManyChannels,
    add_contact,
    get_contact,
    link_contact,
    possible_duplicates,
    unlink_contact,
    update_contact,
    with_contacts,
)
from crm.contacts.services import (
    new_customer as create_new_customer,
)
from crm.customers.forms import owner_choices
from crm.customers.services import (
    add_address,
    customer_or_404,
    ensure_editable,
    get_address,
    remove_address,
    update_address,
)
from crm.downloads import download_headers
from crm.extensions import db, htmx
from crm.security.encryption import seal, unseal
from crm.security.permissions import can, requires
from crm.toasts import redirect_with, toast
from crm.web import claim, created, render, replayed, wants_fragment

# The contact book's tools: (label, endpoint, permission, what it is for).
TOOLS = [
    ("Import from a CSV file", "contacts.import_upload", "contacts.import",
     "Bring in customers with their contacts from a spreadsheet: checked row by row first."),
    ("Export to a CSV file", "contacts.export", "contacts.export",
     "Customers and their contacts, as filtered in the customer list."),
    ("Possible duplicates", "contacts.duplicates", "contacts.merge",
     "People and customers entered twice: compare them and merge."),
]


def directory_url(q: str = "", page: int = 1, sealed: str | None = None) -> str:
    """The directory's URL; the search travels sealed (crm.security.encryption.seal)."""
    if q and not sealed:
        sealed = seal(q, actor=current_user.actor)
    return url_for("contacts.index", s=sealed if q else None, page=page if page > 1 else None)


def _render_directory(q: str, page: int, fragment: bool):
    people, has_next, close = find_people(
        q, page=page, per_page=current_app.config["PEOPLE_PER_PAGE"])
    sealed = seal(q, actor=current_user.actor) if q else None  # once for every link
    tools = [(label, endpoint, text) for label, endpoint, permission, text in TOOLS
             if endpoint in current_app.view_functions and can(current_user, permission)]
    context = dict(people=people, has_next=has_next, close=close, q=q, page=page, tools=tools,
                   searchable=searchable(q) if q else True, roles_at=roles_at,
                   directory_url=partial(directory_url, sealed=sealed))
    return render_template("contacts/_directory.html" if fragment else "contacts/index.html",
                           **context)


@bp.get("/contacts/")
@requires("contacts.view")
def index():
    """The directory of people: searchable by name, email or phone, paged, with each person's
    customers and roles; the contact book's tools (import, export, duplicates) for managers."""
    page = request.args.get("page", 1, type=int)
    page = page if page and 0 < page < 100_000 else 1
    q = unseal(request.args.get("s", ""), actor=current_user.actor) or ""
    return _render_directory(q, page, wants_fragment())


@bp.post("/contacts/search")
@requires("contacts.view")
def search():
    """The directory's search as you type: the text in the body, the URL pushed sealed."""
    q = request.form.get("q", "")[:100].strip()
    url = directory_url(q)
    if not htmx:
        return redirect(url, 303)
    return _render_directory(q, 1, fragment=True), {"HX-Push-Url": url}


@bp.get("/contacts/import/template.csv")
@requires("contacts.import")
def import_template():
    """A CSV to fill in: the import's columns and one example row."""
    return Response(template_csv(), mimetype="text/csv",
                    headers=download_headers("contacts-import-template.csv"))


@bp.get("/contacts/import/sample.csv")
@requires("contacts.import")
def import_sample():
    """A small CSV that imports cleanly, to try the import with."""
    return Response(sample_csv(), mimetype="text/csv",
                    headers=download_headers("contacts-import-sample.csv"))


@bp.get("/contacts/<int:contact_id>")
@requires("customers.view")
def detail(contact_id):
    """A person: how to reach them, the customers they are with, what was said with them."""
    return contact_page(found(get_contact(contact_id), "contact", contact_id))


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
                label = merged.number if kind == "customer" else merged.reference  # no PII
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


# -- a new customer with its primary contact ------------------------------------------------

@bp.route("/customers/new", methods=["GET", "POST"])
@requires("customers.edit")
def new_customer():
    """Create a customer with its primary contact and delivery address; a primary contact who
    may already be on record is shown first (use that person, or a new one anyway)."""
    form = NewCustomerForm()
    if (again := replayed(form)) is not None:  # sent twice: the customer the first one made
        return again
    form.owner_id.choices = owner_choices()
    if request.method == "GET":
        form.owner_id.data = current_user.id
    candidates = None
    if form.validate_on_submit():
        person = form.contact_data()
        # After the possible duplicates were shown, the button pressed says "a new person
        # anyway" or gives the id of the person on record to make the primary contact.
        choice = form.contact_choice.data
        existing = db.session.get(Contact, choice) if choice else None
        if person and not form.new_contact.data and existing is None:
            candidates = possible_duplicates(person, postal_code=form.postal_code.data or None,
                                             city=form.city.data or None)
        if not candidates:
            if (again := claim(form)) is not None:
                return again
            customer = create_new_customer(form.data_for_service(), contact=person,
                                           address=form.address_data(),
                                           actor=current_user.actor, existing=existing)
            url = url_for("customers.detail", customer_id=customer.id)
            created(form, url)
            db.session.commit()
            return redirect_with(url, f"Created {customer.number}.")
    return render("customers/new.html", "customers/_form.html", 422 if form.errors else 200,
                  form=form, customer=None, conflict=None, candidates=candidates)


# -- people and addresses on a customer's Contacts tab --------------------------------------
# Every form posts and gets the whole tab back (422 with errors and what was typed).

PEOPLE = "/customers/<int:customer_id>/contacts"


def _customer(customer_id):
    return customer_or_404(customer_id, load=with_contacts(details=True))


def _tab(customer, status=200, **state):
    """The Contacts tab (htmx) or the customer page with it, in the given state: forms being
    filled, a contact or address being edited, possible duplicates to choose from."""
    state.setdefault("person_form", PersonForm(formdata=None))
    state.setdefault("address_form", NewAddressForm(formdata=None))
    context = dict(customer=customer, tab="contacts", **state)
    if wants_fragment():
        return render_template("customers/_tab.html", **context), status
    return render_template("customers/detail.html", **context), status


def _done(customer_id, message):
    db.session.commit()
    toast(message)
    return _tab(_customer(customer_id))


def _entry(customer, status=200, focus=True, **state):
    """One person (`contact_id`) or address (`address_id`) of the tab, read-only or with its
    form (`editing`, `editing_address`; macros/inline.html): the fragment for htmx, the focus
    moved into it; the page with the tab otherwise."""
    if not wants_fragment():
        return _tab(customer, status, **{k: v for k, v in state.items()
                                         if k not in ("contact_id", "address_id")})
    state.setdefault("contact_id", None)
    state.setdefault("address_id", None)
    return render_template("contacts/_entry.html", customer=customer, focus=focus,
                           **state), status


def _entry_saved(customer_id, message, **entry):
    """After an edit: the entry read-only with a toast (htmx), or back to the tab."""
    db.session.commit()
    if not wants_fragment():
        anchor = (f"contact-{entry['contact_id']}" if "contact_id" in entry
                  else f"address-{entry['address_id']}")
        return redirect_with(url_for("contacts.panel", customer_id=customer_id) + "#" + anchor,
                             message)
    toast(message)
    return _entry(_customer(customer_id), **entry)


def _back_to_tab(customer_id, anchor):
    """An edit cancelled without JavaScript: the tab, at the entry."""
    return redirect(url_for("contacts.panel", customer_id=customer_id) + "#" + anchor, 303)


@bp.get(PEOPLE)
@requires("customers.view")
def panel(customer_id):
    """A customer's Contacts tab: its people and addresses, added and edited in place."""
    return _tab(_customer(customer_id))


def _editable(customer_id):
    """The customer whose contacts are changed (refused before reading the form when it is
    archived; the services hold the rule)."""
    customer = _customer(customer_id)
    ensure_editable(customer)
    return customer


@bp.post(PEOPLE)
@requires("customers.edit")
def add_person(customer_id):
    """Add a person; if they may already be on record, show who first (link or save anyway)."""
    customer = _editable(customer_id)
    form = PersonForm()
    if (again := replayed(form)) is not None:
        return again
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
    if (again := claim(form)) is not None:
        return again
    added = add_contact(customer, person, role=form.role.data, actor=current_user.actor)
    created(form, url_for("contacts.panel", customer_id=customer.id))
    return _done(customer.id, f"Added {added.reference}.")


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
    return _done(customer.id, f"Linked {contact.reference}." if linked
                 else f"{contact.reference.capitalize()} was already linked in that role.")


@bp.post(PEOPLE + "/<int:contact_id>/remove")
@requires("customers.edit")
def remove_person(customer_id, contact_id):
    """Take a person off this customer; they stay on record with their history."""
    customer = _editable(customer_id)
    if not unlink_contact(customer, contact_id, actor=current_user.actor):
        abort(404)
    return _done(customer.id, "Removed from this customer. The person stays on record.")


def _save_contact(contact, form, customer=None):
    """Validate and save the contact form: (changed fields or None, conflict or None)."""
    if not form.validate_on_submit() or not form.row_errors_noted():
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
    except EmailTaken as exc:
        for row in form.emails:
            if row.value.data in exc.emails:
                row.value.errors = [*row.value.errors, str(exc)]
        form.row_errors_noted()
        return None, None
    except TooManyChannels as exc:
        form.form_errors.append(str(exc))
        return None, None
    except ConflictError as exc:
        form.version.data = exc.current.version  # saving again overwrites on purpose
        return None, exc.current
    return changed, None


@bp.route("/contacts/<int:contact_id>/edit", methods=["GET", "POST"])
@requires("customers.edit")
def edit(contact_id):
    """Edit a person on their own page: name, notes, emails and phones."""
    contact = found(get_contact(contact_id), "contact", contact_id)
    form = contact_form(contact, None, request.form if request.method == "POST" else None)
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


def _person(customer, contact_id):
    return next((link.contact for link in customer.contact_links
                 if link.contact_id == contact_id), None) or abort(404)


@bp.get(PEOPLE + "/<int:contact_id>")
@requires("customers.view")
def person(customer_id, contact_id):
    """One person of the tab read-only (an edit cancelled); without htmx, back to the tab."""
    customer = _customer(customer_id)
    contact = _person(customer, contact_id)
    if not wants_fragment():
        return _back_to_tab(customer.id, f"contact-{contact.id}")
    return _entry(customer, contact_id=contact.id)


@bp.route(PEOPLE + "/<int:contact_id>/edit", methods=["GET", "POST"])
@requires("customers.edit")
def edit_person(customer_id, contact_id):
    """Edit a person in place on the tab: name, role here, notes, emails and phones."""
    customer = _editable(customer_id)
    contact = _person(customer, contact_id)
    if request.method == "GET":
        return _entry(customer, contact_id=contact.id, editing=contact.id,
                      contact_form=contact_form(contact, customer))
    form = contact_form(contact, customer, request.form)
    changed, conflict = _save_contact(contact, form, customer)
    if changed is not None:
        return _entry_saved(customer.id, "Saved." if changed else "Nothing changed.",
                            contact_id=contact.id)
    db.session.rollback()
    return _entry(_customer(customer.id), 409 if conflict else 422, contact_id=contact.id,
                  editing=contact.id, contact_form=form, conflict=conflict)


@bp.post("/customers/<int:customer_id>/addresses")
@requires("customers.edit")
def add_address_view(customer_id):
    customer = _editable(customer_id)
    form = NewAddressForm()
    if (again := replayed(form)) is not None:
        return again
    if not form.validate_on_submit():
        return _tab(customer, 422, address_form=form)
    if (again := claim(form)) is not None:
        return again
    add_address(customer, form.address_data(), actor=current_user.actor)
    created(form, url_for("contacts.panel", customer_id=customer.id))
    return _done(customer.id, "Address added.")


def _address(customer, address_id):
    return get_address(customer, address_id) or abort(404)


@bp.get("/customers/<int:customer_id>/addresses/<int:address_id>")
@requires("customers.view")
def address(customer_id, address_id):
    """One address of the tab read-only (an edit cancelled); without htmx, back to the tab."""
    customer = _customer(customer_id)
    place = _address(customer, address_id)
    if not wants_fragment():
        return _back_to_tab(customer.id, f"address-{place.id}")
    return _entry(customer, address_id=place.id)


@bp.route("/customers/<int:customer_id>/addresses/<int:address_id>/edit",
          methods=["GET", "POST"])
@requires("customers.edit")
def edit_address(customer_id, address_id):
    """Edit an address in place on the tab; a save over someone else's is refused (409)."""
    customer = _editable(customer_id)
    place = _address(customer, address_id)
    if request.method == "GET":
        return _entry(customer, address_id=place.id, editing_address=place.id,
                      edit_address_form=AddressForm(formdata=None, obj=place,
                                                    prefix=f"address-{place.id}"))
    form = AddressForm(prefix=f"address-{place.id}")
    if not form.validate_on_submit():
        return _entry(customer, 422, address_id=place.id, editing_address=place.id,
                      edit_address_form=form)
    try:
        changed = update_address(place, form.address_data(),
                                 expected_version=form.version.data, actor=current_user.actor)
    except ConflictError as exc:
        db.session.rollback()
        form.version.data = exc.current.version  # saving again overwrites on purpose
        return _entry(_customer(customer.id), 409, address_id=place.id,
                      editing_address=place.id, edit_address_form=form, address_conflict=True)
    return _entry_saved(customer.id, "Saved." if changed else "Nothing changed.",
                        address_id=place.id)


@bp.post("/customers/<int:customer_id>/addresses/<int:address_id>/remove")
@requires("customers.edit")
def remove_address_view(customer_id, address_id):
    customer = _editable(customer_id)
    remove_address(_address(customer, address_id), actor=current_user.actor)
    return _done(customer.id, "Address removed.")

