from functools import partial

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from crm.auth.models import StaffUser
from crm.common import ConflictError
from crm.contacts.merge import survivor_of
from crm.contacts.models import Contact
from crm.contacts.services import link_contact, possible_duplicates
from crm.customers import bp
from crm.customers.forms import CustomerForm, NewCustomerForm, choices
from crm.customers.models import KINDS, STATUSES
from crm.customers.services import (
    list_filters,
    create_customer,
    get_customer,
    search_customers,
    searchable,
    set_archived,
    update_customer,
)
from crm.extensions import db, htmx
from crm.security.encryption import seal, unseal
from crm.security.permissions import requires
from crm.toasts import redirect_with



def _owner_choices(current_owner=None):
    """Active staff, plus the current owner even if disabled (so an edit never drops them)."""
    users = db.session.scalars(
        select(StaffUser).where(StaffUser.active.is_(True)).order_by(StaffUser.id)
    ).all()
    options = {"": "— nobody —", **{str(u.id): u.name for u in users}}
    if current_owner is not None and not current_owner.active:
        options[str(current_owner.id)] = f"{current_owner.name} (disabled)"
    return choices(options)


def _form_data(form) -> dict:
    parent = getattr(form, "parent", None)
    return {
        "name": form.name.data,
        "kind": form.kind.data,
        "status": form.status.data,
        "pricing_tier": form.pricing_tier.data,
        "owner_id": int(form.owner_id.data) if form.owner_id.data else None,
        "parent_id": parent.id if parent else None,
        "notes": form.notes.data or None,
    }


def _load(customer_id, tab="overview"):
    customer = get_customer(customer_id, overview=tab == "overview",
                            contacts="details" if tab == "contacts" else None)
    if customer is None:
        abort(404)
    return customer


def list_url(filters: dict, q: str = "", page: int = 1, sealed: str | None = None) -> str:
    """The list's URL; the search text travels sealed (encrypted), never readable."""
    return url_for(
        "customers.index", s=(sealed or seal(q)) if q else None, kind=filters["kind"] or None,
        status=filters["status"] or None, archived="1" if filters["archived"] else None,
        sort=None if filters["sort"] == "number" else filters["sort"],
        page=page if page > 1 else None,
    )


def _render_list(filters, q, page, fragment):
    customers, has_next = search_customers(
        q=q, **filters, page=page, per_page=current_app.config["CUSTOMERS_PER_PAGE"]
    )
    context = dict(customers=customers, filters=filters, q=q, page=page, has_next=has_next,
                   kinds=KINDS, statuses=STATUSES, searchable=searchable(q),
                   list_url=partial(list_url, sealed=seal(q) if q else None))  # seal once
    return render_template("customers/_results.html" if fragment else "customers/index.html",
                           **context)


@bp.get("/")
@requires("customers.view")
def index():
    """Customer list with filters, sorting and pagination (search text sealed in `s`)."""
    page = request.args.get("page", 1, type=int)
    page = page if page and 0 < page < 100_000 else 1
    q = unseal(request.args.get("s", "")) or ""
    fragment = bool(htmx) and not htmx.history_restore_request
    return _render_list(list_filters(request.args), q, page, fragment)


@bp.post("/search")
@requires("customers.view")
def search():
    """Active search: the typed text arrives in the body; the URL pushed carries it sealed."""
    filters = list_filters(request.form)
    q = request.form.get("q", "")[:100].strip()
    url = list_url(filters, q)
    if not htmx:
        return redirect(url, 303)
    return _render_list(filters, q, 1, fragment=True), {"HX-Push-Url": url}


@bp.route("/new", methods=["GET", "POST"])
@requires("customers.edit")
def new():
    """Create a customer with its primary contact and delivery address."""
    form = NewCustomerForm()
    form.owner_id.choices = _owner_choices()
    if request.method == "GET":
        form.owner_id.data = str(current_user.id)
    if form.validate_on_submit():
        person = form.contact_data()
        # After the possible duplicates were shown, the button pressed says "new" (a new
        # person anyway) or the id of the person on record to make the primary contact.
        choice = request.form.get("contact_choice", "")
        existing = db.session.get(Contact, int(choice)) if choice.isdigit() else None
        if person and choice != "new" and existing is None:
            candidates = possible_duplicates(person, postal_code=form.postal_code.data or None,
                                             city=form.city.data or None)
            if candidates:
                return _render_form("customers/new.html", form, customer=None,
                                    candidates=candidates)
        customer = create_customer(
            _form_data(form), contact=None if existing else person,
            address=form.address_data(), actor=current_user.actor,
        )
        if existing:
            link_contact(customer, existing, "primary", actor=current_user.actor)
        db.session.commit()
        return redirect_with(url_for(".detail", customer_id=customer.id), f"Created {customer.number}.")
    return _render_form("customers/new.html", form, customer=None)


@bp.get("/<int:customer_id>")
@requires("customers.view")
def detail(customer_id):
    """A customer's page (its Overview tab); htmx tab clicks get just the tab panel. A
    merged-away customer's page leads to the customer it was merged into."""
    customer = get_customer(customer_id)
    if customer is None:
        survivor = survivor_of("customer", customer_id)
        if survivor is None:
            abort(404)
        return redirect(url_for(".detail", customer_id=survivor), 301)
    context = dict(customer=customer, tab="overview")
    if htmx and not htmx.history_restore_request:
        return render_template("customers/_tab.html", **context)
    return render_template("customers/detail.html", **context)


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@requires("customers.edit")
def edit(customer_id):
    """Edit a customer; a save over someone else's newer change is refused, not applied."""
    customer = _load(customer_id)
    if customer.is_archived:
        if htmx:
            return redirect_with(url_for(".detail", customer_id=customer.id),
                                 f"{customer.number} is archived; restore it to edit.", "error")
        return render_template("customers/archived.html", customer=customer), 409
    form = CustomerForm(obj=customer if request.method == "GET" else None)
    form.customer_id = customer.id
    form.owner_id.choices = _owner_choices(customer.owner)
    if request.method == "GET":
        form.owner_id.data = str(customer.owner_id or "")
        form.parent_number.data = customer.parent.number if customer.parent else ""
        form.version.data = customer.version
    conflict = None
    if form.validate_on_submit():
        try:
            changed = update_customer(
                customer, _form_data(form), expected_version=form.version.data,
                actor=current_user.actor,
            )
        except ConflictError as exc:
            conflict = _conflict(form, exc.current)
        else:
            db.session.commit()
            return redirect_with(url_for(".detail", customer_id=customer.id),
                                 "Saved." if changed else "Nothing changed.")
    status = 409 if conflict is not None else None
    return _render_form("customers/edit.html", form, customer=customer, conflict=conflict,
                        status=status)


def _conflict(form, current):
    """What the other person saved that differs from this form, for the conflict message."""
    differences = {}
    saved = {"owner_id": str(current.owner_id or ""),
             "parent_number": current.parent.number if current.parent else ""}
    for name in ("name", "kind", "status", "pricing_tier", "owner_id", "parent_number", "notes"):
        field = form[name]
        value = saved.get(name, getattr(current, name, None)) or ""
        if str(value) != str(field.data or ""):
            labels = {c.value: c.label for c in getattr(field, "choices", None) or []}
            shown = labels.get(str(value), value)
            differences[field.label.text] = shown
    form.version.data = current.version  # saving again now is a deliberate overwrite
    return differences


def _render_form(template, form, *, customer, conflict=None, status=None, candidates=None):
    if status is None:
        status = 422 if form.errors else 200
    context = dict(form=form, customer=customer, conflict=conflict, candidates=candidates)
    if htmx and not htmx.history_restore_request:
        return render_template("customers/_form.html", **context), status
    return render_template(template, **context), status


@bp.post("/<int:customer_id>/archive")
@requires("customers.archive")
def archive(customer_id):
    """Archive a customer (kept, hidden from the list)."""
    return _set_archived(customer_id, True)


@bp.post("/<int:customer_id>/restore")
@requires("customers.archive")
def restore(customer_id):
    """Bring an archived customer back."""
    return _set_archived(customer_id, False)


def _set_archived(customer_id, archived):
    customer = _load(customer_id)  # CSRFProtect has checked the token already
    changed = set_archived(customer, archived, actor=current_user.actor)
    db.session.commit()
    word = "archived" if archived else "restored"
    message = f"{customer.number} {word}." if changed else f"{customer.number} was already {word}."
    return redirect_with(url_for(".detail", customer_id=customer.id), message)
