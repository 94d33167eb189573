"""The preview's check, done once per upload and choices and stored: a summary (with the
columns, their sample values and the fields they are read as, for the mapping step) and every
row as the preview shows it, in the preview's order (errors first, then by line), so a page of
the preview reads one page of rows and never parses or checks the file again. Both hold the
file's values, so both are encrypted like the file. Writes the caller's unit of work.

    check_upload(imp)        # parse + check + store (the job, or the upload request if small)
    summary(imp)             # the stored summary under the import's current choices, or None
    rows_page(imp, page)     # one page of stored rows
    remember(imp)            # its mapping, for the next file with the same header
"""
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import delete, select

from crm.common import batches, insert_rows
from crm.contacts.importing.check import check
from crm.contacts.importing.mapping import column_values, header_key
from crm.contacts.importing.read import parse
from crm.contacts.models import ContactImport, ContactImportRow, ImportMapping
from crm.extensions import db

PAGE_ROWS = 100
BATCH = 1000
SAMPLES = 3  # values shown beside each column in the mapping step


@dataclass(frozen=True)
class ShownRow:
    line: int
    outcome: str
    message: str
    raw: dict
    errors: dict


@dataclass(frozen=True)
class Column:
    position: int
    header: str
    samples: list
    field: str | None


@dataclass(frozen=True)
class Summary:
    """What the preview says above its rows, for the import's current "valid rows only"
    choice (which only decides whether rows with errors stop the whole import)."""

    stats: dict
    counts: dict
    refused: bool
    encoding: str
    delimiter_name: str
    blank_lines: int
    ignored: list
    columns: list
    format: str | None
    remembered: bool
    mapping_error: str | None


def checked_for(imp: ContactImport) -> str:
    """The choices a stored check depends on ("valid rows only" is not one of them)."""
    fields = json.dumps(imp.mapping or [], separators=(",", ":"))
    digest = hashlib.sha256(fields.encode()).hexdigest()[:16]
    return f"{imp.on_duplicate}:{imp.default_kind}:{digest}"


def check_upload(imp: ContactImport, report=None):
    """Parse and check an upload under its duplicate policy and store the result for its
    preview (status "previewed"). ImportFileError when the file as a whole cannot be used."""
    report = report or (lambda progress, message=None: None)
    report(5, "Reading the file")
    parsed = parse(imp.content, (imp.counts or {}).get("encoding", "UTF-8"), imp.mapping)
    remembered = False
    if imp.mapping is None:  # first check: the columns as last time for this header, if known
        known = db.session.scalar(select(ImportMapping.fields)
                                  .where(ImportMapping.header_key == header_key(parsed.headers)))
        if known is not None and len(known) == len(parsed.headers):
            parsed = parse(imp.content, parsed.encoding, known)
            remembered = True
    columns = [Column(n, header, [v for v in column_values(parsed.samples, n) if v][:SAMPLES],
                      parsed.fields[n]).__dict__ for n, header in enumerate(parsed.headers)]
    clear(imp)
    imp.mapping = parsed.fields
    common = {"encoding": parsed.encoding, "delimiter_name": parsed.delimiter_name,
              "blank_lines": parsed.blank_lines, "ignored": parsed.ignored, "columns": columns,
              "format": parsed.format, "remembered": remembered}
    if parsed.mapping_error:
        imp.checked = json.dumps({**common, "mapping_error": parsed.mapping_error,
                                  "rows": parsed.records, "errors": 0, "in_file": 0,
                                  "in_database": 0, "created": 0, "updated": 0,
                                  "duplicates": 0}, ensure_ascii=False)
        imp.checked_for, imp.status = checked_for(imp), "previewed"
        imp.counts = {"encoding": parsed.encoding}
        return None
    report(15, f"Checking {len(parsed.rows):,} rows")
    plan = check(parsed, imp.on_duplicate, imp.skip_invalid, imp.default_kind)
    report(70, "Keeping the result for the preview")
    ordered = sorted(plan.rows, key=lambda r: (r.valid, r.line))
    for start, chunk in enumerate(batches(ordered, BATCH)):
        insert_rows(ContactImportRow, [
            {"import_id": imp.id, "position": start * BATCH + n, "shown": json.dumps(
                [row.line, row.outcome, row.message, row.raw, row.errors],
                ensure_ascii=False, separators=(",", ":"))}
            for n, row in enumerate(chunk)])
    written = [r.outcome for r in plan.rows]
    imp.checked = json.dumps({
        **common, "mapping_error": None, "rows": len(plan.rows), "errors": plan.errors,
        "in_file": plan.stats["in_file"], "in_database": plan.stats["in_database"],
        "created": written.count("created"), "updated": written.count("updated"),
        "duplicates": written.count("skipped") + written.count("duplicate"),
    }, ensure_ascii=False)
    imp.checked_for = checked_for(imp)
    imp.counts = {"rows": len(parsed.rows), "encoding": parsed.encoding}
    imp.status = "previewed"
    return plan


def clear(imp: ContactImport):
    """Drop the stored check (the choices changed, or the file is gone)."""
    db.session.execute(delete(ContactImportRow).where(ContactImportRow.import_id == imp.id))
    imp.checked = imp.checked_for = None


def remember(imp: ContactImport):
    """Keep the import's mapping for the next file with the same header (caller commits)."""
    data = json.loads(imp.checked) if imp.checked else {}
    headers = [c["header"] for c in data.get("columns", [])]
    if not headers or not imp.mapping:
        return
    key = header_key(headers)
    known = db.session.scalar(select(ImportMapping).where(ImportMapping.header_key == key))
    if known is None:
        db.session.add(ImportMapping(header_key=key, fields=list(imp.mapping)))
    elif known.fields != imp.mapping:
        known.fields = list(imp.mapping)


def file_error(imp: ContactImport) -> str | None:
    """Why the file could not be checked, for an import that is "unreadable"."""
    return json.loads(imp.checked).get("error") if imp.checked else None


def summary(imp: ContactImport) -> Summary | None:
    """The stored check under the import's choices; None when it must be checked again."""
    if not imp.checked or imp.checked_for != checked_for(imp):
        return None
    data = json.loads(imp.checked)
    if "error" in data:
        return None
    refused = bool(data["errors"]) and not imp.skip_invalid or bool(data["mapping_error"])
    written = 0 if refused else data["created"] + data["updated"]
    return Summary(
        stats={"rows": data["rows"], "valid": data["rows"] - data["errors"],
               "errors": data["errors"], "in_file": data["in_file"],
               "in_database": data["in_database"], "to_write": written},
        counts={"rows": data["rows"], "created": 0 if refused else data["created"],
                "updated": 0 if refused else data["updated"],
                "duplicates": data["duplicates"], "errors": data["errors"]},
        refused=refused, encoding=data["encoding"], delimiter_name=data["delimiter_name"],
        blank_lines=data["blank_lines"], ignored=data["ignored"],
        columns=[Column(**c) for c in data["columns"]], format=data["format"],
        remembered=data["remembered"], mapping_error=data["mapping_error"])


def rows_page(imp: ContactImport, page: int) -> list[ShownRow]:
    """Page `page` (from 1) of the stored rows, PAGE_ROWS a page."""
    first = (page - 1) * PAGE_ROWS  # positions are 0, 1, 2…: a range of the unique index
    shown = db.session.scalars(
        select(ContactImportRow.shown)
        .where(ContactImportRow.import_id == imp.id, ContactImportRow.position >= first,
               ContactImportRow.position < first + PAGE_ROWS)
        .order_by(ContactImportRow.position))
    return [ShownRow(*json.loads(text)) for text in shown]
