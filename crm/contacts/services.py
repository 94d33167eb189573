"""Contacts: reading one person, adding people to customers, finding people by email or phone."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.audit.services import record
from crm.contacts.models import Contact, ContactEmail, ContactPhone, CustomerContact
from crm.extensions import db
from crm.security.blind_index import email_index, phone_index


def get_contact(contact_id: int) -> Contact | None:
    """A contact with what their page shows, in fixed queries."""
    return db.session.scalar(
        select(Contact)
        .options(selectinload(Contact.emails), selectinload(Contact.phones),
                 selectinload(Contact.customer_links).joinedload(CustomerContact.customer))
        .where(Contact.id == contact_id)
    )


def add_contact(customer, person: dict, *, role: str = "primary", actor) -> Contact:
    """A new contact linked to `customer` in `role` (caller commits). `person` holds
    first_name, last_name and optionally email and phone, already normalised
    (crm.contacts.normalise); the email and phone become the primary ones."""
    contact = Contact(first_name=person["first_name"], last_name=person.get("last_name"))
    if person.get("email"):
        contact.emails.append(ContactEmail(
            email=person["email"], email_bidx=email_index(person["email"]), is_primary=True))
    if person.get("phone"):
        contact.phones.append(ContactPhone(
            phone=person["phone"], phone_bidx=phone_index(person["phone"]), is_primary=True))
    db.session.add(contact)
    db.session.add(CustomerContact(customer=customer, contact=contact, role=role))
    db.session.flush()
    record("create", "contact", contact.id, actor=actor,
           fields=[k for k, v in person.items() if v])
    return contact


def contacts_by_email_or_phone(emails=(), phones=()) -> dict[int, set[str]]:
    """Existing contacts with any of these (normalised) emails or E.164 phones, via the blind
    indexes: {contact id: {"same email", "same phone"}}."""
    found: dict[int, set[str]] = {}
    for column, owner, values, index, reason in (
        (ContactEmail.email_bidx, ContactEmail.contact_id, emails, email_index, "same email"),
        (ContactPhone.phone_bidx, ContactPhone.contact_id, phones, phone_index, "same phone"),
    ):
        keys = [index(v) for v in values if v]
        for start in range(0, len(keys), 500):
            for contact_id in db.session.scalars(
                select(owner).where(column.in_(keys[start:start + 500])).distinct()
            ):
                found.setdefault(contact_id, set()).add(reason)
    return found
