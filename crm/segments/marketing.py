"""Marketing lists that respect consent: the people of a set of customers who may be sent a
campaign on one channel, and how many were left out and why.

A person (a contact linked to one of the customers, in any role; once however many of the
customers they buy for) is in the list for `channel` when, checked in this order (the first
that fails is the reason they are left out):

1. they gave marketing consent and have not withdrawn it (crm.preferences ContactPreference;
   no record is no consent) — else "no marketing consent";
2. the channels they want to be reached by include `channel`, or they named none — else
   "prefers not to be contacted by email" (SMS, phone);
3. they have an email (for email) or a phone number (for SMS and phone) — else "no email" /
   "no phone number";
4. one of them is neither opted out nor invalid — else the reason of their primary one (or
   the first, without a primary): "email opted out" before "email invalid" (phone the same).

The address used is the primary one when it is usable, else the first usable one. The rows
carry the consent's date and source, so a campaign can show where its consent came from.
Archived customers' people are not included (nor counted as left out).
"""
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select

from crm.common import farm_zone
from crm.contacts.models import Contact, ContactEmail, ContactPhone, CustomerContact
from crm.customers.models import Customer, format_number
from crm.extensions import db
from crm.preferences.models import ContactPreference

MARKETING_CHANNELS = {"email": "email", "sms": "SMS", "phone": "phone"}
CHUNK = 5000  # ids per IN (…) when reading back the chosen people and addresses


@dataclass(frozen=True)
class MarketingRow:
    contact_id: int
    first_name: str
    last_name: str | None
    address: str  # the email or the phone number (E.164)
    customers: tuple[tuple[int, str], ...]  # (customer id, name) of the list's customers
    consent_at: datetime | None
    consent_source: str | None


def _noun(channel: str) -> str:
    return "email" if channel == "email" else "phone"


def reasons(channel: str) -> tuple[str, ...]:
    """Every reason a person may be left out on `channel`, in the order they are checked."""
    noun = _noun(channel)
    return ("no marketing consent", f"prefers not to be contacted by {MARKETING_CHANNELS[channel]}",
            "no email" if channel == "email" else "no phone number", f"{noun} opted out",
            f"{noun} invalid")


def _chunks(ids):
    ids = sorted(ids)
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def marketing_contacts(customer_ids: Select, channel: str) -> tuple[list[MarketingRow], Counter]:
    """(the people of the customers `customer_ids` selects who may get marketing on `channel`,
    ordered by contact id; Counter {reason: people left out}). Reads only, in a fixed number
    of queries plus one per CHUNK people kept."""
    if channel not in MARKETING_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    wanted = customer_ids.subquery()
    links = db.session.execute(
        select(CustomerContact.contact_id, CustomerContact.customer_id)
        .join(Customer, Customer.id == CustomerContact.customer_id)
        .where(CustomerContact.customer_id.in_(select(wanted.c[0])),
               Customer.archived_at.is_(None))
        .distinct()).all()
    customers_of: dict[int, set[int]] = {}
    for contact_id, customer_id in links:
        customers_of.setdefault(contact_id, set()).add(customer_id)
    people = select(CustomerContact.contact_id).join(
        Customer, Customer.id == CustomerContact.customer_id).where(
        CustomerContact.customer_id.in_(select(wanted.c[0])), Customer.archived_at.is_(None))
    prefs = {row.contact_id: row for row in db.session.execute(
        select(ContactPreference.contact_id, ContactPreference.marketing_consent,
               ContactPreference.consent_withdrawn_at, ContactPreference.channels,
               ContactPreference.consent_at, ContactPreference.consent_source)
        .where(ContactPreference.contact_id.in_(people)))}
    model = ContactEmail if channel == "email" else ContactPhone
    addresses: dict[int, list] = {}
    for row in db.session.execute(
            select(model.contact_id, model.id, model.is_primary, model.opted_out, model.invalid)
            .where(model.contact_id.in_(people)).order_by(model.contact_id, model.id)):
        addresses.setdefault(row.contact_id, []).append(row)

    why = reasons(channel)
    left_out: Counter = Counter()
    chosen: dict[int, int] = {}  # contact id -> address id
    for contact_id in sorted(customers_of):
        pref = prefs.get(contact_id)
        if pref is None or not pref.marketing_consent or pref.consent_withdrawn_at is not None:
            left_out[why[0]] += 1
            continue
        ticked = [c for c in (pref.channels or "").split(",") if c]
        if ticked and channel not in ticked:
            left_out[why[1]] += 1
            continue
        mine = addresses.get(contact_id, [])
        if not mine:
            left_out[why[2]] += 1
            continue
        usable = [a for a in mine if not a.opted_out and not a.invalid]
        if not usable:
            first = next((a for a in mine if a.is_primary), mine[0])
            left_out[why[3] if first.opted_out else why[4]] += 1
            continue
        chosen[contact_id] = next((a for a in usable if a.is_primary), usable[0]).id

    column = model.email if channel == "email" else model.phone
    text_of, names = {}, {}
    for ids in _chunks(chosen.values()):
        text_of.update((k, v) for k, v in db.session.execute(
            select(model.id, column).where(model.id.in_(ids))))
    for ids in _chunks(chosen):
        names.update({row.id: row for row in db.session.execute(
            select(Contact.id, Contact.first_name, Contact.last_name)
            .where(Contact.id.in_(ids)))})
    wanted_customers = {c for ids in (customers_of[p] for p in chosen) for c in ids}
    customer_names = {}
    for ids in _chunks(wanted_customers):
        customer_names.update((k, v) for k, v in db.session.execute(
            select(Customer.id, Customer.name).where(Customer.id.in_(ids))))
    rows = [MarketingRow(
        contact_id=contact_id, first_name=names[contact_id].first_name,
        last_name=names[contact_id].last_name, address=text_of[address_id],
        customers=tuple((c, customer_names[c]) for c in sorted(customers_of[contact_id])),
        consent_at=prefs[contact_id].consent_at, consent_source=prefs[contact_id].consent_source,
    ) for contact_id, address_id in chosen.items()]
    return rows, left_out


def summary(rows, left_out: Counter, channel: str) -> str:
    """"123 people in the list; 17 left out: 9 no marketing consent, 5 email opted out, …"
    (reasons in the order they are checked)."""
    kept = f"{len(rows)} {'person' if len(rows) == 1 else 'people'} in the list"
    total = sum(left_out.values())
    if not total:
        return f"{kept}; nobody left out."
    parts = [f"{left_out[r]} {r}" for r in reasons(channel) if left_out.get(r)]
    return f"{kept}; {total} left out: {', '.join(parts)}."


CSV_COLUMNS = ("First name", "Last name", "{address}", "Customer numbers", "Customers",
               "Consent given", "Consent source")


def csv_rows(rows, channel: str):
    """The header and one list of cells per person (not yet made formula-safe); the consent's
    day in farm time."""
    zone = farm_zone()
    yield [c.format(address="Email" if channel == "email" else "Phone") for c in CSV_COLUMNS]
    for r in rows:
        yield [r.first_name, r.last_name or "", r.address,
               "; ".join(format_number(c) for c, _ in r.customers),
               "; ".join(name for _, name in r.customers),
               r.consent_at.astimezone(zone).date().isoformat() if r.consent_at else "", r.consent_source or ""]
