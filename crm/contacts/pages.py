"""A contact's page: the person, then the sections other features declare for it
(`contact_sections` in crm.features), e.g. communications' timeline and quick log."""
from dataclasses import dataclass
from functools import cache

from flask import render_template

from crm.extensions import db
from crm.features import registry, rendered_sections


def contact_page(contact, status: int = 200, replace: dict | None = None):
    """The whole page. `replace` {section template: context} gives a section the context it
    is re-rendered with (a form with its errors) instead of asking its feature."""
    sections = rendered_sections(registry().contact_sections, replace, contact=contact)
    return render_template("contacts/detail.html", contact=contact, sections=sections), status


ROLE_ORDER = ("primary", "ordering", "kitchen", "receiving", "billing")
SHOWN_PEOPLE = 2


def who_to_call(customer):
    """The Overview's "Who to call": the customer's first two people, the primary one first,
    with tap-to-call and email links, and how many more (one statement however many people)."""
    rows = db.session.execute(_people_statement(), {"customer_id": customer.id}).all()
    people = [Person(row.id, " ".join(p for p in (row.first_name, row.last_name) if p),
                     row.role, row.phone, row.email) for row in rows]
    return {"people": people, "more": rows[0].total - len(rows) if rows else 0}


@dataclass(frozen=True)
class Person:
    """One of the card's people: a contact in one of its roles at the customer."""

    id: int
    full_name: str
    role: str
    phone: str | None  # the primary number, else the first; None when there is none
    email: str | None


@cache  # built once (once every model is mapped): its cache key too
def _people_statement():
    """The people the card shows, in its order (by role, then by person), each with the phone
    and email it shows (the primary one, else the first), and how many links there are in all:
    only the names and those two are read and decrypted (no notes, no other numbers)."""
    from sqlalchemy import bindparam, case, func, select

    from crm.contacts.models import Contact, ContactEmail, ContactPhone, CustomerContact

    def shown(model, column):  # the primary one, else the first (Contact.primary_phone…)
        return (select(column).where(model.contact_id == Contact.id)
                .order_by(model.is_primary.desc(), model.id).limit(1)
                .correlate(Contact).scalar_subquery())

    rank = case({role: n for n, role in enumerate(ROLE_ORDER)}, value=CustomerContact.role,
                else_=len(ROLE_ORDER))
    return (select(Contact.id, Contact.first_name, Contact.last_name, CustomerContact.role,
                   shown(ContactPhone, ContactPhone.phone).label("phone"),
                   shown(ContactEmail, ContactEmail.email).label("email"),
                   func.count().over().label("total"))
            .join(Contact, Contact.id == CustomerContact.contact_id)
            .where(CustomerContact.customer_id == bindparam("customer_id"))
            .order_by(rank, CustomerContact.contact_id).limit(SHOWN_PEOPLE))
