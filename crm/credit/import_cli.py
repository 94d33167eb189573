"""`flask credit import FILE [--dry-run]`: open invoices and opening balances from the command
line, through the engine the page uses (crm.credit.importing). Its command joins the credit
group (crm.credit.cli), which the feature registers from here."""
import os

import click
from flask.cli import with_appcontext

from crm.common import SYSTEM
from crm.contacts.importing.read import check_size
from crm.credit import importing
from crm.credit.cli import credit_cli
from crm.extensions import db
from crm.money import format_money


@credit_cli.command("import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.option("--dry-run", is_flag=True, help="Check every row and print the summary; write "
                                              "nothing.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, writable=True),
              help="Write what became of every row to this CSV file.")
def import_command(file, dry_run, report_path):
    """Import open invoices and opening balances from a CSV FILE.

    Columns: customer (CUST-00042 or the exact name), kind (invoice or balance), number (the
    old system's), issue_date, due_date (else the customer's terms), amount, paid. Rows
    imported before are skipped. Nothing is imported while any row has an error.

    Exit status: 0 imported (or a clean dry run), 1 rows have errors and nothing was imported,
    2 the file cannot be used.
    """
    try:
        check_size(os.path.getsize(file), importing.MAX_BYTES)  # before reading it all
        with open(file, "rb") as handle:
            parsed = importing.read(handle.read())
    except importing.ImportFileError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2)
    rows = len(parsed.rows)
    click.echo(f"Read {rows:,} row{'s' if rows != 1 else ''} ({parsed.encoding}, "
               f"{parsed.delimiter_name}-separated).")
    if parsed.ignored:
        click.echo(f"Ignored columns: {', '.join(parsed.ignored)}.")
    plan = importing.check(parsed)
    for row in plan.rows:  # messages only: customer numbers, never the file's names
        for column, messages in row.errors.items():
            for message in messages:
                click.echo(f"line {row.line}: {column}: {message}")
    status = 0
    if dry_run:
        click.echo("Dry run: nothing was written.")
    if plan.refused:
        click.echo(f"Nothing {'would be' if dry_run else 'was'} imported: {plan.errors} "
                   f"row{'s' if plan.errors != 1 else ''} with errors. Fix them and run again.")
        status = 1
    elif not dry_run:
        importing.apply(plan, actor=SYSTEM)
        importing.audit_run(plan, actor=SYSTEM, source="cli")
        db.session.commit()
    if not plan.refused:
        totals = plan.totals
        click.echo(f"{'Would import' if dry_run else 'Imported'} {totals['invoices']} "
                   f"invoice{'s' if totals['invoices'] != 1 else ''} and {totals['balances']} "
                   f"opening balance{'s' if totals['balances'] != 1 else ''} for "
                   f"{totals['customers']} customer{'s' if totals['customers'] != 1 else ''}: "
                   f"{format_money(totals['owed'])} owed more.")
    if report_path:
        with open(report_path, "w", encoding="utf-8", newline="") as handle:
            handle.write(importing.report_csv(plan))
    click.echo(importing.summary_line(plan.counts))
    if status:
        raise SystemExit(status)
