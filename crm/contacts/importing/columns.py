"""What every stage of the import shares: the file's columns and their labels, how header
names and choices compare, and cells safe to open in a spreadsheet."""

COLUMNS = ("customer_name", "customer_kind", "first_name", "last_name", "email", "phone", "role",
           "street", "city", "region", "postal_code", "country", "notes")
REQUIRED = ("customer_name", "first_name")
LABELS = {"customer_name": "Customer", "customer_kind": "Kind", "first_name": "First name",
          "last_name": "Last name", "email": "Email", "phone": "Phone", "role": "Role",
          "street": "Street", "city": "City", "region": "State / province",
          "postal_code": "Postal code", "country": "Country", "notes": "Notes"}


def loose_key(text: str) -> str:
    """How headers and choices compare: lower case, letters and digits only."""
    return "".join(ch for ch in (text or "").lower() if ch.isalnum())


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell for a CSV that people open in spreadsheets: text that a spreadsheet would run as a
    formula (starting with = + - @, tab or carriage return) gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def unsafe_cell(text: str) -> str:
    """Undo safe_cell() on import, so an export can be read back as it was."""
    return text[1:] if text.startswith("'") and text[1:2] in FORMULA_START else text
