from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from crm.common import ConflictError
from crm.contacts import bp
from crm.contacts.merge import MergeError, linked_counts, load_pair, survivor_of
from crm.contacts.merge import merge as merge_records
from crm.contacts.services import get_contact
from crm.extensions import db
from crm.security.permissions import can, requires
from crm.toasts import redirect_with


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
                                       actor=current_user)
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


from crm.contacts import duplicate_views, import_views  # noqa: E402,F401  (their routes)
