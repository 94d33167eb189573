from flask import abort, render_template
from flask_login import current_user
from sqlalchemy import select

from crm.catalogue.models import Packaging, Product
from crm.common import ConflictError
from crm.customers.forms import choices
from crm.customers.services import get_customer
from crm.delivery.services import routes
from crm.extensions import db, htmx
from crm.preferences import bp
from crm.preferences.forms import (
    ContactPreferenceForm,
    LikesForm,
    PauseForm,
    PlanForm,
    StandingItemForm,
)
from crm.preferences.models import ContactPreference, DeliveryPause, StandingItem
from crm.preferences.services import (
    PreferenceError,
    add_pause,
    add_standing_item,
    preferences,
    remove_pause,
    remove_standing_item,
    save_contact_preference,
    save_plan,
    set_product_preferences,
)
from crm.security.permissions import can, requires
from crm.toasts import toast

URL = "/customers/<int:customer_id>/preferences"


def _customer(customer_id):
    customer = get_customer(customer_id, overview=True, contacts="names")
    if customer is None:
        abort(404)
    return customer


def _owned(model, ident, customer):
    """A row of this customer's, or 404 (another customer's id is not found here)."""
    found = db.session.get(model, ident)
    if found is None or found.customer_id != customer.id:
        abort(404)
    return found


def _catalogue():
    products = db.session.scalars(select(Product).order_by(Product.name)).all()
    packaging = db.session.scalars(select(Packaging).order_by(Packaging.name)).all()
    return products, packaging


def _forms(customer, prefs, products, packaging, given):
    """Every section's form: the one just posted (with its errors) or a fresh one."""
    active = [p for p in products if p.retired_at is None]
    plan, address = prefs["plan"], customer.delivery_address
    forms = {}
    forms["plan"] = given.get("plan") or PlanForm(formdata=None, obj=plan)
    forms["plan"].route_id.choices = choices({"": "No route", **{str(r.id): r.name for r in routes()}})
    if "plan" not in given:
        forms["plan"].weekdays.data = [str(i) for i in range(7) if plan and plan.weekdays & (1 << i)]
        forms["plan"].route_id.data = str(plan.route_id or "") if plan else ""
        forms["plan"].version.data = plan.version if plan else ""
        forms["plan"].delivery_instructions.data = address.delivery_instructions if address else ""
    forms["item"] = given.get("item") or StandingItemForm(formdata=None)
    forms["item"].product_id.choices = choices({"": "Choose…", **{str(p.id): p.name for p in active}})
    sizes = sorted({s for p in active for s in p.size_list})
    forms["item"].size.choices = choices({"": "Choose…", **{s: s for s in sizes}})
    forms["item"].packaging_id.choices = choices(
        {"": "Choose…", **{str(p.id): p.name for p in packaging if p.retired_at is None}})
    forms["item"].substitute_ids.choices = choices({str(p.id): p.name for p in active})
    forms["likes"] = given.get("likes") or LikesForm(formdata=None)
    offered = choices({str(p.id): p.name for p in active})
    forms["likes"].likes.choices = forms["likes"].dislikes.choices = offered
    if "likes" not in given:
        forms["likes"].likes.data = [str(p.product_id) for p in prefs["likes"] if p.kind == "like"]
        forms["likes"].dislikes.data = [str(p.product_id) for p in prefs["likes"] if p.kind == "dislike"]
    forms["pause"] = given.get("pause") or PauseForm(formdata=None)
    return forms


def _contact_forms(customer, given):
    """One channels-and-consent form per contact, each with its own field ids."""
    ids = [link.contact_id for link in customer.contact_links]
    saved = {p.contact_id: p for p in db.session.scalars(
        select(ContactPreference).where(ContactPreference.contact_id.in_(ids)))} if ids else {}
    forms = {}
    for link in customer.contact_links:
        if link.contact_id in forms:
            continue
        form = given.get(link.contact_id)
        if form is None:
            form = ContactPreferenceForm(formdata=None, prefix=f"c{link.contact_id}")
            pref = saved.get(link.contact_id)
            if pref:
                form.channels.data = pref.channel_list
                form.preferred.data = pref.preferred or ""
                form.marketing_consent.data = pref.marketing_consent
                form.consent_source.data = pref.consent_source or ""
        forms[link.contact_id] = (link.contact, form, saved.get(link.contact_id))
    return forms


def _render(customer, given=None, status=200, conflict=None, contact_forms=None):
    prefs = preferences(customer.id)
    products, packaging = _catalogue()
    context = dict(customer=customer, tab="preferences", prefs=prefs,
                   forms=_forms(customer, prefs, products, packaging, given or {}),
                   contact_forms=_contact_forms(customer, contact_forms or {}),
                   conflict=conflict, can_edit=can(current_user, "preferences.edit"))
    if htmx and not htmx.history_restore_request:
        return render_template("customers/_tab.html", **context), status
    return render_template("customers/detail.html", **context), status


@bp.get(URL)
@requires("preferences.view")
def panel(customer_id):
    """The Preferences tab: delivery plan, standing items, likes, pauses, channels, history."""
    return _render(_customer(customer_id))


def _save(customer, key, form, action):
    """Validate, run the change, commit, and answer with the tab (422 and errors otherwise)."""
    if form.validate_on_submit():
        try:
            message = action(form)
        except PreferenceError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
        else:
            db.session.commit()
            toast(message)
            return _render(_customer(customer.id))
    given = {key: form} if not isinstance(key, int) else {}
    return _render(customer, given=given, status=422,
                   contact_forms={key: form} if isinstance(key, int) else None)


@bp.post(URL + "/plan")
@requires("preferences.edit")
def plan(customer_id):
    customer = _customer(customer_id)
    form = PlanForm()
    form.route_id.choices = choices({"": "No route", **{str(r.id): r.name for r in routes()}})
    if form.validate_on_submit():
        try:
            changed = save_plan(customer, form.data_for_service(),
                                expected_version=form.version.data, actor=current_user.actor)
        except ConflictError as exc:
            form.version.data = exc.current.version  # saving again is a deliberate overwrite
            return _render(customer, given={"plan": form}, status=409, conflict=exc.current)
        db.session.commit()
        toast("Delivery plan saved." if changed else "Nothing changed.")
        return _render(_customer(customer_id))
    return _render(customer, given={"plan": form}, status=422)


@bp.post(URL + "/items")
@requires("preferences.edit")
def add_item(customer_id):
    customer = _customer(customer_id)
    form = StandingItemForm()

    def add(form):
        add_standing_item(customer, form.data_for_service(), actor=current_user.actor)
        return "Standing item added."

    return _save(customer, "item", form, add)


@bp.post(URL + "/items/<int:item_id>/delete")
@requires("preferences.edit")
def delete_item(customer_id, item_id):
    customer = _customer(customer_id)
    item = _owned(StandingItem, item_id, customer)
    remove_standing_item(item, actor=current_user.actor)
    db.session.commit()
    toast("Standing item removed.")
    return _render(customer)


@bp.post(URL + "/likes")
@requires("preferences.edit")
def likes(customer_id):
    customer = _customer(customer_id)
    form = LikesForm()

    def save(form):
        changed = set_product_preferences(customer, *form.data_for_service(), actor=current_user.actor)
        return "Likes and dislikes saved." if changed else "Nothing changed."

    return _save(customer, "likes", form, save)


@bp.post(URL + "/pauses")
@requires("preferences.edit")
def add_pause_view(customer_id):
    customer = _customer(customer_id)
    form = PauseForm()

    def add(form):
        add_pause(customer, {"starts_on": form.starts_on.data, "ends_on": form.ends_on.data,
                             "reason": (form.reason.data or "").strip() or None},
                  actor=current_user.actor)
        return "Pause added."

    return _save(customer, "pause", form, add)


@bp.post(URL + "/pauses/<int:pause_id>/delete")
@requires("preferences.edit")
def delete_pause(customer_id, pause_id):
    customer = _customer(customer_id)
    pause = _owned(DeliveryPause, pause_id, customer)
    remove_pause(pause, actor=current_user.actor)
    db.session.commit()
    toast("Pause removed.")
    return _render(customer)


@bp.post(URL + "/contacts/<int:contact_id>")
@requires("preferences.edit")
def contact(customer_id, contact_id):
    customer = _customer(customer_id)
    if contact_id not in {link.contact_id for link in customer.contact_links}:
        abort(404)
    form = ContactPreferenceForm(prefix=f"c{contact_id}")

    def save(form):
        save_contact_preference(customer, contact_id, form.data_for_service(), actor=current_user.actor)
        return "Channels saved."

    return _save(customer, contact_id, form, save)
