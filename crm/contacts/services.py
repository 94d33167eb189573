"""Reading contacts: one person with their emails, phones and customers."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.contacts.models import Contact, CustomerContact
from crm.extensions import db


def get_contact(contact_id: int) -> Contact | None:
    """A contact with what their page shows, in fixed queries."""
    return db.session.scalar(
        select(Contact)
        .options(selectinload(Contact.emails), selectinload(Contact.phones),
                 selectinload(Contact.customer_links).joinedload(CustomerContact.customer))
        .where(Contact.id == contact_id)
    )
