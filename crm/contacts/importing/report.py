"""What became of every row (the report CSV), the summary line, and the import's audit event."""
import csv
import io

from crm.audit.services import record
from crm.contacts.importing.check import Plan
from crm.contacts.importing.columns import safe_cell
from crm.customers.models import format_number

REPORT_COLUMNS = ("line", "outcome", "customer_number", "contact_id", "message")


def csv_text(columns, rows) -> str:
    """A CSV (CRLF lines, as spreadsheets write them) of a header and rows, every cell passed
    through safe_cell(): what every import's report is written with."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for values in rows:
        writer.writerow([safe_cell(v) for v in values])
    return out.getvalue()


def report_csv(plan: Plan) -> str:
    """What became of every row: line, outcome, customer number, contact id, message. Every
    cell passes safe_cell(). Before the import runs (or when it is refused) it says what would
    happen, with the numbers of the existing records matched."""
    return csv_text(REPORT_COLUMNS, _report_rows(plan))


def _report_rows(plan: Plan):
    errors = plan.errors
    refused = bool(errors) and not plan.skip_invalid
    for row in plan.rows:
        outcome, message = row.outcome, row.message
        if refused and outcome in ("created", "updated"):
            outcome = "skipped"
            message = (f"Not imported: {errors} row{'s' if errors != 1 else ''} of the file "
                       f"{'have' if errors != 1 else 'has'} errors, and nothing is imported "
                       "until they are fixed.")
        yield (row.line, outcome, format_number(row.customer_id) if row.customer_id else "",
               row.contact_id or "", message)


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
