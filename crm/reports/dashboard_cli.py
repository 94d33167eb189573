"""`flask reports refresh`: count the dashboard's cached widgets again (what the nightly job
does), e.g. after a bulk import or a benchmark seed."""
import click
from flask.cli import AppGroup

from crm.extensions import db

reports_cli = AppGroup("reports", help="Reports and dashboards.")


@reports_cli.command("refresh")
def refresh_command():
    """Count every cached dashboard widget for every period again, as of today."""
    from crm.reports.dashboard import refresh

    timings = refresh(echo=click.echo)
    db.session.commit()
    click.echo(f"Refreshed {len(timings)} widgets in {sum(timings.values()):.2f} s.")
