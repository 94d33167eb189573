"""Writing a checked plan: customers, contacts, their links, addresses, search tokens and audit
events, as one unit of work the caller commits."""
from sqlalchemy import insert, select
from sqlalchemy.orm import selectinload

from crm.audit.services import record
from crm.common import batches
from crm.contacts.importing.check import Plan
from crm.contacts.models import Contact, ContactEmail, ContactPhone, CustomerContact
from crm.customers.models import Address, Customer, format_number
from crm.extensions import db
from crm.security.blind_index import email_index, name_tokens, phone_index
from crm.security.models import SearchToken


class ImportRefused(Exception):
    """apply() was asked to write a plan with errors without skip_invalid."""


BATCH = 1000


def apply(plan: Plan, *, actor, progress=None) -> dict:
    """Write the plan as one unit of work (the caller commits once, or rolls back). Customers,
    contacts, emails, phones, addresses, links, search tokens and audit events are written in
    batches, one flush per batch, never a query per row. `progress(done, total)` is called
    between batches."""
    if plan.refused:
        raise ImportRefused(f"{plan.errors} rows have errors")
    if plan.applied:
        raise RuntimeError("this plan was applied already")
    policy = plan.on_duplicate
    rows = [r for r in plan.rows if r.outcome in ("created", "updated")]
    groups = [g for g in plan.groups if any(r.outcome in ("created", "updated") for r in g.rows)]
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
        made = []
        for group in chunk:
            v = group.values
            customer = Customer(name=v["customer_name"], kind=v["customer_kind"], status="active",
                                pricing_tier="standard", notes=v.get("notes"))
            if v.get("street"):
                customer.addresses.append(Address(kind="delivery", **_address(v)))
            made.append((group, customer))
        db.session.add_all(c for _, c in made)
        db.session.flush()
        tokens = []
        for group, customer in made:
            group.customer_id = customer.id
            tokens.extend({"entity_type": "customer", "entity_id": customer.id, "token": t}
                          for t in name_tokens(customer.name))
            record("create", "customer", customer.id, actor=actor,
                   fields=["kind", "name", "pricing_tier", "status"]
                   + (["notes"] if customer.notes else []))
            for place in customer.addresses:
                record("create", "address", place.id, actor=actor,
                       fields=[k for k, v in _address(group.values).items() if v])
        if tokens:
            db.session.execute(insert(SearchToken), tokens)
        step(len(chunk))
    for group in groups:
        if group.create:
            continue
        group.customer_id = group.matches[0]
        if policy == "update":
            changed = _update_customer(customers[group.customer_id], group.values, actor)
            if changed:
                first = next(r for r in group.rows if r.outcome in ("created", "updated"))
                first.message = f"Customer updated: {', '.join(changed)}."

    # 2. People: the new ones in batches, the matched ones updated (policy "update").
    for chunk in batches(new_people, BATCH):
        made = []
        for person in chunk:
            d = person.row.data
            contact = Contact(first_name=d["first_name"], last_name=d["last_name"] or None)
            if d["email"]:
                contact.emails.append(ContactEmail(
                    email=d["email"], email_bidx=email_index(d["email"]), is_primary=True))
            if d["phone"]:
                contact.phones.append(ContactPhone(
                    phone=d["phone"], phone_bidx=phone_index(d["phone"]), is_primary=True))
            made.append((person, contact))
        db.session.add_all(c for _, c in made)
        db.session.flush()
        for person, contact in made:
            person.contact_id = contact.id
            record("create", "contact", contact.id, actor=actor,
                   fields=[k for k in ("first_name", "last_name", "email", "phone")
                           if person.row.data[k]])
        step(len(chunk))
    for person in matched_people:
        person.contact_id = person.matches[0]
        if policy == "update":
            changed = _update_contact(contacts[person.contact_id], person.row.data, actor)
            if changed:
                row = person.rows[0]
                row.message = " ".join(filter(None, [
                    row.message, f"Contact updated: {', '.join(changed)}."]))

    # 3. Every written row: its customer, and its person linked to that customer.
    new_links = []
    for row in rows:
        row.customer_id = row.group.customer_id
        if row.person is None:
            continue
        row.contact_id = row.person.contact_id
        if (row.customer_id, row.contact_id) in links:
            continue
        links.add((row.customer_id, row.contact_id))
        new_links.append({"customer_id": row.customer_id, "contact_id": row.contact_id,
                          "role": row.role})
        if id(row.person) in matched_ids:
            record("link", "contact", row.contact_id, actor=actor, fields=["customer_id", "role"])
            row.message = " ".join(filter(None, [
                row.message, f"Contact {row.contact_id} linked to this customer."]))
        elif row is not row.person.row:
            row.message = f"The person of line {row.person.row.line}, linked to this customer too."
    for chunk in batches(new_links, BATCH):
        db.session.execute(insert(CustomerContact), chunk)
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
    """Non-empty values of the file over the customer's (policy "update"); changed names."""
    changed = []
    if values.get("customer_kind") and customer.kind != values["customer_kind"]:
        customer.kind = values["customer_kind"]
        changed.append("kind")
    if values.get("notes") and customer.notes != values["notes"]:
        customer.notes = values["notes"]
        changed.append("notes")
    if changed:
        record("update", "customer", customer.id, actor=actor, fields=changed)
    if values.get("street"):
        given = {k: v for k, v in _address(values).items() if v}
        place = customer.delivery_address
        if place is None:
            place = Address(customer=customer, kind="delivery", **_address(values))
            db.session.add(place)
            db.session.flush()
            record("create", "address", place.id, actor=actor, fields=sorted(given))
            changed.append("address")
        else:
            moved = [k for k, v in given.items() if getattr(place, k) != v]
            for k in moved:
                setattr(place, k, given[k])
            if moved:
                record("update", "address", place.id, actor=actor, fields=moved)
                changed.append("address")
    return changed


def _update_contact(contact: Contact, d: dict, actor) -> list:
    """Names overwritten when given; a new email or phone added (primary if it has none)."""
    changed = []
    for column in ("first_name", "last_name"):
        if d[column] and getattr(contact, column) != d[column]:
            setattr(contact, column, d[column])
            changed.append(column)
    if d["email"] and all(e.email != d["email"] for e in contact.emails):
        contact.emails.append(ContactEmail(email=d["email"], email_bidx=email_index(d["email"]),
                                           is_primary=not contact.emails))
        changed.append("email")
    if d["phone"] and all(p.phone != d["phone"] for p in contact.phones):
        contact.phones.append(ContactPhone(phone=d["phone"], phone_bidx=phone_index(d["phone"]),
                                           is_primary=not contact.phones))
        changed.append("phone")
    if changed:
        record("update", "contact", contact.id, actor=actor, fields=changed)
    return changed

