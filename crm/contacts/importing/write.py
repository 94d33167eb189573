"""Writing a checked plan as one unit of work the caller commits, through the services the
forms use: create_customers and add_contacts for what is new (a few statements a batch), and
update_customer, the address services, add_to_contact and link_contacts for records already
here. Their audit events, blind indexes and search tokens are the forms' own."""
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from crm.common import batches
from crm.contacts.importing.check import Plan
from crm.contacts.models import Contact
from crm.contacts.services import add_contacts, add_to_contact, link_contacts
from crm.customers.models import Customer, format_number
from crm.customers.services import (
    add_delivery_address,
    create_customers,
    update_address,
    update_customer,
)
from crm.extensions import db


class ImportRefused(Exception):
    """apply() was asked to write a plan with errors without skip_invalid."""


BATCH = 1000


def apply(plan: Plan, *, actor, progress=None) -> dict:
    """Write the plan as one unit of work (the caller commits once, or rolls back). New
    customers and people go to the services in batches, a few statements each, never a query
    per row. `progress(done, total)` is called between batches."""
    if plan.refused:
        raise ImportRefused(f"{plan.errors} rows have errors")
    if plan.applied:
        raise RuntimeError("this plan was applied already")
    policy = plan.on_duplicate
    rows = [r for r in plan.rows if r.outcome in WRITTEN]
    groups = [g for g in plan.groups if any(r.outcome in WRITTEN for r in g.rows)]
    people = list({id(r.person): r.person for r in rows if r.person is not None}.values())
    matched_people = [p for p in people if p.matches and policy != "create"]
    matched_ids = {id(p) for p in matched_people}
    new_groups = [g for g in groups if g.create]
    new_people = [p for p in people if not (p.matches and policy != "create")]
    total, done = len(new_groups) + len(new_people) + 1, 0

    def step(n):
        nonlocal done
        done += n
        if progress:
            progress(done, total)

    # Existing records to update or link to, loaded in batches.
    customers = _load(Customer, {g.matches[0] for g in groups if not g.create},
                      selectinload(Customer.addresses))
    contacts = _load(Contact, {p.matches[0] for p in matched_people},
                     selectinload(Contact.emails), selectinload(Contact.phones),
                     selectinload(Contact.customer_links))
    links = {(link.customer_id, link.contact_id) for c in contacts.values()
             for link in c.customer_links}

    # 1. Customers: the new ones in batches, the matched ones updated (policy "update").
    for chunk in batches(new_groups, BATCH):
        ids = create_customers([_customer(group.values) for group in chunk], actor=actor)
        for group, customer_id in zip(chunk, ids):
            group.customer_id = customer_id
        step(len(chunk))
    for group in groups:
        if group.create:
            continue
        group.customer_id = group.matches[0]
        if policy == "update":
            changed = _update_customer(customers[group.customer_id], group.values, actor)
            if changed:
                first = next(r for r in group.rows if r.outcome in WRITTEN)
                first.message = f"Customer updated: {', '.join(changed)}."
    for row in rows:
        row.customer_id = row.group.customer_id

    # 2. People: the new ones in batches with their links, the matched ones updated.
    for chunk in batches(new_people, BATCH):
        ids = add_contacts([{**_person(person.row.data), "links": _links(person)}
                            for person in chunk], actor=actor)
        for person, contact_id in zip(chunk, ids):
            person.contact_id = contact_id
        step(len(chunk))
    for person in matched_people:
        person.contact_id = person.matches[0]
        if policy == "update":
            changed = _update_contact(contacts[person.contact_id], person.row.data, actor)
            if changed:
                row = person.rows[0]
                row.message = " ".join(filter(None, [
                    row.message, f"Contact updated: {', '.join(changed)}."]))

    # 3. Every written row's person at its customer: people on record linked to it.
    new_links = []
    for row in rows:
        if row.person is None:
            continue
        row.contact_id = row.person.contact_id
        if (row.customer_id, row.contact_id) in links:
            continue
        links.add((row.customer_id, row.contact_id))
        if id(row.person) in matched_ids:
            new_links.append((row.customer_id, row.contact_id, row.role))
            row.message = " ".join(filter(None, [
                row.message, f"Contact {row.contact_id} linked to this customer."]))
        elif row is not row.person.row:
            row.message = f"The person of line {row.person.row.line}, linked to this customer too."
    for chunk in batches(new_links, BATCH):
        link_contacts(chunk, actor=actor)
    first_of = {}
    for row in rows:
        first = first_of.setdefault(id(row.group), row)
        if row.message:
            continue
        if row.outcome == "updated":
            row.message = "Already up to date."
        elif row.group.create:
            if row is first:
                row.message = "New customer and contact." if row.person else "New customer."
            else:
                row.message = f"New contact at the customer of line {first.line}."
        else:
            row.message = f"Added to {format_number(row.customer_id)}."
    db.session.flush()
    step(total - done)
    plan.applied = True
    return plan.counts


WRITTEN = ("created", "updated")


def _customer(values: dict) -> dict:
    """A new customer of the file, as create_customers takes it."""
    return {"name": values["customer_name"], "kind": values["customer_kind"],
            "status": "active", "pricing_tier": "standard", "notes": values.get("notes"),
            "address": _address(values) if values.get("street") else None}


def _person(d: dict) -> dict:
    """A new person of the file, as add_contacts takes them (without their links)."""
    return {"first_name": d["first_name"], "last_name": d["last_name"] or None,
            "emails": d["emails"], "phones": d["phones"]}


def _links(person) -> list:
    """A new person's (customer id, role) at each customer of the file they are written for."""
    found = {}
    for row in person.rows:
        if row.outcome in WRITTEN:
            found.setdefault(row.customer_id, row.role)
    return list(found.items())


def _address(values: dict) -> dict:
    return {"street": values.get("street"), "city": values.get("city"),
            "region": values.get("region") or None, "postal_code": values.get("postal_code") or None,
            "country": values.get("country") or "US"}


def _load(model, ids, *options) -> dict:
    found = {}
    for chunk in batches(sorted(ids), 500):
        for item in db.session.scalars(select(model).where(model.id.in_(chunk)).options(*options)):
            found[item.id] = item
    return found


def _update_customer(customer: Customer, values: dict, actor) -> list:
    """Non-empty values of the file over the customer's (policy "update"), saved as the
    customer's edit form saves them; the changed names."""
    given = {"kind": values.get("customer_kind"), "notes": values.get("notes")}
    changed = update_customer(customer, {k: v for k, v in given.items() if v},
                              expected_version=customer.version, actor=actor)
    if values.get("street"):
        place = customer.delivery_address
        if place is None:
            add_delivery_address(customer, _address(values), actor=actor)
            changed.append("address")
        elif update_address(place, {k: v for k, v in _address(values).items() if v},
                            expected_version=place.version, actor=actor):
            changed.append("address")
    return changed


def _update_contact(contact: Contact, d: dict, actor) -> list:
    """Names overwritten when given; new emails and phones added (primary if it has none)."""
    return add_to_contact(contact, {k: d[k] for k in ("first_name", "last_name") if d[k]},
                          emails=d["emails"], phones=d["phones"], actor=actor)
