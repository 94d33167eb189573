"""flask orders cutoff: tomorrow's confirmed orders asked about credit again."""
from datetime import datetime, timedelta

import click
from flask import current_app
from flask.cli import with_appcontext


@click.group("orders")
def orders_cli():
    """Orders: the cut-off re-check."""


@orders_cli.command("cutoff")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]),
              help="re-check this delivery day instead of tomorrow (YYYY-MM-DD)")
@click.option("--if-cutoff-hour", is_flag=True,
              help="do nothing unless it is ORDER_CUTOFF_HOUR now, farm time: cron can run "
                   "it every hour in any time zone, and daylight saving moves nothing")
@with_appcontext
def cutoff_command(day, if_cutoff_hour):
    """At the farm's cut-off hour (ORDER_CUTOFF_HOUR, farm time; from cron, or `rq cron` with
    the job orders_cutoff): every confirmed order delivering tomorrow is checked against its
    customer's credit as it stands now; a blocked customer's go back to drafts with the
    reasons, so no one cuts greens for an order that will not ship. Prints counts and order
    numbers (never names)."""
    from crm.common import SYSTEM, farm_today, farm_zone
    from crm.extensions import db
    from crm.orders.models import Order
    from crm.orders.services import recheck_day

    hour = current_app.config["ORDER_CUTOFF_HOUR"]
    if if_cutoff_hour and datetime.now(farm_zone()).hour != hour:
        return
    on = day.date() if day else farm_today() + timedelta(days=1)
    done = recheck_day(on, actor=SYSTEM)
    db.session.commit()
    drafts = ", ".join(Order(id=i).number for i in done["to_draft"])
    click.echo(f"{on:%A %Y-%m-%d}: {done['checked']} confirmed orders checked; "
               f"{len(done['to_draft'])} back to draft{': ' + drafts if drafts else ''}; "
               f"{done['overridden']} kept past a block by an override.")
