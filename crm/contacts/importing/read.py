"""Reading the file: size, encoding, delimiter, CSV records, header names and their aliases.
Bytes in, a Parsed (its rows as cell text by column) out; ImportFileError when the file as a
whole cannot be used."""
import codecs
import csv
import io
from dataclasses import dataclass, field

from crm.contacts.importing.columns import COLUMNS, LABELS, REQUIRED, loose_key

MAX_BYTES = 20 * 2**20  # the upload form, the CLI and the error messages all say this
MAX_ROWS = 50_000

# Header names accepted for each column (compared by loose_key: "E-mail" == "email").
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
HEADER_FIELDS = {loose_key(alias): name for name, aliases in ALIASES.items() for alias in aliases}


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why and what to do."""


@dataclass(eq=False)
class Row:
    """One record of the file and what becomes of it."""

    line: int
    raw: dict  # cell text by column, as in the file
    data: dict = field(default_factory=dict)  # normalised values
    errors: dict = field(default_factory=dict)  # column -> [messages]
    group: object = None  # its customer in the file (importing.check.Group)
    person: object = None  # its person in the file (importing.check.Person)
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


def check_size(size: int):
    """ImportFileError, saying the limit, for a file of more than MAX_BYTES."""
    if size > MAX_BYTES:
        raise ImportFileError(f"This file is {size / 2**20:.0f} MB; the import takes "
                              f"{MAX_BYTES // 2**20} MB at most. Split it into smaller files.")


def read(data: bytes) -> Parsed:
    """Bytes of an uploaded file, checked for size and decoded, as rows."""
    check_size(len(data))
    text, encoding = decode(data)
    return parse(text, encoding)


def opened(data: bytes) -> tuple[str, str]:
    """An upload's text and encoding, with its size and header line checked (ImportFileError):
    what the upload request does before the rows are read and checked, here or in a job."""
    check_size(len(data))
    text, encoding = decode(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ImportFileError("The file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        header = next(cells for cells in reader if any(c.strip() for c in cells))
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num} cannot be read as CSV ({exc}).") from None
    _map_headers(header)
    return text, encoding


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
        column = HEADER_FIELDS.get(loose_key(cell))
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

