"""Checking every row: validation and normalisation of each cell, who is the same customer or
person within the file, matches with the database (non-archived customers by name, contacts by
blind index or by name at the matched customer) and the plan: each row's outcome under the
policy. Reads the database, writes nothing."""
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from crm import normalise
from crm.common import batches
from crm.contacts.importing.columns import COLUMNS, LABELS, loose_key, unsafe_cell
from crm.contacts.importing.mapping import MULTI, split_values
from crm.contacts.importing.read import ImportFileError, Parsed, Row
from crm.contacts.models import CONTACT_ROLES, Contact, ContactEmail, ContactPhone, CustomerContact
from crm.contacts.services import MAX_CHANNELS
from crm.customers.forms import COUNTRIES
from crm.customers.models import KINDS, Customer, format_number
from crm.extensions import db
from crm.security.blind_index import email_index, phone_index, words

POLICIES = {
    "skip": "Skip it: leave the existing record as it is",
    "update": "Update the existing record with the file's values",
    "create": "Create a new record anyway",
}
DEFAULT_KIND = "restaurant"  # of a new organisation without a kind (CLI --kind, the preview)
OUTCOMES = ("created", "updated", "skipped", "duplicate", "error")
CUSTOMER_FIELDS = ("customer_kind", "street", "city", "region", "postal_code", "country", "notes")
MAX_LENGTHS = {"customer_name": 120, "first_name": 80, "last_name": 80, "email": 254,
               "phone": 30, "street": 200, "city": 100, "region": 50, "postal_code": 20,
               "notes": 4000}


def _by_key(choices: dict, aliases: dict = ()) -> dict:
    """{loose key of a choice, of its label and of each alias: the choice}."""
    return {**{loose_key(k): k for k in choices}, **{loose_key(v): k for k, v in choices.items()},
            **dict(aliases)}


KIND_VALUES = _by_key(KINDS, {
    "csa": "csa_member", "grocery": "grocer", "grocerystore": "grocer", "catering": "caterer",
    "farmersmarket": "market", "wholesaler": "wholesale", "distributor": "wholesale",
    "person": "individual", "household": "individual"})
ROLE_VALUES = _by_key(CONTACT_ROLES)
COUNTRY_VALUES = _by_key(COUNTRIES, {
    "usa": "US", "unitedstatesofamerica": "US", "america": "US", "can": "CA", "uk": "GB",
    "greatbritain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "northernireland": "GB"})


@dataclass(eq=False)
class Group:
    """A customer of the file: the rows that name it."""

    key: str
    rows: list = field(default_factory=list)
    values: dict = field(default_factory=dict)  # customer-level values of its valid rows
    matches: list = field(default_factory=list)  # ids of existing customers with this name
    existing_people: dict = field(default_factory=dict)  # name key -> contact id (matched one)
    has_contacts: bool = False  # the matched customer has people already
    customer_id: int | None = None  # the existing or created customer written to
    create: bool = False


@dataclass(eq=False)
class Person:
    """A person of the file (the first row naming them, and later rows for other customers)."""

    row: Row
    name_key: str
    rows: list = field(default_factory=list)  # every row naming them at a customer of its own
    matches: list = field(default_factory=list)  # existing contact ids, best first
    match_reason: str = ""
    contact_id: int | None = None


@dataclass(eq=False)
class Plan:
    parsed: Parsed
    on_duplicate: str
    skip_invalid: bool
    rows: list
    groups: list
    default_kind: str = "restaurant"
    applied: bool = False

    @property
    def errors(self) -> int:
        return sum(1 for r in self.rows if not r.valid)

    @property
    def refused(self) -> bool:
        """Whether the import writes nothing: rows have errors and skip_invalid is off."""
        return bool(self.errors) and not self.skip_invalid

    @property
    def counts(self) -> dict:
        counts = dict.fromkeys(("rows", "created", "updated", "duplicates", "errors"), 0)
        counts["rows"] = len(self.rows)
        refused = self.refused
        for row in self.rows:
            if row.outcome in ("created", "updated") and not refused:
                counts[row.outcome] += 1
            elif row.outcome in ("skipped", "duplicate"):
                counts["duplicates"] += 1
            elif row.outcome == "error":
                counts["errors"] += 1
        return counts

    @property
    def stats(self) -> dict:
        """What the preview summarises."""
        refused = self.refused
        return {
            "rows": len(self.rows), "valid": len(self.rows) - self.errors, "errors": self.errors,
            "in_file": sum(1 for r in self.rows if r.duplicate_of),
            "in_database": sum(1 for r in self.rows if r.valid and not r.duplicate_of and (
                (r.person and r.person.matches) or (r.group and r.group.matches))),
            "to_write": 0 if refused else sum(
                1 for r in self.rows if r.outcome in ("created", "updated")),
        }


def _text(row: Row, column: str) -> str:
    return normalise.clean_text(unsafe_cell(row.raw.get(column, "") or "")) if column != "notes" \
        else unsafe_cell((row.raw.get(column) or "").strip())


def _clean(row: Row, region: str):
    """Validate and normalise one row's cells; messages go to row.errors by column."""
    d = row.data
    for column in COLUMNS:
        d[column] = _text(row, column)
        limit = MAX_LENGTHS.get(column)
        if column in MULTI:
            continue
        if limit and len(d[column]) > limit:
            row.error(column, f"Too long: {limit} characters at most.")
    d["first_name"] = normalise.person_name(d["first_name"])
    d["last_name"] = normalise.person_name(d["last_name"])
    if not d["first_name"] and d["last_name"]:
        d["first_name"], d["last_name"] = d["last_name"], ""  # one name: the first
    d["individual"] = not d["customer_name"] and bool(d["first_name"])
    if d["individual"]:  # a person without an organisation: a customer of their own
        d["customer_name"] = f"{d['first_name']} {d['last_name']}".strip()
        if not d["customer_kind"]:
            d["customer_kind"] = "individual"
    if not d["customer_name"]:
        row.error("customer_name", "This row names neither a customer nor a person.")
    if d["customer_kind"]:
        kind = KIND_VALUES.get(loose_key(d["customer_kind"]))
        if kind is None:
            row.error("customer_kind", "Not a kind of customer; use one of "
                                       f"{', '.join(KINDS)}.")
        d["customer_kind"] = kind
    else:
        d["customer_kind"] = None
    d["emails"] = _values(row, "email", lambda v: normalise.email(v))
    d["phones"] = _values(row, "phone", lambda v: normalise.phone(v, region))
    d["email"] = d["emails"][0] if d["emails"] else ""
    d["phone"] = d["phones"][0] if d["phones"] else ""
    if d["role"]:
        role = ROLE_VALUES.get(loose_key(d["role"]))
        if role is None:
            row.error("role", f"Not a contact role; use one of {', '.join(CONTACT_ROLES)}.")
        d["role"] = role
    if any(d[c] for c in ("last_name", "email", "phone", "role")) and not d["first_name"]:
        row.error("first_name", "A contact needs a first name (or leave the contact's cells "
                                "empty for a customer without contacts).")
    if d["country"]:
        country = COUNTRY_VALUES.get(loose_key(d["country"]))
        if country is None:
            row.error("country", f"Use one of the countries we deliver to: {', '.join(COUNTRIES)}.")
        d["country"] = country
    if any(d[c] for c in ("street", "city", "region", "postal_code")):
        d["country"] = d["country"] or (region if region in COUNTRIES else "US")
        for column, label in (("street", "street"), ("city", "city")):
            if not d[column]:
                row.error(column, f"An address needs a {label}.")
        if d["region"] and len(d["region"]) <= 3:
            d["region"] = d["region"].upper()
        if d["postal_code"] and "postal_code" not in row.errors and d["country"]:
            try:
                d["postal_code"] = normalise.postal_code(d["postal_code"], d["country"])
            except ValueError as exc:
                row.error("postal_code", str(exc).replace(f" for {d['country']}:", ":"))
    else:
        d["country"] = None
    d["notes"] = d["notes"] or None


def _values(row: Row, column: str, normalised) -> list:
    """The several emails or phones of a cell (" ::: " between them), normalised, each once."""
    found = []
    values = split_values(row.data[column])
    if len(values) > MAX_CHANNELS:
        row.error(column, f"{len(values)} values: a person can have {MAX_CHANNELS} at most.")
        return []
    for value in values:
        if len(value) > MAX_LENGTHS[column]:
            row.error(column, f"Too long: {MAX_LENGTHS[column]} characters at most.")
            continue
        try:
            value = normalised(value)
        except ValueError as exc:
            row.error(column, str(exc))  # plain words with an example (crm.normalise)
            continue
        if value not in found:
            found.append(value)
    return found


def _name_key(text: str) -> str:
    return " ".join(words(text)) or normalise.clean_text(text).lower()


def _person_key(d: dict) -> str:
    return _name_key(f"{d['first_name']} {d['last_name']}")


def check(parsed: Parsed, on_duplicate: str = "skip", skip_invalid: bool = False,
          default_kind: str = DEFAULT_KIND) -> Plan:
    """Validate every row and match it within the file and against the database (reads only).
    Each row gets its planned outcome and message. A new customer without a kind gets
    `default_kind` (a person without an organisation: "individual")."""
    if on_duplicate not in POLICIES:
        raise ValueError(f"on_duplicate must be one of {', '.join(POLICIES)}")
    if default_kind not in KINDS:
        raise ValueError(f"default_kind must be one of {', '.join(KINDS)}")
    if parsed.mapping_error:
        raise ImportFileError(parsed.mapping_error)
    region = current_app.config["DEFAULT_PHONE_REGION"]
    rows = parsed.rows
    for row in rows:
        row.data, row.errors = {}, {k: v for k, v in row.errors.items() if k == "row"}
        row.group = row.person = row.duplicate_of = row.notes_differ_from = None
        row.outcome = row.message = ""
        row.customer_id = row.contact_id = row.role = None
        _clean(row, region)

    groups = _group_customers(rows)
    _match_customers(groups)
    _resolve_people(rows)
    _match_people(rows, groups)
    plan = Plan(parsed=parsed, on_duplicate=on_duplicate, skip_invalid=skip_invalid, rows=rows,
                groups=list(groups.values()), default_kind=default_kind)
    _decide(plan)
    return plan


def _group_customers(rows) -> dict:
    """Rows by customer. A later row giving a customer-level value different from an earlier
    row's is an error (two customers with one name must be told apart) — except for notes,
    free text, where the rows' notes are kept apart and the choice is said (see _decide)."""
    groups: dict[str, Group] = {}
    first_given: dict[str, dict] = {}  # group key -> column -> (value, line)
    for row in rows:
        if not row.data["customer_name"]:
            continue
        key = _name_key(row.data["customer_name"])
        group = groups.setdefault(key, Group(key=key))
        given = first_given.setdefault(key, {})
        row.group = group
        group.rows.append(row)
        for column in CUSTOMER_FIELDS:
            value = row.data.get(column)
            if not value or column in row.errors:
                continue
            if column not in given:
                given[column] = (value, row.line)
            elif given[column][0] != value:
                if column == "notes":
                    row.notes_differ_from = given[column][1]
                    continue
                row.error(column, _conflict(column, given[column], value))
    return groups


def _conflict(column: str, first: tuple, value: str) -> str:
    """A customer-level value that disagrees with an earlier row's, in words."""
    earlier, line = first
    if column == "customer_kind":
        return (f"Line {line} says this customer is {_a(KINDS[earlier])}, this line says "
                f"{_a(KINDS[value])}. One customer has one kind: make the lines agree, or "
                "give different customers different names.")
    return (f"Line {line} gives this customer a different {LABELS[column].lower()}. One "
            "customer has one address here: make the lines agree, or give different "
            "customers different names.")


def _a(label: str) -> str:
    label = label.lower()
    return ("an " if label[:1] in "aeiou" else "a ") + label


def _match_customers(groups: dict):
    """Existing non-archived customers by normalised name: names are encrypted, so they are
    loaded once (id, name) and compared here, never queried row by row."""
    if not groups:
        return
    for customer_id, name in db.session.execute(
        select(Customer.id, Customer.name).where(Customer.archived_at.is_(None))
        .order_by(Customer.id)
    ):
        group = groups.get(_name_key(name))
        if group is not None:
            group.matches.append(customer_id)
    matched = {g.matches[0]: g for g in groups.values() if g.matches}
    for chunk in batches(list(matched), 500):
        for customer_id, contact_id, first, last in db.session.execute(
            select(CustomerContact.customer_id, Contact.id, Contact.first_name, Contact.last_name)
            .join(Contact, Contact.id == CustomerContact.contact_id)
            .where(CustomerContact.customer_id.in_(chunk)).order_by(Contact.id)
        ):
            group = matched[customer_id]
            group.has_contacts = True
            group.existing_people.setdefault(_name_key(f"{first} {last or ''}"), contact_id)


def _resolve_people(rows):
    """Who in the file is the same person: the same email, phone, or name at one customer."""
    by_email, by_phone, by_name = {}, {}, {}
    for row in rows:
        d = row.data
        if not row.valid or not d["first_name"]:
            continue
        name_key = _person_key(d)
        found = []  # (earlier person, what they share)
        found += [(by_email[e], "email") for e in d["emails"] if e in by_email]
        found += [(by_phone[p], "phone") for p in d["phones"] if p in by_phone]
        at_customer = by_name.get((row.group.key, name_key))
        if at_customer is not None:
            found.append((at_customer, "name"))
        people = {id(p): p for p, _ in found}
        if len(people) > 1:
            lines = sorted(p.row.line for p in people.values())
            row.error("email" if d["email"] else "phone",
                      f"The email and phone belong to different people on lines "
                      f"{lines[0]} and {lines[1]}. One person per email and phone.")
            continue
        if found:
            person, shared = found[0]
            if shared != "name" and person.name_key != name_key:
                row.error(shared, f"Line {person.row.line} has this {shared} for another "
                                  f"person. One {shared} belongs to one person.")
                continue
            if any(r.group is row.group for r in person.rows):
                row.duplicate_of = person.row.line
                continue
            row.person = person  # the same person at another customer: linked to both
        else:
            row.person = Person(row=row, name_key=name_key)
        row.person.rows.append(row)
        for email in d["emails"]:
            by_email.setdefault(email, row.person)
        for phone in d["phones"]:
            by_phone.setdefault(phone, row.person)
        by_name.setdefault((row.group.key, name_key), row.person)


def _match_people(rows, groups):
    """Existing contacts by email or phone (blind indexes, in batches), else by name at the
    matched customer."""
    people = {id(r.person): r.person for r in rows if r.person is not None and r.valid}
    emails = {e for p in people.values() for e in p.row.data["emails"]}
    phones = {n for p in people.values() for n in p.row.data["phones"]}
    by_email = _contacts_by_index(ContactEmail.email_bidx, ContactEmail.contact_id,
                                  {email_index(e): e for e in emails})
    by_phone = _contacts_by_index(ContactPhone.phone_bidx, ContactPhone.contact_id,
                                  {phone_index(p): p for p in phones})
    for person in people.values():
        d = person.row.data
        email = next((e for e in d["emails"] if e in by_email), None)
        phone = next((n for n in d["phones"] if n in by_phone), None)
        if email:
            person.matches, person.match_reason = by_email[email], "the same email"
        elif phone:
            person.matches, person.match_reason = by_phone[phone], "the same phone"
        else:
            group = person.row.group
            found = group.existing_people.get(person.name_key) if group else None
            if found:
                person.matches, person.match_reason = [found], "the same name at this customer"


def _contacts_by_index(column, owner, values: dict) -> dict:
    """{value: [contact ids, oldest first]} for blind-index keys {key: value}."""
    found: dict[str, list[int]] = {}
    keys = list(values)
    for chunk in batches(keys, 500):
        for key, contact_id in db.session.execute(
            select(column, owner).where(column.in_(chunk)).order_by(owner)
        ):
            ids = found.setdefault(values[key], [])
            if contact_id not in ids:
                ids.append(contact_id)
    return found



def _kept_notes(row: Row, policy: str) -> str:
    """Which line's notes the customer gets when two lines give it different notes."""
    return ("kept this line's (the later), as “update” keeps the file's latest"
            if policy == "update" else f"kept line {row.notes_differ_from}'s")


def _decide(plan: Plan):
    """Each row's planned outcome under the policy, the customers to create, default roles."""
    policy = plan.on_duplicate
    for row in plan.rows:
        if not row.valid:
            continue
        if row.duplicate_of:
            row.outcome = "duplicate"
            row.message = f"Same person as line {row.duplicate_of}; imported once."
            if row.notes_differ_from:
                row.message += f" Notes differ: {_kept_notes(row, policy)}."
            continue
        group, person = row.group, row.person
        customer = group.matches[0] if group.matches and policy != "create" else None
        contact = person.matches[0] if person and person.matches and policy != "create" else None
        row.customer_id, row.contact_id = customer, contact
        if policy == "skip" and (contact or (customer and person is None)):
            row.outcome = "skipped"
            row.message = (f"Already here: contact {contact} has {person.match_reason}."
                           if contact else f"Already here: {format_number(customer)}.")
        elif policy == "update" and (customer or contact):
            row.outcome = "updated"
        else:
            row.outcome = "created"
            if customer:
                row.message = f"Added to {format_number(customer)} (its details left as they were)."
    primary_taken = set()
    for group in plan.groups:
        written = [r for r in group.rows if r.outcome in ("created", "updated")]
        if not written:
            continue
        group.create = not (group.matches and policy != "create")
        for row in written:
            for column in CUSTOMER_FIELDS:
                if row.data.get(column) and column not in group.values:
                    group.values[column] = row.data[column]
        if policy == "update":  # the file's latest notes for the customer, as with a record here
            notes = [r.data["notes"] for r in group.rows if r.valid and r.data["notes"]]
            if notes:
                group.values["notes"] = notes[-1]
        for row in written:
            if row.notes_differ_from:
                row.message = " ".join(filter(None, [
                    row.message, f"Notes differ: {_kept_notes(row, policy)}."]))
        if group.create and not group.values.get("customer_kind"):
            group.values["customer_kind"] = plan.default_kind
        group.values["customer_name"] = written[0].data["customer_name"]
        for row in written:
            if row.person is None:
                continue
            if row.data["role"]:
                row.role = row.data["role"]
            elif (group.create or not group.has_contacts) and id(group) not in primary_taken:
                row.role = "primary"
            else:
                row.role = "ordering"
            if row.role == "primary":
                primary_taken.add(id(group))
    for row in plan.rows:
        if not row.valid:
            row.outcome, row.message = "error", row.error_text
            row.customer_id = row.contact_id = None
