from flask import abort, redirect, render_template, url_for
from flask_login import current_user

from crm.catalogue.services import catalogue, routes
from crm.common import ConflictError
from crm.contacts.services import with_contacts
from crm.customers.services import customer_or_404, ensure_editable
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
    seen_marks,
    set_product_preferences,
)
from crm.security.permissions import can, requires
from crm.toasts import redirect_with, toast
from crm.web import render, save_form, wants_fragment

URL = "/customers/<int:customer_id>/preferences"
SECTION = "<any(plan, items, likes, pauses):section>"
FORM_KEYS = {"plan": "plan", "items": "item", "likes": "likes", "pauses": "pause"}


def _customer(customer_id):
    return customer_or_404(customer_id, load=with_contacts())


def _editable(customer_id):
    """The customer whose preferences change (refused before reading the form when it is
    archived; the services hold the rule)."""
    customer = _customer(customer_id)
    ensure_editable(customer)
    return customer


def _context(customer, given=None, conflict=None, given_contacts=None, edit=None, focus=False):
    prefs = preferences(customer.id)
    products, packaging = catalogue()
    saved = contact_preferences(customer)
    seen = seen_marks(customer.id)
    return dict(customer=customer, tab="preferences", prefs=prefs,
                forms=section_forms(customer, prefs, products, packaging, routes(), given or {},
                                    seen),
                contact_forms=contact_forms(customer, saved, given_contacts or {}, seen),
                conflict=conflict, edit=edit, focus=focus,
                can_edit=can(current_user, "preferences.edit") and not customer.is_archived)


def _render(customer, status=200, **state):
    """The whole tab (htmx) or the customer page with it; `edit`: the section shown with its
    form (the page a browser without JavaScript opens to edit one)."""
    return render("customers/detail.html", "customers/_tab.html", status,
                  **_context(customer, **state))


def _tab_url(customer_id, section=None):
    url = url_for("preferences.panel", customer_id=customer_id)
    return f"{url}#prefs-{section}" if section else url


def _section(customer, section, status=200, editing=False, changed=False, focus=True, **state):
    """One section, read-only or with its form (macros/inline.html), for htmx: the focus moves
    into it; after a change the history comes along out of band. Without htmx, the page with
    the section open (`editing`) or read-only."""
    edit = section if editing else None
    if not wants_fragment():
        return _render(customer, status, edit=edit, **state)
    context = _context(customer, edit=edit, focus=focus, **state)
    return render_template("preferences/_fragment.html", name=section, oob=changed,
                           **context), status


def _given(section, form):
    if section.startswith("contact-"):
        return {"given_contacts": {int(section[8:]): form}}
    return {"given": {FORM_KEYS[section]: form}}


def _saved(customer_id, section, message, stay=False):
    """After a change: the section read-only (or still open, `stay`) with a toast, for htmx;
    a redirect back to the tab (or the section's edit page) otherwise."""
    if not wants_fragment():
        url = (url_for("preferences.edit", customer_id=customer_id, section=section) if stay
               else _tab_url(customer_id, section))
        return redirect_with(url, message)
    toast(message)
    return _section(_customer(customer_id), section, editing=stay, changed=True,
                    focus="heading" if stay else True)


@bp.get(URL)
@requires("preferences.view")
def panel(customer_id):
    """The Preferences tab: delivery plan, standing items, likes, pauses, channels, history."""
    return _render(_customer(customer_id))


@bp.get(URL + "/" + SECTION)
@requires("preferences.view")
def section(customer_id, section):
    """One section read-only (an edit cancelled); without htmx, back to the tab."""
    if not wants_fragment():
        return redirect(_tab_url(customer_id, section), 303)
    return _section(_customer(customer_id), section)


@bp.get(URL + "/" + SECTION + "/edit")
@requires("preferences.edit")
def edit(customer_id, section):
    """One section with its form: the fragment for htmx, the tab with it open otherwise."""
    return _section(_editable(customer_id), section, editing=True)


def _save(customer, section, form, action):
    """Validate, run the change, commit, and answer with the section read-only (422 and the
    form with its errors otherwise; 409 and the form when someone else changed it meanwhile:
    saving again then replaces theirs)."""
    try:
        return save_form(form, lambda: action(form),
                         success=lambda message: _saved(customer.id, section, message),
                         failure=lambda: _section(customer, section, 422, editing=True,
                                                  **_given(section, form)),
                         errors=(PreferenceError,),
                         result_url=lambda _: _tab_url(customer.id))
    except ConflictError as exc:
        db.session.rollback()
        form.seen.data = exc.current  # saving again is a deliberate overwrite
        return _section(_customer(customer.id), section, 409, editing=True, conflict=True,
                        **_given(section, form))


@bp.post(URL + "/plan")
@requires("preferences.edit")
def plan(customer_id):
    """Save the delivery plan; a save over someone else's is refused (409) with the form."""
    customer = _editable(customer_id)
    form = PlanForm()
    form.route_id.choices = choices({"": "No route", **{str(r.id): r.name for r in routes()}})
    if form.validate_on_submit():
        try:
            changed = save_plan(customer, form.data_for_service(),
                                expected_version=form.version.data, actor=current_user.actor)
        except ConflictError as exc:
            db.session.rollback()
            form.version.data = exc.current.version  # saving again is a deliberate overwrite
            return _section(_customer(customer_id), "plan", 409, editing=True,
                            given={"plan": form}, conflict=exc.current)
        db.session.commit()
        return _saved(customer_id, "plan",
                      "Delivery plan saved." if changed else "Nothing changed.")
    return _section(customer, "plan", 422, editing=True, given={"plan": form})


@bp.post(URL + "/items")
@requires("preferences.edit")
def add_item(customer_id):
    """Add a standing item."""
    customer = _editable(customer_id)
    form = StandingItemForm()

    def add(form):
        add_standing_item(customer, form.data_for_service(), actor=current_user.actor)
        return "Standing item added."

    return _save(customer, "items", form, add)


@bp.post(URL + "/items/<int:item_id>/delete")
@requires("preferences.edit")
def delete_item(customer_id, item_id):
    """Remove a standing item; the section stays open."""
    customer = _editable(customer_id)
    if not remove_standing_item(customer, item_id, actor=current_user.actor):
        abort(404)
    db.session.commit()
    return _saved(customer_id, "items", "Standing item removed.", stay=True)


@bp.post(URL + "/likes")
@requires("preferences.edit")
def likes(customer_id):
    """Save the likes and dislikes."""
    customer = _editable(customer_id)
    form = LikesForm()

    def save(form):
        changed = set_product_preferences(customer, *form.data_for_service(),
                                          actor=current_user.actor, seen=form.seen.data)
        return "Likes and dislikes saved." if changed else "Nothing changed."

    return _save(customer, "likes", form, save)


@bp.post(URL + "/pauses")
@requires("preferences.edit")
def add_pause_view(customer_id):
    """Add a pause."""
    customer = _editable(customer_id)
    form = PauseForm()

    def add(form):
        add_pause(customer, {"starts_on": form.starts_on.data, "ends_on": form.ends_on.data,
                             "reason": (form.reason.data or "").strip() or None},
                  actor=current_user.actor)
        return "Pause added."

    return _save(customer, "pauses", form, add)


@bp.post(URL + "/pauses/<int:pause_id>/delete")
@requires("preferences.edit")
def delete_pause(customer_id, pause_id):
    """Remove a pause; the section stays open."""
    customer = _editable(customer_id)
    if not remove_pause(customer, pause_id, actor=current_user.actor):
        abort(404)
    db.session.commit()
    return _saved(customer_id, "pauses", "Pause removed.", stay=True)


def _linked(customer, contact_id):
    if contact_id not in {link.contact_id for link in customer.contact_links}:
        abort(404)
    return f"contact-{contact_id}"


@bp.get(URL + "/contacts/<int:contact_id>")
@requires("preferences.view")
def contact_section(customer_id, contact_id):
    """One contact's channels read-only (an edit cancelled); without htmx, back to the tab."""
    customer = _customer(customer_id)
    name = _linked(customer, contact_id)
    if not wants_fragment():
        return redirect(_tab_url(customer_id, name), 303)
    return _section(customer, name)


@bp.get(URL + "/contacts/<int:contact_id>/edit")
@requires("preferences.edit")
def contact_edit(customer_id, contact_id):
    """One contact's channels with their form (the tab with it open, without htmx)."""
    customer = _editable(customer_id)
    return _section(customer, _linked(customer, contact_id), editing=True)


@bp.post(URL + "/contacts/<int:contact_id>")
@requires("preferences.edit")
def contact(customer_id, contact_id):
    """Save one contact's channels and consent."""
    customer = _editable(customer_id)
    name = _linked(customer, contact_id)
    form = ContactPreferenceForm(prefix=f"c{contact_id}")

    def save(form):
        save_contact_preference(customer, contact_id, form.data_for_service(),
                                actor=current_user.actor, seen=form.seen.data)
        return "Channels saved."

    return _save(customer, name, form, save)
