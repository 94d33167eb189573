"""flask credit verify: do the ledger and the invoices and payments tell the same story?"""
import click
from flask.cli import with_appcontext

from crm.customers.models import format_number


@click.group("credit")
def credit_cli():
    """Credit: check the books."""


@credit_cli.command("verify")
@with_appcontext
def verify_command():
    """Check every customer's ledger against its invoices and payments; exit 1 and name the
    customers (numbers, never names) that disagree."""
    from crm.credit.services import verify

    problems = verify()
    if not problems:
        click.echo("The ledger agrees with every invoice and payment.")
        return
    for customer_id, found in sorted(problems.items()):
        for text in found:
            click.echo(f"{format_number(customer_id)}: {text}", err=True)
    raise click.exceptions.Exit(1)


@credit_cli.command("nightly")
@with_appcontext
def nightly_command():
    """What runs every night (from cron, or `rq cron` with the job credit_nightly): alerts for
    invoices newly overdue, automatic holds placed and lifted, limits looked at again."""
    from crm.common import SYSTEM
    from crm.credit.services import nightly
    from crm.extensions import db

    done = nightly(actor=SYSTEM)
    db.session.commit()
    click.echo(f"Looked at {done['customers']} customers; {done['alerts']} new alerts.")
