"""Which column of a file is which field. Suggested from the header (our column names and
common aliases, and the known export formats: Google Contacts, Outlook) and then from the
values (a column of emails is an email column); changeable in the preview; remembered for the
next file with the same header (by a hash of its header, never its values).

A mapping is a list with one entry per column of the file: a field of COLUMNS, or None for a
column we do not keep. Several columns may feed "email" and "phone" (Outlook's business,
mobile and home phones), and one cell may hold several values separated by " ::: " (Google's
way); every other field takes one column.
"""
import hashlib
import re

from flask import current_app, has_app_context

from crm import normalise
from crm.contacts.importing.columns import COLUMNS, LABELS, loose_key

MULTI = ("email", "phone")
SEPARATOR = ":::"  # Google Contacts: "a@x.com ::: b@x.com"
SAMPLE_ROWS = 20  # rows whose values suggest a field and are shown beside each column

# Header names accepted for each field in any file (compared by loose_key: "E-mail" == "email").
ALIASES = {
    "customer_name": ["customer_name", "customer", "customer name", "company", "company name",
                      "business", "business name", "account", "account name", "organisation",
                      "organization", "organization name", "organisation name", "restaurant",
                      "store", "shop"],
    "customer_kind": ["customer_kind", "kind", "type", "customer type", "customer kind",
                      "account type", "business type", "category"],
    "first_name": ["first_name", "first", "first name", "given name", "forename",
                   "contact first name"],
    "last_name": ["last_name", "last", "last name", "surname", "family name",
                  "contact last name"],
    "email": ["email", "e-mail", "email address", "e-mail address", "mail", "contact email",
              "billing email"],
    "phone": ["phone", "phone number", "telephone", "tel", "mobile", "cell", "cell phone",
              "mobile phone", "contact phone", "billing phone"],
    "role": ["role", "contact role"],
    "street": ["street", "address", "street address", "address 1", "address line 1", "street 1",
               "billing address 1", "shipping address 1"],
    "city": ["city", "town", "locality", "billing city", "shipping city"],
    "region": ["region", "state", "province", "state/province", "county", "billing state",
               "shipping state", "province code"],
    "postal_code": ["postal_code", "postal code", "postcode", "post code", "zip", "zip code",
                    "zipcode", "billing zip", "shipping zip"],
    "country": ["country", "country code", "billing country", "shipping country"],
    "notes": ["notes", "note", "comments", "comment", "remarks"],
}

# The published headers of the exports people bring, and what we read from them.
FORMATS = {
    "Google Contacts": {
        "fields": {
            "given name": "first_name", "first name": "first_name",
            "family name": "last_name", "last name": "last_name",
            "organization 1 - name": "customer_name", "organization name": "customer_name",
            "e-mail 1 - value": "email", "e-mail 2 - value": "email",
            "e-mail 3 - value": "email",
            "phone 1 - value": "phone", "phone 2 - value": "phone", "phone 3 - value": "phone",
            "address 1 - street": "street", "address 1 - city": "city",
            "address 1 - region": "region", "address 1 - postal code": "postal_code",
            "address 1 - country": "country", "notes": "notes",
        },
        "signs": ("e-mail 1 - value", "phone 1 - value", "organization 1 - name",
                  "organization name", "address 1 - street"),
    },
    "Outlook": {
        "fields": {
            "first name": "first_name", "last name": "last_name", "company": "customer_name",
            "e-mail address": "email", "e-mail 2 address": "email", "e-mail 3 address": "email",
            "business phone": "phone", "mobile phone": "phone", "home phone": "phone",
            "business phone 2": "phone", "primary phone": "phone",
            "business street": "street", "business city": "city", "business state": "region",
            "business postal code": "postal_code", "business country/region": "country",
            "notes": "notes",
        },
        "signs": ("e-mail display name", "business street", "business phone",
                  "e-mail 2 address", "job title"),
    },
}
_ANY_FILE = {loose_key(alias): name for name, aliases in ALIASES.items() for alias in aliases}
_FORMAT_FIELDS = {name: {loose_key(h): f for h, f in spec["fields"].items()}
                  for name, spec in FORMATS.items()}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[\d\s().\-/]{7,20}")


class MappingError(ValueError):
    """The mapping cannot be used (no name column, or one field given two columns)."""


def known_format(headers: list) -> str | None:
    """The export format the header is from, when at least two of its telltale names are."""
    keys = {loose_key(h) for h in headers}
    for name, spec in FORMATS.items():
        if sum(loose_key(sign) in keys for sign in spec["signs"]) >= 2:
            return name
    return None


def suggest(headers: list, samples: list) -> tuple[list, str | None]:
    """A field (or None) for every column, and the format recognised. `samples`: the first
    rows' cells."""
    found = known_format(headers)
    names = {**_ANY_FILE, **_FORMAT_FIELDS.get(found, {})}
    fields, taken = [], set()
    for header in headers:
        field = names.get(loose_key(header))
        if field in taken and field not in MULTI:
            field = None  # e.g. Google's "Address 2 - City" after "Address 1 - City"
        fields.append(field)
        taken.add(field)
    for position, field in enumerate(fields):
        if field is not None:
            continue
        values = [v for v in column_values(samples, position) if v]
        if not values:
            continue
        if all(_EMAIL.fullmatch(v) for v in values):
            fields[position] = "email"
        elif all(_PHONE.fullmatch(v) and _is_phone(v) for v in values):
            fields[position] = "phone"
    return fields, found


def _is_phone(value: str) -> bool:
    """A real number of the farm's region (a date such as 1980-05-05 is not)."""
    region = current_app.config["DEFAULT_PHONE_REGION"] if has_app_context() else "US"
    try:
        normalise.phone(value, region)
    except ValueError:
        return False
    return True


def column_values(rows: list, position: int) -> list:
    return [cells[position].strip() if position < len(cells) else "" for cells in rows]


def check_mapping(fields: list, headers: list):
    """MappingError unless some column gives a name and no single field has two columns."""
    seen = {}
    for position, field in enumerate(fields):
        if field is None or field in MULTI:
            continue
        if field in seen:
            raise MappingError(
                f"Two columns are both read as {LABELS[field]}: “{_header(headers, seen[field])}"
                f"” and “{_header(headers, position)}”. Choose “Not imported” for one of them.")
        seen[field] = position
    if not {"customer_name", "first_name", "last_name"} & set(fields):
        raise MappingError("No column is read as a customer or a person's name. Choose which "
                           "column holds the customer (business) name, or the person's first "
                           "or last name.")


def _header(headers, position) -> str:
    return headers[position].strip() or f"column {position + 1}"


def clean(fields: list, width: int) -> list:
    """A mapping from a form or a file, cut or padded to the file's columns; unknown fields
    become None."""
    fields = [f if f in COLUMNS else None for f in list(fields)[:width]]
    return fields + [None] * (width - len(fields))


def header_key(headers: list) -> str:
    """What identifies "a file with the same header": a hash of its normalised names."""
    return hashlib.sha256("\x1f".join(loose_key(h) for h in headers).encode()).hexdigest()


def split_values(text: str) -> list:
    """The values of a multi-value cell (Google's " ::: "), in order, blanks dropped."""
    return [part.strip() for part in text.split(SEPARATOR) if part.strip()]
