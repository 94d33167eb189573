"""Contacts: reading one person, adding people to customers (and a new customer with its
primary contact), finding people by email or phone, the customer search by email."""
from rapidfuzz import fuzz
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from crm.audit.services import record
from crm.common import ConflictError, save_versioned
from crm.contacts.models import Contact, ContactEmail, ContactPhone, CustomerContact
from crm.customers.models import Address
from crm.customers.services import (
    add_delivery_address,
    create_customer,
    ensure_editable,
)
from crm.extensions import db
from crm.security.blind_index import email_index, phone_index, words


def get_contact(contact_id: int) -> Contact | None:
    """A contact with what their page shows, in fixed queries."""
    return db.session.scalar(
        select(Contact)
        .options(selectinload(Contact.emails), selectinload(Contact.phones),
                 selectinload(Contact.customer_links).joinedload(CustomerContact.customer))
        .where(Contact.id == contact_id)
    )


def with_contacts(details: bool = False) -> list:
    """Loader options for crm.customers.services.get_customer: the customer's people (with
    their emails and phones when `details`)."""
    from crm.customers.models import Customer

    people = selectinload(Customer.contact_links).joinedload(CustomerContact.contact)
    if details:
        people = people.options(selectinload(Contact.emails), selectinload(Contact.phones))
    return [people]


def customers_by_email(q: str):
    """The customer search's finder (declared in crm.contacts): what staff typed is an email,
    so the customers whose contacts have it (blind index); None for anything else."""
    if "@" not in q:
        return None
    return (select(CustomerContact.customer_id)
            .join(ContactEmail, ContactEmail.contact_id == CustomerContact.contact_id)
            .where(ContactEmail.email_bidx == email_index(q)))


def new_customer(data: dict, *, contact: dict | None, address: dict | None, actor,
                 existing: Contact | None = None):
    """A new customer with its delivery address and its primary contact: a new person
    (`contact`), or `existing`, a person already on record (caller commits)."""
    customer = create_customer(data, address=None, actor=actor)
    if existing is not None:
        link_contact(customer, existing, "primary", actor=actor)
    elif contact:
        add_contact(customer, contact, role="primary", actor=actor)
    if address:
        add_delivery_address(customer, address, actor=actor)
    return customer


def add_contact(customer, person: dict, *, role: str = "primary", actor) -> Contact:
    """A new contact linked to `customer` in `role` (caller commits). `person` holds
    first_name, last_name and optionally email and phone, already normalised
    (crm.normalise); the email and phone become the primary ones."""
    ensure_editable(customer)
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


# -- entry on a customer's page -----------------------------------------------------------------

SIMILAR_NAME = 88  # rapidfuzz token_sort_ratio from which two names count as "similar"
NEARBY_LIMIT = 2000  # people compared by name at the same postal code or city, newest first


def _name_key(first, last) -> str:
    return " ".join(words(f"{first or ''} {last or ''}"))


def possible_duplicates(person: dict, *, customer_id: int | None = None,
                        postal_code: str | None = None, city: str | None = None
                        ) -> list[tuple[Contact, list[str]]]:
    """People already on record who may be the one being entered: the same email or phone
    (blind index), or a similar name at this customer or at a customer with the same postal
    code (else city). Best first: [(contact, reasons)]."""
    found = contacts_by_email_or_phone(
        [person["email"]] if person.get("email") else [],
        [person["phone"]] if person.get("phone") else [])
    reasons = {cid: sorted(r) for cid, r in found.items()}
    key = _name_key(person.get("first_name"), person.get("last_name"))
    where = {contact_id: "similar name at this customer" for contact_id in db.session.scalars(
        select(CustomerContact.contact_id).where(CustomerContact.customer_id == customer_id)
    )} if customer_id else {}
    if postal_code or city:
        same_place = Address.postal_code == postal_code if postal_code else Address.city == city
        for contact_id in db.session.scalars(
            select(CustomerContact.contact_id).distinct()
            .join(Address, Address.customer_id == CustomerContact.customer_id)
            .where(same_place, CustomerContact.customer_id != customer_id)
            .order_by(CustomerContact.contact_id.desc()).limit(NEARBY_LIMIT)
        ):
            where.setdefault(contact_id, "similar name, same " +
                             ("postal code" if postal_code else "city"))
    names = db.session.execute(
        select(Contact.id, Contact.first_name, Contact.last_name).where(
            Contact.id.in_(list(where)))).all() if where and key else []
    for contact_id, first, last in names:
        if fuzz.token_sort_ratio(key, _name_key(first, last)) >= SIMILAR_NAME:
            reasons.setdefault(contact_id, []).append(where[contact_id])
    if not reasons:
        return []
    contacts = db.session.scalars(
        select(Contact).where(Contact.id.in_(list(reasons))).options(
            selectinload(Contact.emails), selectinload(Contact.phones),
            selectinload(Contact.customer_links).joinedload(CustomerContact.customer))).all()
    ranked = sorted(contacts, key=lambda c: (-len(reasons[c.id]), c.id))
    return [(c, reasons[c.id]) for c in ranked[:10]]


def link_contact(customer, contact: Contact, role: str, *, actor) -> bool:
    """Link an existing person to the customer in a role (False if already so linked)."""
    ensure_editable(customer)
    if db.session.get(CustomerContact, (customer.id, contact.id, role)) is not None:
        return False
    db.session.add(CustomerContact(customer_id=customer.id, contact_id=contact.id, role=role))
    db.session.flush()
    record("link", "contact", contact.id, actor=actor, fields=["customer_id", "role"])
    return True


def unlink_contact(customer, contact_id: int, *, actor) -> bool:
    """Take a person off the customer (every role). The person and their history stay."""
    ensure_editable(customer)
    removed = db.session.execute(delete(CustomerContact).where(
        CustomerContact.customer_id == customer.id, CustomerContact.contact_id == contact_id))
    if removed.rowcount:
        record("unlink", "contact", contact_id, actor=actor, fields=["customer_id"])
    return bool(removed.rowcount)


class EmailTaken(ValueError):
    """Another person already has these emails (`emails`); merge the two instead."""

    def __init__(self, emails: set[str]):
        super().__init__("Another person already has this email: merge the two from Possible "
                         "duplicates instead.")
        self.emails = emails


def emails_taken(emails: list[str], contact_id: int) -> set[str]:
    """Which of these emails another contact already has."""
    taken = set()
    for value in emails:
        others = contacts_by_email_or_phone([value], [])
        if set(others) - {contact_id}:
            taken.add(value)
    return taken


def _sync_channels(rows: list, wanted: list[dict], make, index, attr: str) -> list[str]:
    """Make a contact's emails (or phones) match `wanted`; which kinds of change happened."""
    by_key = {getattr(r, f"{attr}_bidx"): r for r in rows}
    changes, keep = set(), []
    for item in wanted:
        key = index(item["value"])
        row = by_key.pop(key, None)
        if row is None:
            row = make(**{attr: item["value"], f"{attr}_bidx": key})
            rows.append(row)
            changes.add(attr)
        for flag in ("opted_out", "invalid", "is_primary"):
            if getattr(row, flag) != item[flag]:
                setattr(row, flag, item[flag])
                changes.add(flag)
        keep.append(row)
    for gone in by_key.values():
        rows.remove(gone)
        changes.add(attr)
    return sorted(changes)


def update_contact(contact: Contact, data: dict, *, emails: list[dict], phones: list[dict],
                   expected_version: int, actor, customer=None, role: str | None = None):
    """Save a contact's edit if nobody saved in between (ConflictError otherwise); with
    `customer` and `role`, their role at that customer too. Returns changed field names."""
    if customer is not None:
        ensure_editable(customer)
    taken = emails_taken([item["value"] for item in emails], contact.id)
    if taken:  # one email belongs to one person: two people with it are a merge
        raise EmailTaken(taken)
    if contact.version != expected_version:
        raise ConflictError(contact)
    changed = [k for k, v in data.items() if getattr(contact, k) != v]
    for field in changed:
        setattr(contact, field, data[field])
    changed += _sync_channels(contact.emails, emails, ContactEmail, email_index, "email")
    changed += _sync_channels(contact.phones, phones, ContactPhone, phone_index, "phone")
    if changed:
        flag_modified(contact, "first_name")  # the version moves on for any change
    if customer is not None and role:
        links = [link for link in contact.customer_links if link.customer_id == customer.id]
        if links and [link.role for link in links] != [role]:
            for link in links:
                db.session.delete(link)
            db.session.flush()
            db.session.add(CustomerContact(customer_id=customer.id, contact_id=contact.id,
                                           role=role))
            changed.append("role")
    save_versioned(lambda: db.session.get(Contact, contact.id))
    if changed:
        record("update", "contact", contact.id, actor=actor, fields=sorted(set(changed)))
    return changed
