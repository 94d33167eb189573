from flask import abort, current_app, render_template
from flask_login import current_user

from crm.contacts import bp
from crm.contacts.services import get_contact
from crm.security.permissions import can, requires


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
        abort(404)
    return render_template("contacts/detail.html", contact=contact, **contact_panel(contact))


@bp.get("/merge/<any(customer, contact):kind>/<int:a>/<int:b>")
@requires("contacts.merge")
def merge(kind, a, b):
    """Merge two customers or two contacts: side by side, pick the surviving values."""
    abort(404)  # built next


from crm.contacts import duplicate_views, import_views  # noqa: E402,F401  (their routes)
