"""Reading and changing a customer's preferences; every change is kept in PreferenceChange.

Callers commit. Each function takes the actor (crm.common.Actor: staff, portal or system), so
the portal, jobs and imports use the same functions as the staff pages.
"""
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import joinedload, selectinload

from crm.audit.services import record
from crm.catalogue.models import Packaging, Product
from crm.common import ConflictError, save_versioned, utcnow
from crm.customers.services import ensure_editable
from crm.extensions import db
from crm.preferences.models import (
    WEEKDAYS,
    ContactPreference,
    DeliveryPause,
    DeliveryPlan,
    PreferenceChange,
    ProductPreference,
    StandingItem,
)

HISTORY_SHOWN = 25
PLAN_FIELDS = ("weekdays", "frequency", "anchor_date", "window_start", "window_end", "route_id",
               "stop_order", "returnables", "compostable_only", "labelling", "invoice_method",
               "call_ahead", "substitution_policy", "special_handling")


class PreferenceError(ValueError):
    """Input the forms cannot catch on their own (a retired product, a clash)."""


def _shown(value) -> str | None:
    """A value as the history shows it."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if hasattr(value, "strftime") and not isinstance(value, datetime):
        return value.isoformat(timespec="minutes") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def note_change(customer_id, field, old, new, *, actor):
    """Keep one change in the preference history (values encrypted): who (the actor, whose
    kind also says where it came from: staff, portal or system), when, old → new."""
    db.session.add(PreferenceChange(customer_id=customer_id, field=field, old=_shown(old),
                                    new=_shown(new), actor_kind=actor.kind, actor_id=actor.id))


def last_change(customer_id: int, contact_id: int | None = None) -> int:
    """The id of the newest history entry of the likes and dislikes (or, with `contact_id`, of
    that contact's channels and consent); 0 when there is none. These have no version column:
    a form carries this as the state it was loaded at (`seen`), and a save after a newer entry
    is a conflict (the history being append-only, ids only grow)."""
    fields = (PreferenceChange.field.startswith(f"contact {contact_id} ", autoescape=True)
              if contact_id is not None else PreferenceChange.field.in_(("likes", "dislikes")))
    return db.session.scalar(select(func.coalesce(func.max(PreferenceChange.id), 0)).where(
        PreferenceChange.customer_id == customer_id, fields))


def seen_marks(customer_id: int) -> dict:
    """last_change for the likes ("likes") and for every contact (by id), in one query."""
    marks = {"likes": 0}
    for field, newest in db.session.execute(
            select(PreferenceChange.field, func.max(PreferenceChange.id))
            .where(PreferenceChange.customer_id == customer_id)
            .group_by(PreferenceChange.field)):
        if field in ("likes", "dislikes"):
            marks["likes"] = max(marks["likes"], newest)
        elif field.startswith("contact ") and field.split(" ")[1].isdigit():
            contact_id = int(field.split(" ")[1])
            marks[contact_id] = max(marks.get(contact_id, 0), newest)
    return marks


def _check_seen(customer_id: int, seen: int | None, contact_id: int | None = None):
    """ConflictError (its `current`: the newest entry's id) when someone changed it since the
    form was loaded at `seen`; None skips the check (callers without a form: jobs, imports)."""
    if seen is None:
        return
    newest = last_change(customer_id, contact_id)
    if newest > seen:
        raise ConflictError(newest)


def preferences(customer_id: int) -> dict:
    """Everything the Preferences tab shows, in a fixed number of queries."""
    plan = db.session.scalar(select(DeliveryPlan).options(joinedload(DeliveryPlan.route))
                             .where(DeliveryPlan.customer_id == customer_id))
    return {
        "plan": plan,
        "items": db.session.scalars(
            select(StandingItem).where(StandingItem.customer_id == customer_id)
            .options(joinedload(StandingItem.product), joinedload(StandingItem.packaging),
                     selectinload(StandingItem.substitutes))
            .order_by(StandingItem.id)).all(),
        "likes": db.session.scalars(
            select(ProductPreference).where(ProductPreference.customer_id == customer_id)
            .options(joinedload(ProductPreference.product))).all(),
        "pauses": db.session.scalars(
            select(DeliveryPause).where(DeliveryPause.customer_id == customer_id)
            .order_by(DeliveryPause.starts_on)).all(),
        "history": db.session.scalars(
            select(PreferenceChange).where(PreferenceChange.customer_id == customer_id)
            .options(joinedload(PreferenceChange.staff))
            .order_by(PreferenceChange.changed_at.desc(), PreferenceChange.id.desc())
            .limit(HISTORY_SHOWN)).all(),
    }


def contact_preferences(customer) -> dict:
    """{contact id: ContactPreference} of the customer's contacts."""
    ids = [link.contact_id for link in customer.contact_links]
    if not ids:
        return {}
    return {p.contact_id: p for p in db.session.scalars(
        select(ContactPreference).where(ContactPreference.contact_id.in_(ids)))}


def weekday_label(mask: int) -> str:
    return ", ".join(name for i, name in enumerate(WEEKDAYS) if mask & (1 << i)) or "none"


def save_plan(customer, data: dict, *, expected_version: int | None, actor):
    """Create or update the delivery plan (and the delivery address's instructions);
    ConflictError if someone saved in between. Returns the changed field names.
    """
    ensure_editable(customer)
    plan = db.session.get(DeliveryPlan, customer.id)
    address = customer.delivery_address
    if plan is None:
        plan = DeliveryPlan(customer_id=customer.id)
        db.session.add(plan)
        current = {}
    else:
        if plan.version != expected_version:
            raise ConflictError(plan)
        current = {k: getattr(plan, k) for k in PLAN_FIELDS}
    changed = [k for k in PLAN_FIELDS if k in data and current.get(k) != data[k]]
    for name in changed:
        old, new = current.get(name), data[name]
        if name == "weekdays":
            old, new = weekday_label(old or 0), weekday_label(new)
        note_change(customer.id, name, old, new, actor=actor)
        setattr(plan, name, data[name])
    instructions = data.get("delivery_instructions")
    if address is not None and "delivery_instructions" in data \
            and address.delivery_instructions != instructions:  # kept on the address
        note_change(customer.id, "delivery instructions", address.delivery_instructions,
                    instructions, actor=actor)
        address.delivery_instructions = instructions
        record("update", "address", address.id, actor=actor, fields=["delivery_instructions"])
        changed.append("delivery_instructions")
    save_versioned(lambda: db.session.get(DeliveryPlan, customer.id))
    if changed:
        record("update", "delivery_plan", customer.id, actor=actor, fields=changed)
    return changed


def _active(model, ident, what):
    found = db.session.get(model, ident) if ident else None
    if found is None:
        raise PreferenceError(f"That {what} does not exist.")
    if found.retired_at is not None:
        raise PreferenceError(f"{found.name} is retired; choose another {what}.")
    return found


def add_standing_item(customer, data: dict, *, actor) -> StandingItem:
    ensure_editable(customer)
    product = _active(Product, data["product_id"], "product")
    packaging = _active(Packaging, data["packaging_id"], "packaging")
    if data["size"] not in product.size_list:
        raise PreferenceError(f"{product.name} comes in {', '.join(product.size_list)}.")
    substitutes = [_active(Product, pid, "product") for pid in data.get("substitute_ids", ())
                   if pid != product.id]
    item = StandingItem(customer_id=customer.id, product=product, size=data["size"],
                        quantity=data["quantity"], packaging=packaging,
                        substitutions_allowed=data["substitutions_allowed"],
                        substitutes=substitutes)
    db.session.add(item)
    db.session.flush()
    note_change(customer.id, "standing item", None, describe_item(item), actor=actor)
    record("create", "standing_item", item.id, actor=actor,
           fields=["product_id", "size", "quantity", "packaging_id", "substitutions_allowed"])
    return item


def describe_item(item: StandingItem) -> str:
    text = f"{item.quantity} × {item.product.name} {item.size}, {item.packaging.name}"
    if item.substitutions_allowed:
        subs = ", ".join(p.name for p in item.substitutes) or "any"
        text += f"; substitutes: {subs}"
    return text


def _of_customer(model, customer, row_id: int):
    """One of the customer's rows of `model` (never another customer's)."""
    return db.session.scalar(select(model).where(model.customer_id == customer.id,
                                                 model.id == row_id))


def _remove(model, customer, row_id: int, field: str, describe, *, actor) -> bool:
    """Remove one of the customer's rows, kept in the history; False when it has no such row."""
    ensure_editable(customer)
    row = _of_customer(model, customer, row_id)
    if row is None:
        return False
    note_change(customer.id, field, describe(row), None, actor=actor)
    record("delete", model.__tablename__, row.id, actor=actor, fields=["id"])
    db.session.delete(row)
    return True


def get_standing_item(customer, item_id: int) -> StandingItem | None:
    return _of_customer(StandingItem, customer, item_id)


def remove_standing_item(customer, item_id: int, *, actor) -> bool:
    return _remove(StandingItem, customer, item_id, "standing item", describe_item, actor=actor)


def set_product_preferences(customer, likes: set[int], dislikes: set[int], *, actor,
                            seen: int | None = None):
    """Replace the likes and dislikes; a product cannot be both. ConflictError when they were
    changed after `seen` (last_change) by someone else."""
    ensure_editable(customer)
    _check_seen(customer.id, seen)
    if likes & dislikes:
        raise PreferenceError("A product cannot be both liked and disliked.")
    existing = {p.product_id: p.kind for p in db.session.scalars(
        select(ProductPreference).where(ProductPreference.customer_id == customer.id))}
    wanted = {**{pid: "like" for pid in likes}, **{pid: "dislike" for pid in dislikes}}
    new_ids = [pid for pid in wanted if existing.get(pid) != wanted[pid]]
    for pid in new_ids:
        _active(Product, pid, "product")
    if existing == wanted:
        return False
    names = dict(db.session.execute(select(Product.id, Product.name)).all())

    def listed(prefs, kind):
        return ", ".join(sorted(names[p] for p, k in prefs.items() if k == kind)) or None

    for kind in ("like", "dislike"):
        if listed(existing, kind) != listed(wanted, kind):
            note_change(customer.id, f"{kind}s", listed(existing, kind), listed(wanted, kind),
                        actor=actor)
    db.session.execute(delete(ProductPreference).where(
        ProductPreference.customer_id == customer.id))
    db.session.add_all(ProductPreference(customer_id=customer.id, product_id=pid, kind=kind)
                       for pid, kind in wanted.items())
    record("update", "product_preferences", customer.id, actor=actor, fields=["likes", "dislikes"])
    return True


def add_pause(customer, data: dict, *, actor) -> DeliveryPause:
    ensure_editable(customer)
    if data["ends_on"] < data["starts_on"]:
        raise PreferenceError("The pause ends before it starts.")
    pause = DeliveryPause(customer_id=customer.id, starts_on=data["starts_on"],
                          ends_on=data["ends_on"], reason=data.get("reason"))
    db.session.add(pause)
    db.session.flush()
    note_change(customer.id, "pause", None, describe_pause(pause), actor=actor)
    record("create", "delivery_pause", pause.id, actor=actor, fields=["starts_on", "ends_on"])
    return pause


def describe_pause(pause: DeliveryPause) -> str:
    return f"{pause.starts_on:%b %-d, %Y} – {pause.ends_on:%b %-d, %Y}"


def get_pause(customer, pause_id: int) -> DeliveryPause | None:
    return _of_customer(DeliveryPause, customer, pause_id)


def remove_pause(customer, pause_id: int, *, actor) -> bool:
    return _remove(DeliveryPause, customer, pause_id, "pause", describe_pause, actor=actor)


def save_contact_preference(customer, contact_id: int, data: dict, *, actor,
                            seen: int | None = None):
    """Channels, preferred channel and marketing consent of one of the customer's contacts.
    ConflictError when they were changed after `seen` (last_change) by someone else.

    Consent is a record: granting stamps when and how; withdrawing stamps when, and keeps both.
    """
    ensure_editable(customer)
    if contact_id not in {link.contact_id for link in customer.contact_links}:
        raise PreferenceError("That contact is not linked to this customer.")
    _check_seen(customer.id, seen, contact_id)
    if data["preferred"] and data["preferred"] not in data["channels"]:
        raise PreferenceError("The preferred channel must be one of the channels ticked.")
    pref = db.session.get(ContactPreference, contact_id)
    if pref is None:
        pref = ContactPreference(contact_id=contact_id)
        db.session.add(pref)
    channels = ",".join(data["channels"])
    before = (pref.channels or "", pref.preferred, bool(pref.marketing_consent))
    if before[0] != channels:
        note_change(customer.id, f"contact {contact_id} channels", before[0] or None,
                    channels or None, actor=actor)
    if before[1] != data["preferred"]:
        note_change(customer.id, f"contact {contact_id} preferred channel", before[1],
                    data["preferred"], actor=actor)
    pref.channels, pref.preferred = channels, data["preferred"]
    if data["marketing_consent"] and not before[2]:
        pref.marketing_consent, pref.consent_at = True, utcnow()
        pref.consent_source, pref.consent_withdrawn_at = data["consent_source"], None
        note_change(customer.id, f"contact {contact_id} marketing consent", "no",
                    f"yes ({data['consent_source']})", actor=actor)
    elif not data["marketing_consent"] and before[2]:
        pref.marketing_consent, pref.consent_withdrawn_at = False, utcnow()
        note_change(customer.id, f"contact {contact_id} marketing consent", "yes",
                    "withdrawn", actor=actor)
    record("update", "contact_preference", contact_id, actor=actor,
           fields=["channels", "preferred", "marketing_consent"])
    return pref
