"""CSV import of customers with their contacts: parse, validate, preview, apply, report.

One engine for the web pages (crm.contacts.import_views), the background job
("contacts_import", importing/job.py) and `flask contacts import FILE` (importing/cli.py),
one module per stage, each importing only the stages before it:

    columns.py  the file's columns, labels, how names compare, spreadsheet-safe cells
    read.py     bytes -> text -> rows: size, encoding, delimiter, header aliases
    check.py    every row validated and matched, within the file and in the database: the plan
    preview.py  the plan stored once for the preview's pages (checked here or by a job)
    write.py    the plan written through the customers' and contacts' services
    report.py   what became of every row (CSV), the summary line, the run's audit event

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
from crm.contacts.importing.check import (
    DEFAULT_KIND,
    POLICIES,
    Group,
    Person,
    Plan,
    check,
)
from crm.contacts.importing.columns import COLUMNS, LABELS, safe_cell, unsafe_cell
from crm.contacts.importing.read import (
    MAX_BYTES,
    MAX_ROWS,
    ImportFileError,
    Parsed,
    Row,
    check_size,
    decode,
    opened,
    parse,
    read,
)
from crm.contacts.importing.report import audit_run, report_csv, summary_line
from crm.contacts.importing.write import ImportRefused, apply

__all__ = [
    "COLUMNS", "DEFAULT_KIND", "LABELS", "MAX_BYTES", "MAX_ROWS", "POLICIES", "Group",
    "ImportFileError", "ImportRefused", "Parsed", "Person", "Plan", "Row", "apply",
    "audit_run", "check", "check_size", "decode", "opened", "parse", "read", "report_csv",
    "safe_cell", "summary_line", "unsafe_cell",
]
