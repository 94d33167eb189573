from flask import abort, url_for
from flask_login import current_user

from crm.catalogue.services import catalogue, routes
from crm.common import ConflictError
from crm.contacts.services import with_contacts
from crm.customers.services import customer_or_404
from crm.extensions import db
from crm.forms import choices
from crm.preferences import bp
from crm.preferences.forms import (
    ContactPreferenceForm,
    LikesForm,
    PauseForm,
    PlanForm,
    StandingItemForm,
    contact_forms,
    section_forms,
)
from crm.preferences.services import (
    PreferenceError,
    add_pause,
    add_standing_item,
    contact_preferences,
    preferences,
    remove_pause,
    remove_standing_item,
    save_contact_preference,
    save_plan,
    set_product_preferences,
)
from crm.security.permissions import can, requires
from crm.toasts import toast
from crm.web import render, save_form

URL = "/customers/<int:customer_id>/preferences"


def _customer(customer_id):
    return customer_or_404(customer_id, load=with_contacts())


def _render(customer, given=None, status=200, conflict=None, given_contacts=None):
    prefs = preferences(customer.id)
    products, packaging = catalogue()
    saved = contact_preferences(customer)
    return render("customers/detail.html", "customers/_tab.html", status, customer=customer,
                  tab="preferences", prefs=prefs,
                  forms=section_forms(customer, prefs, products, packaging, routes(), given or {}),
                  contact_forms=contact_forms(customer, saved, given_contacts or {}),
                  conflict=conflict, can_edit=can(current_user, "preferences.edit"))


@bp.get(URL)
@requires("preferences.view")
def panel(customer_id):
    """The Preferences tab: delivery plan, standing items, likes, pauses, channels, history."""
    return _render(_customer(customer_id))


def _save(customer, key, form, action):
    """Validate, run the change, commit, and answer with the tab (422 and errors otherwise)."""
    def saved(message):
        toast(message)
        return _render(_customer(customer.id))

    def refused():
        if isinstance(key, int):  # a contact's channels form
            return _render(customer, status=422, given_contacts={key: form})
        return _render(customer, given={key: form}, status=422)

    return save_form(form, lambda: action(form), success=saved, failure=refused,
                     errors=(PreferenceError,),
                     result_url=lambda _: url_for("preferences.panel", customer_id=customer.id))


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
    if not remove_standing_item(customer, item_id, actor=current_user.actor):
        abort(404)
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
    if not remove_pause(customer, pause_id, actor=current_user.actor):
        abort(404)
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
