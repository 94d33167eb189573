"""flask segments refresh: every customer's computed categories, now (what the nightly job
segments_refresh does; run it from cron or `rq cron`)."""
from datetime import date

import click
from flask.cli import with_appcontext


@click.group("segments")
def segments_cli():
    """Segments: tags, saved segments and computed categories."""


@segments_cli.command("refresh")
@click.option("--date", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="compute as of this day (YYYY-MM-DD; default today, farm time)")
@with_appcontext
def refresh_command(on):
    """Compute every non-archived customer's value tier, cadence, churn risk, engagement and
    RFM score again; print how many are in each. Exit 1 if it fails (nothing is saved)."""
    from crm.extensions import db
    from crm.segments.categories import refresh

    today: date | None = on.date() if on else None
    try:
        done = refresh(today)
        db.session.commit()
    except Exception as exc:  # the message may quote data: name its kind only
        db.session.rollback()
        click.echo(f"The refresh failed ({type(exc).__name__}); nothing was saved.", err=True)
        raise click.exceptions.Exit(1) from None

    def listed(counts):
        return ", ".join(f"{key} {n}" for key, n in sorted(counts.items())) or "none"

    click.echo(f"Computed the categories of {done['customers']} customers as of "
               f"{done['computed_on']} in {done['seconds']} s.")
    click.echo(f"Value tier: {listed(done['tiers'])}.")
    click.echo(f"Churn risk: {listed(done['churn'])}.")
    click.echo(f"Engagement: {listed(done['engagement'])}.")
