"""What every stage of the import shares: the file's columns and their labels, how header
names and choices compare, and cells safe to open in a spreadsheet."""
import unicodedata

COLUMNS = ("customer_name", "customer_kind", "first_name", "last_name", "email", "phone", "role",
           "street", "city", "region", "postal_code", "country", "notes")
LABELS = {"customer_name": "Customer", "customer_kind": "Kind", "first_name": "First name",
          "last_name": "Last name", "email": "Email", "phone": "Phone", "role": "Role",
          "street": "Street", "city": "City", "region": "State / province",
          "postal_code": "Postal code", "country": "Country", "notes": "Notes"}


def loose_key(text: str) -> str:
    """How headers and choices compare: lower case, letters and digits only."""
    return "".join(ch for ch in (text or "").lower() if ch.isalnum())


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _formula_like(text: str) -> bool:
    """Starts as a formula does, also with a compatibility form that spreadsheets read as the
    plain sign (fullwidth ＝ ＋ － ＠, small ﹦ ﹢ ﹣ ﹫): the first character after NFKC. Only
    the first: normalising more could compose "=" with a combining mark after it into "≠"."""
    return (text.startswith(FORMULA_START)
            or unicodedata.normalize("NFKC", text[:1]).startswith(FORMULA_START))


def safe_cell(value) -> str:
    """A cell for a CSV that people open in spreadsheets: text that a spreadsheet would run as a
    formula (starting with = + - @, tab or carriage return, or their fullwidth forms) gets a
    leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if _formula_like(text) else text


def unsafe_cell(text: str) -> str:
    """Undo safe_cell() on import, so an export can be read back as it was."""
    return text[1:] if text.startswith("'") and _formula_like(text[1:]) else text
