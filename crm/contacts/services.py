"""Contacts: reading one person, adding people to customers (and a new customer with its
primary contact), finding people by email or phone (the searches: crm.contacts.search)."""
from rapidfuzz import fuzz
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from crm.audit.services import record, record_many
from crm.common import ConflictError, batches, expire_loaded, insert_rows, save_versioned
from crm.contacts.models import Contact, ContactEmail, ContactPhone, CustomerContact
from crm.contacts.search import index_people
from crm.customers.models import Address
from crm.customers.services import (
    add_delivery_address,
    create_customer,
    ensure_all_editable,
    ensure_editable,
)
from crm.extensions import db
from crm.security.blind_index import INDEXERS, email_index, phone_index, words
from crm.security.search import add_name_tokens, index_name


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
    (crm.normalise); the email and phone become the primary ones. add_contacts() for one."""
    [contact_id] = add_contacts([{**person, "links": [(customer, role)]}], actor=actor)
    return db.session.get(Contact, contact_id)


def add_contacts(people: list[dict], *, actor) -> list[int]:
    """New contacts, in a few statements however many there are. Each is a person as
    add_contact() takes it, with "links": the (customer or customer id, role) pairs they are
    added to; "emails" / "phones" may list several (the first is the primary one) instead of
    one "email" / "phone". Writes the people, their emails and phones with blind indexes, links
    and an audit event for each (the fields given). Returns their ids in the order given
    (caller commits); archived customers refuse (ArchivedError) before anything is written.
    Their name-search tokens are written with them."""
    ensure_all_editable([customer for person in people for customer, _ in person["links"]])
    given = [{k: v for k, v in person.items() if k != "links"} for person in people]
    ids = insert_rows(Contact, [{"first_name": p["first_name"], "last_name": p.get("last_name")}
                                for p in given])
    add_name_tokens("contact", {contact_id: (p["first_name"], p.get("last_name"))
                                for contact_id, p in zip(ids, given)})
    for model, attr in ((ContactEmail, "email"), (ContactPhone, "phone")):
        rows = [{"contact_id": contact_id, **_channel(attr, value), "is_primary": n == 0}
                for contact_id, p in zip(ids, given)
                for n, value in enumerate(p.get(f"{attr}s") or [p.get(attr)]) if value]
        if rows:
            db.session.execute(insert(model), rows)
    links = [(customer, contact_id, role) for contact_id, person in zip(ids, people)
             for customer, role in person["links"]]
    _insert_links(links)
    index_people({_id(customer) for customer, _, _ in links})
    record_many("create", "contact", [  # field names as the form's: "email", not "emails"
        (contact_id, sorted({k.removesuffix("s") if k in ("emails", "phones") else k
                             for k, v in p.items() if v}))
        for contact_id, p in zip(ids, given)], actor=actor)
    return ids


def _channel(attr: str, value: str) -> dict:
    """An email's or phone's columns: the value and its blind index."""
    return {attr: value, f"{attr}_bidx": INDEXERS[attr](value)}


def _id(record_or_id) -> int:
    return record_or_id if isinstance(record_or_id, int) else record_or_id.id


def _insert_links(links: list[tuple]):
    """CustomerContact rows for (customer or id, contact or id, role) triples; loaded records
    read their links again."""
    if not links:
        return
    db.session.execute(insert(CustomerContact), [
        {"customer_id": _id(customer), "contact_id": _id(contact), "role": role}
        for customer, contact, role in links])
    for customer, contact, _ in links:
        for loaded, attribute in ((customer, "contact_links"), (contact, "customer_links")):
            if not isinstance(loaded, int):
                expire_loaded(loaded, attribute)


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
    return link_contacts([(customer, contact, role)], actor=actor) == 1


def link_contacts(links: list[tuple], *, actor) -> int:
    """Link existing people to customers: (customer or id, contact or id, role) triples, in a
    few statements; a person already linked to that customer in that role is left as they are.
    One audit event per link made; returns how many were made (caller commits)."""
    ensure_all_editable([customer for customer, _, _ in links])
    wanted = {(_id(customer), _id(contact), role): (customer, contact, role)
              for customer, contact, role in links}
    for chunk in batches(list(wanted), 500):
        for there in db.session.execute(
            select(CustomerContact.customer_id, CustomerContact.contact_id, CustomerContact.role)
            .where(CustomerContact.customer_id.in_({key[0] for key in chunk}),
                   CustomerContact.contact_id.in_({key[1] for key in chunk}))
        ):
            wanted.pop(tuple(there), None)
    _insert_links(list(wanted.values()))
    index_people({customer_id for customer_id, _, _ in wanted})
    record_many("link", "contact", [(contact_id, ["customer_id", "role"])
                                    for _, contact_id, _ in wanted], actor=actor)
    return len(wanted)


def unlink_contact(customer, contact_id: int, *, actor) -> bool:
    """Take a person off the customer (every role). The person and their history stay."""
    ensure_editable(customer)
    removed = db.session.execute(delete(CustomerContact).where(
        CustomerContact.customer_id == customer.id, CustomerContact.contact_id == contact_id))
    if removed.rowcount:
        index_people([customer.id])
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


CHANNEL_FLAGS = ("opted_out", "invalid", "is_primary")
# At most this many emails and as many phones per person: room for real people, none for a
# form or file posted with thousands.
MAX_CHANNELS = 10


class TooManyChannels(ValueError):
    """More emails (or phones) than a person may have (MAX_CHANNELS)."""

    def __init__(self, attr: str):
        super().__init__(f"A person can have at most {MAX_CHANNELS} {attr}s. Remove one "
                         "before adding another.")
        self.attr = attr


def _sync_channels(rows: list, wanted: list[dict], make, attr: str) -> list[str]:
    """Make a contact's emails (or phones) match `wanted`; which kinds of change happened."""
    by_key = {getattr(r, f"{attr}_bidx"): r for r in rows}
    changes, keep = set(), []
    for item in wanted:
        columns = _channel(attr, item["value"])
        row = by_key.pop(columns[f"{attr}_bidx"], None)
        if row is None:  # a new one: its flags are part of it, not changes of their own
            row = make(**columns, **{flag: item[flag] for flag in CHANNEL_FLAGS})
            rows.append(row)
            changes.add(attr)
        for flag in CHANNEL_FLAGS:
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
    `customer` and `role`, their role at that customer too. Returns changed field names.
    More than MAX_CHANNELS emails or phones is TooManyChannels, before anything changes."""
    if customer is not None:
        ensure_editable(customer)
    for attr, items in (("email", emails), ("phone", phones)):
        if len(items) > MAX_CHANNELS:
            raise TooManyChannels(attr)
    taken = emails_taken([item["value"] for item in emails], contact.id)
    if taken:  # one email belongs to one person: two people with it are a merge
        raise EmailTaken(taken)
    if contact.version != expected_version:
        raise ConflictError(contact)
    changed = [k for k, v in data.items() if getattr(contact, k) != v]
    for field in changed:
        setattr(contact, field, data[field])
    changed += _sync_channels(contact.emails, emails, ContactEmail, "email")
    changed += _sync_channels(contact.phones, phones, ContactPhone, "phone")
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
    if {"first_name", "last_name"} & set(changed):  # after the save: one version step
        index_name("contact", contact.id, contact.first_name, contact.last_name)
        index_people([link.customer_id for link in contact.customer_links])
    if changed:
        record("update", "contact", contact.id, actor=actor, fields=sorted(set(changed)))
    return changed


def add_to_contact(contact: Contact, names: dict, *, emails=(), phones=(),
                   actor) -> list[str]:
    """What an import brings to a person on record, saved by update_contact(): the names given
    replace theirs, emails and phones they lack are added (the first their primary one if they
    have none yet), nothing is taken away. Returns the changed field names (caller commits)."""
    def channels(rows, attr, new):
        by_key = {getattr(r, f"{attr}_bidx"): r for r in rows}  # as _sync_channels keys them
        kept = [{"value": getattr(r, attr), "opted_out": r.opted_out, "invalid": r.invalid,
                 "is_primary": r.is_primary} for r in by_key.values()]
        for value in new:
            key = _channel(attr, value)[f"{attr}_bidx"]
            if key not in by_key:
                by_key[key] = value
                kept.append({"value": value, "opted_out": False, "invalid": False,
                             "is_primary": not any(k["is_primary"] for k in kept)})
        return kept

    return update_contact(contact, names, emails=channels(contact.emails, "email", emails),
                          phones=channels(contact.phones, "phone", phones),
                          expected_version=contact.version, actor=actor)
