from flask import abort, render_template

from crm.contacts import bp
from crm.contacts.services import get_contact
from crm.security.permissions import requires


@bp.get("/contacts/<int:contact_id>")
@requires("customers.view")
def detail(contact_id):
    """A person: how to reach them, the customers they are with, what was said with them."""
    from crm.communications.views import contact_panel  # communications builds on contacts

    contact = get_contact(contact_id)
    if contact is None:
        abort(404)
    return render_template("contacts/detail.html", contact=contact, **contact_panel(contact))
