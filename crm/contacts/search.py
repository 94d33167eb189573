"""Finding people by what staff remember: a first or last name (word-prefix tokens), a full
email or a phone number in any format (blind indexes). The directory (Contacts), the customer
search's people part (declared as crm.features.CustomerFinder in crm.contacts) and the header
search's People group all read through here, in a fixed number of queries per page.

Two sets of name tokens: each person's own ("contact", for the directory and People), and for
each customer those of all its people together (PEOPLE, keyed by the customer's id), so the
customer search walks one token index in customer order and stops after a page, as it does
for customers' own names, instead of sorting everyone with a common first name."""
import re

from flask import current_app, url_for
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm import normalise
from crm.common import batches
from crm.contacts.models import CONTACT_ROLES, Contact, ContactEmail, ContactPhone, CustomerContact
from crm.customers.models import Customer
from crm.extensions import db
from crm.features import Hit
from crm.normalise import clean_text
from crm.security.blind_index import (
    can_shorten,
    email_index,
    has_prefixes,
    phone_index,
    query_tokens,
)
from crm.security.search import add_name_tokens, drop_tokens, name_match

# What may be a phone number: digits with the usual separators, 7 digits at least. A number
# of up to 9 bare digits is a customer number first (crm.customers.services.NUMBER_RE).
PHONE_RE = re.compile(r"^\+?[0-9(][0-9 ().\-/]{5,24}$")


def typed_phone(q: str) -> str | None:
    """What was typed as a phone number in E.164 (the farm's region when it has no country
    code), or None when it is not one."""
    q = clean_text(q)
    if not PHONE_RE.match(q) or sum(ch.isdigit() for ch in q) < 7:
        return None
    try:
        return normalise.phone(q, current_app.config["DEFAULT_PHONE_REGION"])
    except ValueError:
        return None


def typed_channel(q: str):
    """("email", select of contact ids) when an email was typed, ("phone", ...) for a phone
    number, else (None, None). Exact lookups on the blind indexes."""
    q = clean_text(q)
    if "@" in q:
        return "email", select(ContactEmail.contact_id).where(ContactEmail.email_bidx
                                                              == email_index(q))
    phone = typed_phone(q)
    if phone:
        return "phone", select(ContactPhone.contact_id).where(ContactPhone.phone_bidx
                                                              == phone_index(phone))
    return None, None


def initialled(first: str | None, last: str | None) -> str:
    """A person as a search result names them: first name and the last name's initial
    ("Marguerite O…")."""
    initial = (last or "").strip()[:1]
    return f"{first or ''} {initial}…".strip() if initial else (first or "")


# -- the customer search (crm.features.CustomerFinder) ------------------------------------------

PEOPLE = "customer_people"  # search tokens of a customer's people's names, by customer id


def customers_by_channel(q: str):
    """The customers of the people with the email or phone number typed; None for anything
    else (the customer search then reads words)."""
    _, people = typed_channel(q)
    if people is None:
        return None
    return select(CustomerContact.customer_id).where(CustomerContact.contact_id.in_(people))


def index_people(customer_ids):
    """Rebuild the PEOPLE tokens of these customers from the names of everyone linked to them
    (caller commits): a query and two statements per 500 customers. Every service that adds,
    links, unlinks, renames or merges people calls it for the customers concerned."""
    for chunk in batches(sorted(set(customer_ids)), 500):
        names = {customer_id: [] for customer_id in chunk}
        seen = set()
        for customer_id, contact_id, first, last in db.session.execute(
                select(CustomerContact.customer_id, Contact.id, Contact.first_name,
                       Contact.last_name)
                .join(Contact, Contact.id == CustomerContact.contact_id)
                .where(CustomerContact.customer_id.in_(chunk))):
            if (customer_id, contact_id) not in seen:  # once, whatever their roles
                seen.add((customer_id, contact_id))
                names[customer_id] += [first, last]
        drop_tokens(PEOPLE, *chunk)
        add_name_tokens(PEOPLE, {i: tuple(n for n in given if n) for i, given in names.items()})


def why_customers(q: str, customer_ids: list[int], *, shorter: bool = False) -> dict:
    """{customer id: "contact: Zoe R…"} (with "(email)" or "(phone)" for those) for the people
    of these customers who match what was typed: one query, the names compared once decrypted
    (as their tokens would). A customer found by words spread over several of its people
    names those who have any of them."""
    how, people = typed_channel(q)
    rows = select(CustomerContact.customer_id, Contact.id, Contact.first_name,
                  Contact.last_name).join(Contact, Contact.id == CustomerContact.contact_id)
    rows = rows.where(CustomerContact.customer_id.in_(customer_ids))
    if people is not None:
        rows = rows.where(Contact.id.in_(people))
    found: dict[int, dict[int, tuple]] = {}
    for customer_id, contact_id, first, last in db.session.execute(
            rows.order_by(CustomerContact.customer_id, Contact.id)):
        found.setdefault(customer_id, {})[contact_id] = (first, last)
    why = {}
    for customer_id, named in found.items():
        if people is None:
            def has(name, typed):
                return has_prefixes(" ".join(filter(None, name)), typed, shorter=shorter)
            named = ([n for n in named.values() if has(n, q)]
                     or [n for n in named.values() if any(has(n, w) for w in q.split())])
        else:
            named = list(named.values())
        if named:
            shown = [initialled(first, last) for first, last in named]
            why[customer_id] = (("contact: " if len(shown) == 1 else "contacts: ")
                                + ", ".join(shown[:2]) + (" and others" if len(shown) > 2
                                                           else "")
                                + (f" ({how})" if how else ""))
    return why


# -- the directory and the header search --------------------------------------------------------

def search_people(q: str = "", *, page: int = 1, per_page: int = 25, shorter: bool = False,
                  details: bool = True):
    """One page of people, oldest first, with their customers and (with `details`) their
    emails and phones, in two or four queries however many there are, and whether there is a
    next page. `q`: an email, a phone number or the start of their names' words (every word
    typed)."""
    options = [selectinload(Contact.customer_links).joinedload(CustomerContact.customer)
               .load_only(Customer.id, Customer.name, Customer.archived_at)]
    if details:
        options += [selectinload(Contact.emails), selectinload(Contact.phones)]
    query = select(Contact).options(*options)
    order, params = (Contact.id,), {}
    q = clean_text(q)
    if q:
        _, people = typed_channel(q)
        if people is not None:
            query = query.where(Contact.id.in_(people))
        elif (match := name_match("contact", q, shorter=shorter)) is not None:
            tokens, condition, params = match
            query = query.join(tokens, tokens.entity_id == Contact.id).where(condition)
            order = (tokens.entity_id,)  # the token index in id order: a page stops early
        else:
            return [], False
    rows = db.session.scalars(query.order_by(*order).offset((page - 1) * per_page)
                              .limit(per_page + 1), params).all()
    return rows[:per_page], len(rows) > per_page


def searchable(q: str) -> bool:
    """Whether what was typed can find anyone: an email, a phone number, a word of 2+ letters."""
    return typed_channel(q)[0] is not None or bool(query_tokens(q))


def find_people(q: str = "", *, page: int = 1, per_page: int = 25, details: bool = True):
    """search_people(), with the typo allowance when words find nobody: (people, has_next,
    close), close when they match one letter shorter."""
    people, more = search_people(q, page=page, per_page=per_page, details=details)
    if (not people and typed_channel(q)[0] is None and can_shorten(q)
            and (page == 1 or not search_people(q, per_page=1, details=False)[0])):
        people, more = search_people(q, page=page, per_page=per_page, shorter=True,
                                     details=details)
        return people, more, bool(people)
    return people, more, False


def roles_at(contact: Contact) -> list[tuple]:
    """(customer, "Primary, Ordering") for each customer the person is linked to."""
    found: dict[int, tuple] = {}
    for link in sorted(contact.customer_links, key=lambda lk: (lk.customer_id, lk.role)):
        customer, roles = found.setdefault(link.customer_id, (link.customer, []))
        roles.append(CONTACT_ROLES.get(link.role, link.role))
    return [(customer, ", ".join(roles)) for customer, roles in found.values()]


def people_hits(q: str, *, user, limit: int = 5) -> list[Hit]:
    """The header search's People (declared as a crm.features.Finder): each person's name, why
    they matched when it was not their name, and their customers."""
    people, _, close = find_people(q, per_page=limit, details=False)
    how = typed_channel(q)[0]
    hits = []
    for person in people:
        at = [f"{customer.name} ({roles})" for customer, roles in roles_at(person)[:2]]
        detail = [f"{how} matches"] if how else (["close match"] if close else [])
        hits.append(Hit(person.full_name, url_for("contacts.detail", contact_id=person.id),
                        " · ".join(detail + at)))
    return hits

