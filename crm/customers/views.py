from functools import partial
from types import SimpleNamespace

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from crm.common import ConflictError, load
from crm.customers import bp
from crm.customers.forms import CustomerForm, owner_choices
from crm.customers.models import KINDS, STATUSES
from crm.customers.services import (
    ArchivedError,
    count_customers,
    customer_or_404,
    find_customers,
    list_args,
    list_filters,
    searchable,
    set_archived,
    update_customer,
)
from crm.extensions import db, htmx
from crm.features import registry, rendered_sections
from crm.security.encryption import seal, unseal
from crm.security.permissions import can, requires
from crm.toasts import redirect_with
from crm.web import render, wants_fragment


def list_url(filters: dict, q: str = "", page: int = 1, sealed: str | None = None) -> str:
    """The list's URL; the search text travels sealed (encrypted, for the signed-in user only,
    for a few hours: crm.security.encryption.seal), never readable."""
    if q and not sealed:
        sealed = seal(q, actor=current_user.actor)
    return url_for("customers.index", s=sealed if q else None, **list_args(filters),
                   page=page if page > 1 else None)


def list_filter_choices(user) -> list[dict]:
    """The features' list filters the user's role may use, each with its choices (one
    <select> each on the list: crm.features.ListFilter)."""
    return [{"param": f.param, "label": f.label, "everything": f.everything,
             "choices": [(str(value), label) for value, label in load(f.choices)(user)]}
            for f in registry().list_filters if can(user, f.permission)]


def _render_list(filters, q, page, fragment):
    per_page = current_app.config["CUSTOMERS_PER_PAGE"]
    found = find_customers(q, user=current_user, **filters, page=page, per_page=per_page)
    sealed = seal(q, actor=current_user.actor) if q else None  # once for every link
    listing = SimpleNamespace(filters=filters, q=q, sealed=sealed, page=page,
                              customers=found.customers, has_next=found.has_next,
                              per_page=per_page, problem=found.problem)
    # what features offer for the customers ticked (bulk tagging): a checkbox per row then
    actions = rendered_sections(registry().list_actions, listing=listing) \
        if found.customers else []
    context = dict(customers=found.customers, filters=filters, q=q, page=page,
                   has_next=found.has_next, why=found.why, close=found.close,
                   problem=found.problem, kinds=KINDS, statuses=STATUSES,
                   searchable=searchable(q, current_user), actions=actions,
                   list_url=partial(list_url, sealed=sealed), list_args=list_args,
                   sealed=sealed)
    if not fragment:
        context["feature_filters"] = list_filter_choices(current_user)
    return render_template("customers/_results.html" if fragment else "customers/index.html",
                           **context)


@bp.get("/")
@requires("customers.view")
def index():
    """Customer list with filters, sorting and pagination (search text sealed in `s`)."""
    page = request.args.get("page", 1, type=int)
    page = page if page and 0 < page < 100_000 else 1
    q = unseal(request.args.get("s", ""), actor=current_user.actor) or ""
    fragment = wants_fragment()
    return _render_list(list_filters(request.args), q, page, fragment)


@bp.get("/count")
@requires("customers.view")
def count():
    """How many customers the list's search and filters match ("1,234 customers"), in one
    query: loaded by the list's "all that match" choice."""
    q = unseal(request.args.get("s", ""), actor=current_user.actor) or ""
    try:
        n = count_customers(q, user=current_user, **list_filters(request.args))
    except ValueError:
        n = 0
    return f"{n:,} customer{'s' if n != 1 else ''}"


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


@bp.get("/<int:customer_id>")
@requires("customers.view")
def detail(customer_id):
    """A customer's page (its Overview tab); htmx tab clicks get just the tab panel. A
    merged-away customer's page leads to the customer it was merged into."""
    customer = customer_or_404(customer_id)
    glance = rendered_sections(registry().overview_sections, customer=customer)
    return render("customers/detail.html", "customers/_tab.html", customer=customer,
                  tab="overview", glance=glance)


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@requires("customers.edit")
def edit(customer_id):
    """Edit a customer; a save over someone else's newer change is refused, not applied."""
    customer = customer_or_404(customer_id)
    if customer.is_archived:
        raise ArchivedError(customer)
    form = CustomerForm(obj=customer if request.method == "GET" else None)
    form.customer_id = customer.id
    form.owner_id.choices = owner_choices(customer.owner)
    if request.method == "GET":
        form.owner_id.data = customer.owner_id
        form.parent_number.data = customer.parent.number if customer.parent else ""
        form.version.data = customer.version
    conflict = None
    if form.validate_on_submit():
        try:
            changed = update_customer(
                customer, form.data_for_service(), expected_version=form.version.data,
                actor=current_user.actor,
            )
        except ConflictError as exc:
            conflict = _conflict(form, exc.current)
        else:
            db.session.commit()
            return redirect_with(url_for(".detail", customer_id=customer.id),
                                 "Saved." if changed else "Nothing changed.")
    return _render_form("customers/edit.html", form, customer=customer, conflict=conflict)


def _conflict(form, current):
    """What the other person saved that differs from this form, for the conflict message."""
    differences = {}
    saved = {"owner_id": str(current.owner_id or ""),
             "parent_number": current.parent.number if current.parent else ""}
    for name in ("name", "kind", "status", "pricing_tier", "owner_id", "parent_number", "notes"):
        if name not in form:  # a field this user is not shown (the pricing tier)
            continue
        field = form[name]
        value = saved.get(name, getattr(current, name, None)) or ""
        if str(value) != str(field.data or ""):
            labels = {c.value: c.label for c in getattr(field, "choices", None) or []}
            shown = labels.get(str(value), value)
            differences[field.label.text] = shown
    form.version.data = current.version  # saving again now is a deliberate overwrite
    return differences


def _render_form(page, form, *, customer, conflict=None, candidates=None):
    """The customer form (new or edit): 409 with their values after a conflict, 422 with
    the errors, else 200."""
    status = 409 if conflict is not None else 422 if form.errors else 200
    return render(page, "customers/_form.html", status, form=form, customer=customer,
                  conflict=conflict, candidates=candidates)


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
    customer = customer_or_404(customer_id)  # CSRFProtect has checked the token already
    changed = set_archived(customer, archived, actor=current_user.actor)
    db.session.commit()
    word = "archived" if archived else "restored"
    message = f"{customer.number} {word}." if changed else f"{customer.number} was already {word}."
    return redirect_with(url_for(".detail", customer_id=customer.id), message)


def archived_response(error: ArchivedError):
    """Anything changed on an archived customer (the rule is in the services): htmx goes to
    the customer's page with the message, a full request gets a page saying so (409)."""
    db.session.rollback()
    customer = error.customer
    if htmx:
        return redirect_with(url_for("customers.detail", customer_id=customer.id),
                             f"{customer.number} is archived; restore it to edit.", "error")
    return render_template("customers/archived.html", customer=customer), 409


def setup(app):
    app.register_error_handler(ArchivedError, archived_response)
