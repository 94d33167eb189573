"""Customer records: listing, search, create, update with conflict detection, archive."""
import re

from sqlalchemy import select
from sqlalchemy.orm import defer, joinedload, selectinload

from crm.audit.services import record
from crm.auth.models import StaffUser
from crm.common import ConflictError, save_versioned, utcnow
from crm.contacts.models import Contact, ContactEmail, CustomerContact
from crm.contacts.merge import survivor_of
from crm.contacts.normalise import clean_text
from crm.contacts.services import add_contact
from crm.customers.models import KINDS, STATUSES, Address, Customer
from crm.extensions import db
from crm.security.blind_index import email_index, query_tokens
from crm.security.search import index_name, name_match

EDITABLE_FIELDS = ("name", "kind", "status", "pricing_tier", "owner_id", "parent_id", "notes")

SORTS = {
    "number": (Customer.id.asc(),),
    "-number": (Customer.id.desc(),),
    "updated": (Customer.updated_at.desc(), Customer.id.desc()),
    "kind": (Customer.kind.asc(), Customer.id.asc()),
    "status": (Customer.status.asc(), Customer.id.asc()),
}
NUMBER_RE = re.compile(r"^(?:cust-?)?0*(\d{1,9})$", re.IGNORECASE)


def find_by_number(number: str) -> Customer | None:
    match = NUMBER_RE.match((number or "").strip())
    if not match:
        return None
    return db.session.get(Customer, current_id(int(match[1])))


def current_id(customer_id: int) -> int:
    """The id itself, or the customer it was merged into (a merged-away number still works)."""
    return survivor_of("customer", customer_id) or customer_id


def search_customers(
    q: str = "", kind: str = "", status: str = "", archived: bool = False,
    sort: str = "number", page: int = 1, per_page: int = 50,
):
    """One page of customers and whether there is a next page (no COUNT over the table)."""
    # Only what the list shows is decrypted: no notes, and of the owner only the name.
    query = select(Customer).options(
        defer(Customer.notes),
        joinedload(Customer.owner).load_only(StaffUser.id, StaffUser.name, StaffUser.active),
    )
    query = query.where(
        Customer.archived_at.is_not(None) if archived else Customer.archived_at.is_(None)
    )
    if kind:
        query = query.where(Customer.kind == kind)
    if status:
        query = query.where(Customer.status == status)
    order, params = SORTS.get(sort, SORTS["number"]), {}
    q = clean_text(q)
    if q and searchable(q):
        match = NUMBER_RE.match(q)
        if match:
            query = query.where(Customer.id == current_id(int(match[1])))
        elif "@" in q:
            query = query.where(Customer.id.in_(
                select(CustomerContact.customer_id)
                .join(ContactEmail, ContactEmail.contact_id == CustomerContact.contact_id)
                .where(ContactEmail.email_bidx == email_index(q))
            ))
        else:
            tokens, condition, params = name_match("customer", q)
            query = query.join(tokens, tokens.entity_id == Customer.id).where(condition)
            if sort in ("number", "-number"):  # walk the token index in id order, stop early
                order = (tokens.entity_id.desc() if sort == "-number" else tokens.entity_id,)
    query = query.order_by(*order)
    query = query.offset((page - 1) * per_page).limit(per_page + 1)
    rows = db.session.scalars(query, params).all()
    return rows[:per_page], len(rows) > per_page


def list_filters(source) -> dict:
    """The customer list's filters from a query string or a form, unknown values dropped (the
    list and its CSV export read the same)."""
    return {
        "kind": source.get("kind", "") if source.get("kind") in KINDS else "",
        "status": source.get("status", "") if source.get("status") in STATUSES else "",
        "archived": source.get("archived") == "1",
        "sort": source.get("sort") if source.get("sort") in SORTS else "number",
    }


def searchable(q: str) -> bool:
    """Whether a typed search can match: a number, an email, or a word of 2+ letters."""
    q = clean_text(q)
    return bool(NUMBER_RE.match(q) or "@" in q or query_tokens(q))


def get_customer(customer_id: int, *, overview: bool = True,
                 contacts: str | None = None) -> Customer | None:
    """A customer with what its page shows, in fixed queries: always the header (owner,
    parent); with `overview` its addresses and locations; `contacts` "names" or "details"
    (with their emails and phones)."""
    options = [joinedload(Customer.owner), joinedload(Customer.parent)]
    if overview:
        options += [selectinload(Customer.locations).load_only(Customer.id, Customer.name),
                    selectinload(Customer.addresses)]
    if contacts:
        people = selectinload(Customer.contact_links).joinedload(CustomerContact.contact)
        if contacts == "details":
            people = people.options(selectinload(Contact.emails), selectinload(Contact.phones))
        options.append(people)
    return db.session.scalar(select(Customer).where(Customer.id == customer_id).options(*options))


def create_customer(data: dict, *, contact: dict | None, address: dict | None, actor) -> Customer:
    """A new customer with its primary contact and delivery address (caller commits)."""
    customer = Customer(**{k: data.get(k) for k in EDITABLE_FIELDS})
    db.session.add(customer)
    db.session.flush()
    index_name("customer", customer.id, customer.name)
    record("create", "customer", customer.id, actor=actor,
           fields=[k for k in EDITABLE_FIELDS if data.get(k) is not None])
    if contact:
        add_contact(customer, contact, role="primary", actor=actor)
    if address:
        place = Address(customer=customer, kind="delivery", **address)
        db.session.add(place)
        db.session.flush()
        record("create", "address", place.id, actor=actor,
               fields=[k for k, v in address.items() if v])
    return customer


def update_customer(customer: Customer, data: dict, *, expected_version: int, actor) -> list[str]:
    """Apply changes if nobody saved in between; returns the changed field names.

    ConflictError when the record moved on since the editor loaded version `expected_version`.
    The caller commits.
    """
    if customer.version != expected_version:
        raise ConflictError(customer)
    changed = [k for k in EDITABLE_FIELDS if k in data and getattr(customer, k) != data[k]]
    if not changed:
        return []
    for field in changed:
        setattr(customer, field, data[field])
    save_versioned(lambda: db.session.get(Customer, customer.id))
    if "name" in changed:
        index_name("customer", customer.id, data["name"])
    record("update", "customer", customer.id, actor=actor, fields=changed)
    return changed


def set_archived(customer: Customer, archived: bool, *, actor):
    """Archive or restore (caller commits)."""
    if customer.is_archived == archived:
        return False
    customer.archived_at = utcnow() if archived else None
    record("archive" if archived else "restore", "customer", customer.id, actor=actor,
           fields=["archived_at"])
    return True


ADDRESS_FIELDS = ("kind", "street", "street2", "city", "region", "postal_code", "country",
                  "delivery_instructions")


def add_address(customer: Customer, data: dict, *, actor) -> Address:
    """A new address for the customer (caller commits)."""
    place = Address(customer=customer, **{k: data.get(k) for k in ADDRESS_FIELDS})
    db.session.add(place)
    db.session.flush()
    record("create", "address", place.id, actor=actor, fields=[k for k, v in data.items() if v])
    return place


def update_address(place: Address, data: dict, *, expected_version: int, actor) -> list[str]:
    """Save an address edit if nobody saved in between (ConflictError otherwise)."""
    if place.version != expected_version:
        raise ConflictError(place)
    changed = [k for k in ADDRESS_FIELDS if k in data and getattr(place, k) != data[k]]
    for field in changed:
        setattr(place, field, data[field])
    save_versioned(lambda: db.session.get(Address, place.id))
    if changed:
        record("update", "address", place.id, actor=actor, fields=changed)
    return changed


def remove_address(place: Address, *, actor):
    record("delete", "address", place.id, actor=actor, fields=[])
    db.session.delete(place)
