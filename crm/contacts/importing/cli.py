"""`flask contacts import FILE`: the import from the command line, through the engine as the
package exports it (crm.contacts.importing)."""
import os
import time

import click
from flask.cli import with_appcontext

from crm.common import SYSTEM
from crm.contacts import importing
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
def import_command(file, dry_run, on_duplicate, skip_invalid, report_path):
    """Import customers and their contacts from a CSV FILE.

    Exit status: 0 imported (or a clean dry run), 1 rows have errors and nothing was imported,
    2 the file cannot be used (too large, unreadable, missing columns).
    """
    try:
        importing.check_size(os.path.getsize(file))  # before reading it all into memory
        with open(file, "rb") as handle:
            parsed = importing.read(handle.read())
    except importing.ImportFileError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2)
    started = time.monotonic()
    click.echo(f"Read {len(parsed.rows):,} row{'s' if len(parsed.rows) != 1 else ''} "
               f"({parsed.encoding}, {parsed.delimiter_name}-separated).")
    if parsed.ignored:
        click.echo(f"Ignored columns: {', '.join(parsed.ignored)}.")
    plan = importing.check(parsed, on_duplicate, skip_invalid)
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
