"""`flask contacts import FILE`: the import from the command line, through the engine as the
package exports it (crm.contacts.importing)."""
import csv
import os
import time

import click
from flask.cli import with_appcontext

from crm.common import SYSTEM
from crm.contacts import importing
from crm.customers.models import KINDS
from crm.extensions import db


@click.command("import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--dry-run", is_flag=True, help="Check every row and print the summary; write nothing.")
@click.option("--on-duplicate", type=click.Choice(list(importing.POLICIES)), default="skip",
              show_default=True, help="What to do with rows matching an existing customer or "
                                      "contact.")
@click.option("--skip-invalid", is_flag=True,
              help="Import the valid rows and report the rest (default: any error, no import).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Write what became of every row to this CSV file.")
@click.option("--mapping", "mapping_path", type=click.Path(exists=True, dir_okay=False),
              help="A CSV of the file's columns and the field each is read as: one line per "
                   "column, `column,field` (field empty or `ignore`: not imported). Without "
                   "it the columns are read as suggested (known exports are recognised).")
@click.option("--kind", "default_kind", type=click.Choice(list(KINDS)),
              default=importing.DEFAULT_KIND, show_default=True,
              help="The kind of a new customer whose row gives none (people without an "
                   "organisation are individuals).")
def import_command(file, dry_run, on_duplicate, skip_invalid, report_path, mapping_path,
                   default_kind):
    """Import customers and their contacts from a CSV FILE.

    Exit status: 0 imported (or a clean dry run), 1 rows have errors and nothing was imported,
    2 the file cannot be used (too large, unreadable, no name column, a bad mapping).
    """
    try:
        importing.check_size(os.path.getsize(file))  # before reading it all into memory
        with open(file, "rb") as handle:
            text, encoding = importing.opened(handle.read())
        parsed = importing.parse(text, encoding)
        if mapping_path:
            parsed = importing.parse(text, encoding, read_mapping(mapping_path, parsed.headers))
    except importing.ImportFileError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2)
    if parsed.mapping_error:
        click.echo(f"error: {parsed.mapping_error} Give the columns with --mapping FILE.",
                   err=True)
        raise SystemExit(2)
    started = time.monotonic()
    click.echo(f"Read {len(parsed.rows):,} row{'s' if len(parsed.rows) != 1 else ''} "
               f"({parsed.encoding}, {parsed.delimiter_name}-separated).")
    if parsed.format and not mapping_path:
        click.echo(f"Recognised a {parsed.format} export.")
    if parsed.ignored:
        click.echo(f"Ignored columns: {', '.join(parsed.ignored)}.")
    plan = importing.check(parsed, on_duplicate, skip_invalid, default_kind)
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
        importing.apply(plan, actor=SYSTEM)
        importing.audit_run(plan, actor=SYSTEM, source="cli")
        db.session.commit()
        click.echo(f"Imported in {time.monotonic() - started:.1f} s.")
    if report_path:
        with open(report_path, "w", encoding="utf-8", newline="") as handle:
            handle.write(importing.report_csv(plan))
    click.echo(importing.summary_line(plan.counts))
    if status:
        raise SystemExit(status)


def read_mapping(path: str, headers: list) -> list:
    """The --mapping file as a mapping of `headers` (ImportFileError when it does not fit)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = [cells for cells in csv.reader(handle) if any(c.strip() for c in cells)]
    if lines and [c.strip().lower() for c in lines[0][:2]] == ["column", "field"]:
        lines = lines[1:]
    chosen = {}
    for number, cells in enumerate(lines, 1):
        column, field = cells[0].strip(), (cells[1].strip() if len(cells) > 1 else "")
        field = "" if field.lower() in ("", "ignore") else field
        if field and field not in importing.COLUMNS:
            raise importing.ImportFileError(
                f"The mapping's line {number} names no field we import; use one of "
                f"{', '.join(importing.COLUMNS)}, or ignore.")
        chosen[column.lower()] = field or None
    unknown = [c for c in chosen if c not in {h.strip().lower() for h in headers}]
    if unknown:
        raise importing.ImportFileError(
            f"The mapping names {len(unknown)} column{'s' if len(unknown) != 1 else ''} the "
            "file does not have. Its first column must be the file's header names.")
    return [chosen.get(h.strip().lower()) for h in headers]
