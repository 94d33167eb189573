"""A contact's page: the person, then the sections other features declare for it
(`contact_sections` in crm.features), e.g. communications' timeline and quick log."""
from flask import render_template

from crm.features import registry, rendered_sections


def contact_page(contact, status: int = 200, replace: dict | None = None):
    """The whole page. `replace` {section template: context} gives a section the context it
    is re-rendered with (a form with its errors) instead of asking its feature."""
    sections = rendered_sections(registry().contact_sections, replace, contact=contact)
    return render_template("contacts/detail.html", contact=contact, sections=sections), status


ROLE_ORDER = ("primary", "ordering", "kitchen", "receiving", "billing")


def who_to_call(customer):
    """The Overview's "Who to call": the customer's people, the primary one first, with
    tap-to-call and email links (a fixed number of queries however many people)."""
    from sqlalchemy import select
    from sqlalchemy.orm import joinedload

    from crm.contacts.models import Contact, CustomerContact
    from crm.extensions import db

    links = db.session.scalars(
        select(CustomerContact).where(CustomerContact.customer_id == customer.id)
        .options(joinedload(CustomerContact.contact).selectinload(Contact.emails),
                 joinedload(CustomerContact.contact).selectinload(Contact.phones))
    ).all()
    rank = {role: n for n, role in enumerate(ROLE_ORDER)}
    links.sort(key=lambda link: (rank.get(link.role, len(rank)), link.contact_id))
    return {"people": links[:2], "more": max(len(links) - 2, 0)}
