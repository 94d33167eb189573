"""CSV import of customers with their contacts: parse, validate, preview, apply, report.

One engine for the web pages (crm.contacts.import_views), the background job
("contacts_import") and `flask contacts import FILE`:

    parsed = read(data)                 # bytes -> text -> rows; ImportFileError for the file
    plan = check(parsed, "skip")        # every row validated and matched (reads the database)
    apply(plan, actor=user)             # writes; the caller commits once (all or nothing)
    report_csv(plan), plan.counts

A row is a customer and, when it names a person (first_name), one of its contacts. Rows with the
same customer name (compared without case, accents and punctuation) are one customer with
several contacts, which is how an export lists a customer's people.

Matching. A file's customer matches the oldest non-archived customer of the same normalised
name. A file's person matches an existing contact with the same email, else the same phone
(blind indexes), else the same name at the matched customer. Within the file, a later row with
the same email, phone, or name at the same customer is the same person: at the same customer it
is a duplicate (imported once), at another customer the one person is linked to both.

Policies for rows that match (`on_duplicate`):
    skip    the existing records are left alone; a new person of an existing customer is still
            added to it (the customer's own details untouched)
    update  non-empty values of the file overwrite the matched customer and contact (empty cells
            never blank anything); the person gets the email/phone if new and the link if missing
    create  new records anyway

Counts partition the rows: created + updated + duplicates + errors = rows (duplicates = rows
not written because they repeat an earlier row or match an existing record under "skip"). When
the import is refused (any error without skip_invalid) created and updated are 0.

Messages never quote the file's values (they go to logs, the CLI and the report); the preview
shows values next to their messages, escaped.
"""
import codecs
import csv
import io
import os
import time
from dataclasses import dataclass, field

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import insert, select, update
from sqlalchemy.orm import selectinload

from crm import normalise
from crm.audit.services import record
from crm.common import SYSTEM
from crm.contacts.models import (
    CONTACT_ROLES,
    Contact,
    ContactEmail,
    ContactImport,
    ContactPhone,
    CustomerContact,
)
from crm.customers.forms import COUNTRIES
from crm.customers.models import KINDS, Address, Customer, format_number
from crm.extensions import db
from crm.security.blind_index import email_index, name_tokens, phone_index, words
from crm.security.models import SearchToken

MAX_BYTES = 20 * 2**20  # the upload form, the CLI and the error messages all say this
MAX_ROWS = 50_000
COLUMNS = ("customer_name", "customer_kind", "first_name", "last_name", "email", "phone", "role",
           "street", "city", "region", "postal_code", "country", "notes")
REQUIRED = ("customer_name", "first_name")
LABELS = {"customer_name": "Customer", "customer_kind": "Kind", "first_name": "First name",
          "last_name": "Last name", "email": "Email", "phone": "Phone", "role": "Role",
          "street": "Street", "city": "City", "region": "State / province",
          "postal_code": "Postal code", "country": "Country", "notes": "Notes"}
POLICIES = {
    "skip": "Skip it: leave the existing record as it is",
    "update": "Update the existing record with the file's values",
    "create": "Create a new record anyway",
}
OUTCOMES = ("created", "updated", "skipped", "duplicate", "error")
REPORT_COLUMNS = ("line", "outcome", "customer_number", "contact_id", "message")

CUSTOMER_FIELDS = ("customer_kind", "street", "city", "region", "postal_code", "country", "notes")
ADDRESS_FIELDS = ("street", "city", "region", "postal_code", "country")
PERSON_FIELDS = ("first_name", "last_name", "email", "phone", "role")
MAX_LENGTHS = {"customer_name": 120, "first_name": 80, "last_name": 80, "email": 254,
               "phone": 30, "street": 200, "city": 100, "region": 50, "postal_code": 20,
               "notes": 4000}


def _key(text: str) -> str:
    """How headers and choices compare: lower case, letters and digits only."""
    return "".join(ch for ch in (text or "").lower() if ch.isalnum())


# Header names accepted for each column (compared by _key: "E-mail" == "email").
ALIASES = {
    "customer_name": ["customer_name", "customer", "customer name", "company", "company name",
                      "business", "business name", "account", "account name", "organisation",
                      "organization"],
    "customer_kind": ["customer_kind", "kind", "type", "customer type", "customer kind",
                      "account type", "business type", "category"],
    "first_name": ["first_name", "first", "first name", "given name", "forename",
                   "contact first name"],
    "last_name": ["last_name", "last", "last name", "surname", "family name",
                  "contact last name"],
    "email": ["email", "e-mail", "email address", "e-mail address", "mail", "contact email"],
    "phone": ["phone", "phone number", "telephone", "tel", "mobile", "cell", "cell phone",
              "mobile phone", "contact phone"],
    "role": ["role", "contact role"],
    "street": ["street", "address", "street address", "address 1", "address line 1", "street 1"],
    "city": ["city", "town", "locality"],
    "region": ["region", "state", "province", "state/province", "county"],
    "postal_code": ["postal_code", "postal code", "postcode", "post code", "zip", "zip code",
                    "zipcode"],
    "country": ["country", "country code"],
    "notes": ["notes", "note", "comments", "comment", "remarks"],
}
HEADER_FIELDS = {_key(alias): name for name, aliases in ALIASES.items() for alias in aliases}

KIND_VALUES = {**{_key(k): k for k in KINDS}, **{_key(v): k for k, v in KINDS.items()},
               "csa": "csa_member", "grocery": "grocer", "grocerystore": "grocer",
               "catering": "caterer", "farmersmarket": "market", "wholesaler": "wholesale",
               "distributor": "wholesale", "person": "individual", "household": "individual"}
ROLE_VALUES = {**{_key(k): k for k in CONTACT_ROLES}, **{_key(v): k for k, v in CONTACT_ROLES.items()}}
COUNTRY_VALUES = {**{_key(k): k for k in COUNTRIES}, **{_key(v): k for k, v in COUNTRIES.items()},
                  "usa": "US", "unitedstatesofamerica": "US", "america": "US", "can": "CA",
                  "uk": "GB", "greatbritain": "GB", "england": "GB", "scotland": "GB",
                  "wales": "GB", "northernireland": "GB"}

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell for a CSV that people open in spreadsheets: text that a spreadsheet would run as a
    formula (starting with = + - @, tab or carriage return) gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def unsafe_cell(text: str) -> str:
    """Undo safe_cell() on import, so an export can be read back as it was."""
    return text[1:] if text.startswith("'") and text[1:2] in FORMULA_START else text


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why and what to do."""


# -- reading the file ----------------------------------------------------------------------------

@dataclass(eq=False)
class Row:
    """One record of the file and what becomes of it."""

    line: int
    raw: dict  # cell text by column, as in the file
    data: dict = field(default_factory=dict)  # normalised values
    errors: dict = field(default_factory=dict)  # column -> [messages]
    group: "Group | None" = None
    person: "Person | None" = None
    duplicate_of: int | None = None  # the earlier line this row repeats
    outcome: str = ""
    message: str = ""
    customer_id: int | None = None
    contact_id: int | None = None
    role: str | None = None

    @property
    def valid(self) -> bool:
        return not self.errors

    def error(self, column: str, message: str):
        self.errors.setdefault(column, []).append(message)

    @property
    def error_text(self) -> str:
        return " ".join(f"{LABELS.get(c, 'Row')}: {m}"
                        for c, ms in self.errors.items() for m in ms)


@dataclass
class Parsed:
    text: str
    encoding: str
    delimiter: str
    headers: list  # the file's header cells
    mapping: dict  # column -> position
    ignored: list  # header cells that are not ours
    rows: list
    blank_lines: int = 0

    @property
    def delimiter_name(self) -> str:
        return {",": "comma", ";": "semicolon", "\t": "tab"}[self.delimiter]


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read in (UTF-8, with or without a BOM, UTF-16
    with a BOM, else Windows-1252, the superset of Latin-1 that spreadsheets write)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError:
            raise ImportFileError("The file says it is UTF-8 but is not. Save it again as "
                                  "“CSV UTF-8” and upload that.") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "UTF-16"
        except UnicodeDecodeError:
            raise ImportFileError("The file could not be read as UTF-16 text. Save it as "
                                  "“CSV UTF-8” and upload that.") from None
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("This is a spreadsheet workbook, not a CSV file. In your "
                              "spreadsheet choose Save As (or Download) › CSV, and upload that.")
    if b"\x00" in data[:8192]:
        raise ImportFileError("This is not a text file. Upload a CSV file.")
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "Windows-1252 (Latin-1)"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "Latin-1"


def _sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the header line holds most of (comma on a tie)."""
    for line in text.splitlines():
        if line.strip(" ,;\t"):
            counts = {d: line.count(d) for d in (",", ";", "\t")}
            best = max(counts, key=lambda d: (counts[d], d == ","))
            return best if counts[best] else ","
    return ","


def read(data: bytes) -> Parsed:
    """Bytes of an uploaded file, checked for size and decoded, as rows."""
    if len(data) > MAX_BYTES:
        raise ImportFileError(f"This file is {len(data) / 2**20:.0f} MB; the import takes "
                              f"{MAX_BYTES // 2**20} MB at most. Split it into smaller files.")
    text, encoding = decode(data)
    return parse(text, encoding)


def parse(text: str, encoding: str = "UTF-8") -> Parsed:
    """Rows of a CSV text; ImportFileError when the file as a whole cannot be used."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ImportFileError("The file is empty.")
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers, mapping, rows, blank, previous = None, {}, [], 0, 0
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num  # where the record starts
            if not any(c.strip() for c in cells):
                blank += headers is not None
                continue
            if headers is None:
                headers, mapping = cells, _map_headers(cells)
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(f"The file has more than {MAX_ROWS:,} rows. Split it "
                                      "into smaller files.")
            row = Row(line=line, raw={c: (cells[i] if i < len(cells) else "")
                                      for c, i in mapping.items()})
            extra = [c for c in cells[len(headers):] if c.strip()]
            if extra:
                row.error("row", f"This line has {len(cells)} cells but the header has "
                                 f"{len(headers)}: a value with a "
                                 f"{'comma' if delimiter == ',' else 'delimiter'} in it needs "
                                 "quotes around it.")
            rows.append(row)
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num} cannot be read as CSV ({exc}).") from None
    if not rows:
        raise ImportFileError("The file has a header line but no rows.")
    ignored = [h.strip() or f"(column {i + 1} without a name)" for i, h in enumerate(headers)
               if i not in mapping.values()]
    return Parsed(text=text, encoding=encoding, delimiter=delimiter, headers=headers,
                  mapping=mapping, ignored=ignored, rows=rows, blank_lines=blank)


def _map_headers(cells: list) -> dict:
    mapping, seen = {}, {}
    for position, cell in enumerate(cells):
        column = HEADER_FIELDS.get(_key(cell))
        if column is None:
            continue
        if column in mapping:
            raise ImportFileError(f"Two columns both mean {column}: “{cells[mapping[column]].strip()}"
                                  f"” and “{cell.strip()}”. Remove or rename one of them.")
        mapping[column], seen[column] = position, cell
    missing = [c for c in REQUIRED if c not in mapping]
    if missing:
        found = ", ".join(f"“{c.strip()}”" for c in cells if c.strip()) or "none"
        raise ImportFileError(
            f"The header line lacks the required column{'s' if len(missing) > 1 else ''} "
            f"{' and '.join(missing)} (found: {found}). The first line must name the columns; "
            f"{', '.join(COLUMNS)} are understood, as are common names such as "
            "“Company”, “E-mail” and “Zip”.")
    return mapping


# -- checking every row --------------------------------------------------------------------------

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
        if limit and len(d[column]) > limit:
            row.error(column, f"Too long: {limit} characters at most.")
    if not d["customer_name"]:
        row.error("customer_name", "Every row needs a customer name.")
    if d["customer_kind"]:
        kind = KIND_VALUES.get(_key(d["customer_kind"]))
        if kind is None:
            row.error("customer_kind", "Not a kind of customer; use one of "
                                       f"{', '.join(KINDS)}.")
        d["customer_kind"] = kind
    else:
        d["customer_kind"] = None
    d["first_name"] = normalise.person_name(d["first_name"])
    d["last_name"] = normalise.person_name(d["last_name"])
    if d["email"] and "email" not in row.errors:
        try:
            d["email"] = normalise.email(d["email"])
        except ValueError as exc:
            row.error("email", f"Not a valid email address: {exc}")
    if d["phone"] and "phone" not in row.errors:
        try:
            d["phone"] = normalise.phone(d["phone"], region)
        except ValueError as exc:
            row.error("phone", f"{exc} Numbers abroad need their country code, e.g. +44.")
    if d["role"]:
        role = ROLE_VALUES.get(_key(d["role"]))
        if role is None:
            row.error("role", f"Not a contact role; use one of {', '.join(CONTACT_ROLES)}.")
        d["role"] = role
    if any(d[c] for c in ("last_name", "email", "phone", "role")) and not d["first_name"]:
        row.error("first_name", "A contact needs a first name (or leave the contact's cells "
                                "empty for a customer without contacts).")
    if d["country"]:
        country = COUNTRY_VALUES.get(_key(d["country"]))
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


def _name_key(text: str) -> str:
    return " ".join(words(text)) or normalise.clean_text(text).lower()


def _person_key(d: dict) -> str:
    return _name_key(f"{d['first_name']} {d['last_name']}")


def check(parsed: Parsed, on_duplicate: str = "skip", skip_invalid: bool = False) -> Plan:
    """Validate every row and match it within the file and against the database (reads only).
    Each row gets its planned outcome and message."""
    if on_duplicate not in POLICIES:
        raise ValueError(f"on_duplicate must be one of {', '.join(POLICIES)}")
    region = current_app.config["DEFAULT_PHONE_REGION"]
    rows = parsed.rows
    for row in rows:
        row.data, row.errors = {}, {k: v for k, v in row.errors.items() if k == "row"}
        row.group = row.person = row.duplicate_of = None
        row.outcome = row.message = ""
        row.customer_id = row.contact_id = row.role = None
        _clean(row, region)

    groups = _group_customers(rows)
    _match_customers(groups)
    _resolve_people(rows)
    _match_people(rows, groups)
    plan = Plan(parsed=parsed, on_duplicate=on_duplicate, skip_invalid=skip_invalid, rows=rows,
                groups=list(groups.values()))
    _decide(plan)
    return plan


def _group_customers(rows) -> dict:
    """Rows by customer; a later row giving a customer-level value different from an earlier
    row's is an error (two customers with one name must be told apart)."""
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
                row.error(column, f"Line {given[column][1]} gives this customer another "
                                  f"{LABELS[column].lower()}. Make the values agree, or give "
                                  "different customers different names.")
    return groups


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
    for chunk in _chunks(list(matched), 500):
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
        if d["email"] and d["email"] in by_email:
            found.append((by_email[d["email"]], "email"))
        if d["phone"] and d["phone"] in by_phone:
            found.append((by_phone[d["phone"]], "phone"))
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
        if d["email"]:
            by_email.setdefault(d["email"], row.person)
        if d["phone"]:
            by_phone.setdefault(d["phone"], row.person)
        by_name.setdefault((row.group.key, name_key), row.person)


def _match_people(rows, groups):
    """Existing contacts by email or phone (blind indexes, in batches), else by name at the
    matched customer."""
    people = {id(r.person): r.person for r in rows if r.person is not None and r.valid}
    emails = {p.row.data["email"] for p in people.values() if p.row.data["email"]}
    phones = {p.row.data["phone"] for p in people.values() if p.row.data["phone"]}
    by_email = _contacts_by_index(ContactEmail.email_bidx, ContactEmail.contact_id,
                                  {email_index(e): e for e in emails})
    by_phone = _contacts_by_index(ContactPhone.phone_bidx, ContactPhone.contact_id,
                                  {phone_index(p): p for p in phones})
    for person in people.values():
        d = person.row.data
        if d["email"] in by_email:
            person.matches, person.match_reason = by_email[d["email"]], "the same email"
        elif d["phone"] in by_phone:
            person.matches, person.match_reason = by_phone[d["phone"]], "the same phone"
        else:
            group = person.row.group
            found = group.existing_people.get(person.name_key) if group else None
            if found:
                person.matches, person.match_reason = [found], "the same name at this customer"


def _contacts_by_index(column, owner, values: dict) -> dict:
    """{value: [contact ids, oldest first]} for blind-index keys {key: value}."""
    found: dict[str, list[int]] = {}
    keys = list(values)
    for chunk in _chunks(keys, 500):
        for key, contact_id in db.session.execute(
            select(column, owner).where(column.in_(chunk)).order_by(owner)
        ):
            ids = found.setdefault(values[key], [])
            if contact_id not in ids:
                ids.append(contact_id)
    return found


def _chunks(items, size):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _decide(plan: Plan):
    """Each row's planned outcome under the policy, the customers to create, default roles."""
    policy = plan.on_duplicate
    for row in plan.rows:
        if not row.valid:
            continue
        if row.duplicate_of:
            row.outcome = "duplicate"
            row.message = f"Same person as line {row.duplicate_of}; imported once."
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
        if group.create and not group.values.get("customer_kind"):
            for row in written:
                row.error("customer_kind", "A new customer needs a kind: one of "
                                           f"{', '.join(KINDS)}.")
            continue
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


# -- writing -------------------------------------------------------------------------------------

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
    for chunk in _chunks(new_groups, BATCH):
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
    for chunk in _chunks(new_people, BATCH):
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
    for chunk in _chunks(new_links, BATCH):
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
    for chunk in _chunks(sorted(ids), 500):
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


# -- the report and the summary ------------------------------------------------------------------

def report_csv(plan: Plan) -> str:
    """What became of every row: line, outcome, customer number, contact id, message. Every
    cell passes safe_cell(). Before the import runs (or when it is refused) it says what would
    happen, with the numbers of the existing records matched."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    errors = plan.errors
    refused = bool(errors) and not plan.skip_invalid
    for row in plan.rows:
        outcome, message = row.outcome, row.message
        if refused and outcome in ("created", "updated"):
            outcome = "skipped"
            message = (f"Not imported: {errors} row{'s' if errors != 1 else ''} of the file "
                       f"{'have' if errors != 1 else 'has'} errors, and nothing is imported "
                       "until they are fixed.")
        writer.writerow([safe_cell(v) for v in (
            row.line, outcome, format_number(row.customer_id) if row.customer_id else "",
            row.contact_id or "", message)])
    return out.getvalue()


def summary_line(counts: dict) -> str:
    return ", ".join(f"{k}: {counts[k]}" for k in ("rows", "created", "updated", "duplicates",
                                                   "errors"))


def audit_run(plan: Plan, *, actor, import_id=None, source="web"):
    """One audit event per import run: its policy and counts (no values)."""
    counts = plan.counts
    record("import", "contact_import", import_id, actor=actor,
           fields=[f"source:{source}", f"on_duplicate:{plan.on_duplicate}",
                   f"skip_invalid:{'yes' if plan.skip_invalid else 'no'}",
                   *(f"{k}:{v}" for k, v in counts.items())])


# -- the background job --------------------------------------------------------------------------

def _progress_writer(run):
    """Progress of the write phase. The writes are one open transaction, so the job's report()
    (which commits) cannot be used; on PostgreSQL another connection updates the run's row.
    SQLite allows one writer at a time: there the bar waits at the write phase's start."""
    if db.engine.dialect.name == "sqlite":
        return None
    from crm.jobs.models import JobRun

    last = [0.0]

    def progress(done, total):
        now = time.monotonic()
        if now - last[0] < 0.5 and done < total:
            return
        last[0] = now
        with db.engine.begin() as connection:
            connection.execute(update(JobRun).where(JobRun.id == run.id).values(
                progress=30 + 65 * done // total, message="Writing customers and contacts"))

    return progress


def import_job(run, report, import_id: int):
    """Run a previewed import: check again (the database may have moved on), write everything in
    one transaction, keep the report, drop the file's content."""
    imp = db.session.get(ContactImport, import_id)
    if imp is None:
        return {"error": "missing"}
    imp.status = "running"
    report(5, "Reading the file")
    parsed = parse(imp.content, (imp.counts or {}).get("encoding", "UTF-8"))
    report(15, f"Checking {len(parsed.rows):,} rows")
    plan = check(parsed, imp.on_duplicate, imp.skip_invalid)
    report(30, "Writing customers and contacts" if not plan.refused
           else "Refused: rows have errors")
    actor = imp.uploaded_by
    if plan.refused:
        imp.status = "refused"
    else:
        apply(plan, actor=actor, progress=_progress_writer(run))
        imp.status = "imported"
        imp.content = ""  # the file is gone once imported; the report stays
    imp.report = report_csv(plan)
    imp.counts = {**plan.counts, "encoding": parsed.encoding}
    audit_run(plan, actor=actor, import_id=imp.id)
    run.message = summary_line(plan.counts)
    return plan.counts


# -- the command line ----------------------------------------------------------------------------

@click.command("import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--dry-run", is_flag=True, help="Check every row and print the summary; write nothing.")
@click.option("--on-duplicate", type=click.Choice(list(POLICIES)), default="skip",
              show_default=True, help="What to do with rows matching an existing customer or "
                                      "contact.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid rows and report the rest (default: any error, no import).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Write what became of every row to this CSV file.")
def import_command(file, dry_run, on_duplicate, skip_invalid, report_path):
    """Import customers and their contacts from a CSV FILE.

    Exit status: 0 imported (or a clean dry run), 1 rows have errors and nothing was imported,
    2 the file cannot be used (too large, unreadable, missing columns).
    """
    size = os.path.getsize(file)
    try:
        if size > MAX_BYTES:
            raise ImportFileError(f"This file is {size / 2**20:.0f} MB; the import takes "
                                  f"{MAX_BYTES // 2**20} MB at most. Split it into smaller files.")
        with open(file, "rb") as handle:
            parsed = read(handle.read())
    except ImportFileError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2)
    started = time.monotonic()
    click.echo(f"Read {len(parsed.rows):,} row{'s' if len(parsed.rows) != 1 else ''} "
               f"({parsed.encoding}, {parsed.delimiter_name}-separated).")
    if parsed.ignored:
        click.echo(f"Ignored columns: {', '.join(parsed.ignored)}.")
    plan = check(parsed, on_duplicate, skip_invalid)
    for row in plan.rows:
        if not row.valid:
            for column, messages in row.errors.items():
                for message in messages:
                    click.echo(f"line {row.line}: {column}: {message}")
    status = 0
    if dry_run:
        click.echo("Dry run: nothing was written.")
    if plan.refused:
        click.echo(f"Nothing {'would be' if dry_run else 'was'} imported: {plan.errors} "
                   f"row{'s' if plan.errors != 1 else ''} with errors. Fix them, or use "
                   "--skip-invalid to import the valid rows.")
        status = 1
    elif dry_run:
        pass
    else:
        apply(plan, actor=SYSTEM)
        audit_run(plan, actor=SYSTEM, source="cli")
        db.session.commit()
        click.echo(f"Imported in {time.monotonic() - started:.1f} s.")
    if report_path:
        with open(report_path, "w", encoding="utf-8", newline="") as handle:
            handle.write(report_csv(plan))
    click.echo(summary_line(plan.counts))
    if status:
        raise SystemExit(status)
