"""Reading the file: size, encoding, delimiter, CSV records, and its columns read as our fields
(importing.mapping). Bytes in, a Parsed (its rows as cell text by field) out; ImportFileError
when the file as a whole cannot be used."""
import codecs
import csv
import io
from dataclasses import dataclass, field
from typing import ClassVar

from crm.contacts.importing import mapping as columns_of
from crm.contacts.importing.columns import COLUMNS, LABELS

MAX_BYTES = 20 * 2**20  # the upload form, the CLI and the error messages all say this
MAX_ROWS = 50_000

class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why and what to do."""


class RowErrors:
    """What checking found wrong with a row, by column (its `errors`: column -> [messages]);
    `labels` names the columns in messages. Every import's rows are one."""

    labels: ClassVar[dict] = {}

    @property
    def valid(self) -> bool:
        return not self.errors

    def error(self, column: str, message: str):
        self.errors.setdefault(column, []).append(message)

    @property
    def error_text(self) -> str:
        return " ".join(f"{self.labels.get(c, 'Row')}: {m}"
                        for c, ms in self.errors.items() for m in ms)


@dataclass(eq=False)
class Row(RowErrors):
    """One record of the file and what becomes of it."""

    labels: ClassVar[dict] = LABELS

    line: int
    raw: dict  # cell text by column, as in the file
    data: dict = field(default_factory=dict)  # normalised values
    errors: dict = field(default_factory=dict)  # column -> [messages]
    group: object = None  # its customer in the file (importing.check.Group)
    person: object = None  # its person in the file (importing.check.Person)
    duplicate_of: int | None = None  # the earlier line this row repeats
    notes_differ_from: int | None = None  # the earlier line with other notes for its customer
    outcome: str = ""
    message: str = ""
    customer_id: int | None = None
    contact_id: int | None = None
    role: str | None = None



@dataclass
class Parsed:
    text: str
    encoding: str
    delimiter: str
    headers: list  # the file's header cells
    fields: list  # the field each column is read as, or None (importing.mapping)
    rows: list
    samples: list = field(default_factory=list)  # the first rows' cells, for the mapping step
    format: str | None = None  # the known export format recognised, if any
    mapping_error: str | None = None  # why the mapping cannot be used (then no rows are read)
    records: int = 0  # the file's rows (also when the mapping cannot be used)
    blank_lines: int = 0

    @property
    def ignored(self) -> list:
        """The header cells of the columns not imported."""
        return [h.strip() or f"(column {i + 1} without a name)"
                for i, (h, f) in enumerate(zip(self.headers, self.fields)) if f is None]

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


def check_size(size: int, limit: int | None = None):
    """ImportFileError, saying the limit, for a file of more than `limit` bytes (None:
    MAX_BYTES, this import's; another import passes its own)."""
    limit = MAX_BYTES if limit is None else limit
    if size > limit:
        if limit >= 2**20:
            raise ImportFileError(f"This file is {size / 2**20:.0f} MB; the import takes "
                                  f"{limit // 2**20} MB at most. Split it into smaller files.")
        raise ImportFileError(f"This file is {-(-size // 1024):,} KB; the import takes "
                              f"{limit // 1024:,} KB at most. Split it into smaller files.")


def read(data: bytes) -> Parsed:
    """Bytes of an uploaded file, checked for size and decoded, as rows."""
    check_size(len(data))
    text, encoding = decode(data)
    return parse(text, encoding)


def opened(data: bytes, limit: int | None = None) -> tuple[str, str]:
    """An upload's text and encoding, with its size checked (against `limit`) and a header
    line found (ImportFileError): what the upload request does before the rows are read and
    checked, here or in a job."""
    check_size(len(data), limit)
    text, encoding = decode(data)
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ImportFileError("The file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        next(cells for cells in reader if any(c.strip() for c in cells))
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num} cannot be read as CSV ({exc}).") from None
    return text, encoding


@dataclass
class Records:
    """A CSV text split into its header and records, before any column means anything."""

    delimiter: str
    headers: list  # the header line's cells
    records: list  # (line where the record starts, its cells), blank lines left out
    blank_lines: int  # blank lines after the header

    @property
    def delimiter_name(self) -> str:
        return {",": "comma", ";": "semicolon", "\t": "tab"}[self.delimiter]


def split(text: str, max_rows: int | None = None) -> Records:
    """The header and records of a CSV text (comma, semicolon or tab, whichever the header
    line holds most of). ImportFileError when it is empty, has no rows, more than `max_rows`
    rows (None: MAX_ROWS), or cannot be read as CSV. What every import reads its file with."""
    max_rows = MAX_ROWS if max_rows is None else max_rows
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise ImportFileError("The file is empty.")
    delimiter = _sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headers, records, blank, previous = None, [], 0, 0
    try:
        for cells in reader:
            line, previous = previous + 1, reader.line_num  # where the record starts
            if not any(c.strip() for c in cells):
                blank += headers is not None
                continue
            if headers is None:
                headers = cells
                continue
            if len(records) >= max_rows:
                raise ImportFileError(f"The file has more than {max_rows:,} rows. Split it "
                                      "into smaller files.")
            records.append((line, cells))
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num} cannot be read as CSV ({exc}).") from None
    if not records:
        raise ImportFileError("The file has a header line but no rows.")
    return Records(delimiter=delimiter, headers=headers, records=records, blank_lines=blank)


def parse(text: str, encoding: str = "UTF-8", fields: list | None = None) -> Parsed:
    """Rows of a CSV text, its columns read as `fields` (one per column; None: as suggested
    from the header and values). ImportFileError when the file as a whole cannot be used; a
    mapping that cannot be used is said in `mapping_error` (the columns and samples are kept
    for the mapping step, no rows)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    found = split(text)
    delimiter, headers, records, blank = (found.delimiter, found.headers, found.records,
                                          found.blank_lines)
    samples = [cells for _, cells in records[:columns_of.SAMPLE_ROWS]]
    suggested, found = columns_of.suggest(headers, samples)
    fields = columns_of.clean(fields, len(headers)) if fields is not None else suggested
    parsed = Parsed(text=text, encoding=encoding, delimiter=delimiter, headers=headers,
                    fields=fields, rows=[], samples=samples, format=found, blank_lines=blank,
                    records=len(records))
    try:
        columns_of.check_mapping(fields, headers)
    except columns_of.MappingError as exc:
        parsed.mapping_error = str(exc)
        return parsed
    positions = {c: [i for i, f in enumerate(fields) if f == c] for c in COLUMNS}
    for line, cells in records:
        raw = {}
        for column, where in positions.items():
            if not where:
                continue
            values = [cells[i] if i < len(cells) else "" for i in where]
            raw[column] = (f" {columns_of.SEPARATOR} ".join(v.strip() for v in values if v.strip())
                           if column in columns_of.MULTI else values[0])
        row = Row(line=line, raw=raw)
        extra = [c for c in cells[len(headers):] if c.strip()]
        if extra:
            row.error("row", f"This line has {len(cells)} cells but the header has "
                             f"{len(headers)}: a value with a "
                             f"{'comma' if delimiter == ',' else 'delimiter'} in it needs "
                             "quotes around it.")
        parsed.rows.append(row)
    return parsed
