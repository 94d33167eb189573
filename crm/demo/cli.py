import random

import click
from flask import current_app
from flask.cli import AppGroup

from crm.customers.models import Customer
from crm.demo.bulk import (
    STOP_ROUTES,
    bulk,
    bulk_interactions,
    bulk_preference_history,
    bulk_stops,
)
from crm.demo.invoices import bulk_invoices
from crm.demo.seed import seed
from crm.extensions import db

demo_cli = AppGroup("demo", help="Demo data (refused under the production config).")


def _refuse_in_production():
    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("Demo data is refused under the production configuration.")


@demo_cli.command("seed")
@click.option("--weeks", default=52, show_default=True, type=click.IntRange(0, 260),
              help="weeks of orders, invoices and payments to make, back from today")
def seed_command(weeks):
    """A believable farm: ~60 customers, contacts, addresses, one staff user per role, a
    price list, and a year of orders, invoices and payments."""
    _refuse_in_production()
    created = seed(weeks)
    if created is None:
        click.echo("Demo data already present; nothing to do.")
        return
    click.echo(f"Seeded {created} customers and one staff user per role "
               "(e.g. admin@example.com / microgreens).")


@demo_cli.command("bulk")
@click.option("--customers", "count", default=100_000, show_default=True,
              type=click.IntRange(1, 2_000_000))
@click.option("--seed", "seed_value", default=42, show_default=True)
def bulk_command(count, seed_value):
    """Add COUNT synthetic customers (with contact and address) for benchmarks."""
    _refuse_in_production()
    made = bulk(count, random.Random(seed_value), echo=click.echo)
    click.echo(f"Added {made} customers.")


@demo_cli.command("interactions")
@click.option("--customer", "customer_id", required=True, type=int,
              help="an existing customer's id")
@click.option("--count", default=10_000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", "seed_value", default=42, show_default=True)
def interactions_command(customer_id, count, seed_value):
    """Give one customer COUNT synthetic interactions (a long timeline) for benchmarks."""
    _refuse_in_production()
    if db.session.get(Customer, customer_id) is None:
        raise click.ClickException(f"No customer {customer_id}.")
    made = bulk_interactions(customer_id, count, random.Random(seed_value), echo=click.echo)
    click.echo(f"Added {made} interactions to customer {customer_id}.")


@demo_cli.command("stops")
@click.option("--count", default=500, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="the delivery date (YYYY-MM-DD) every new plan delivers on")
@click.option("--routes", default=len(STOP_ROUTES), show_default=True,
              type=click.IntRange(1, len(STOP_ROUTES)))
@click.option("--from-customer", default=1, show_default=True, type=int,
              help="the lowest customer id to give a plan")
@click.option("--seed", "seed_value", default=42, show_default=True)
def stops_command(count, day, routes, from_customer, seed_value):
    """Give COUNT active customers without a plan delivery plans that deliver on DATE, with
    standing items and dislikes, spread over a few routes: a big delivery sheet for benchmarks."""
    _refuse_in_production()
    day = day.date()
    ids = bulk_stops(count, day, random.Random(seed_value), from_customer=from_customer,
                     routes=routes)
    if len(ids) < count:
        raise click.ClickException(
            f"Only {len(ids)} active customers without a delivery plan from id {from_customer};"
            " nothing was changed.")
    click.echo(f"Gave {len(ids)} customers (ids {ids[0]} to {ids[-1]}) delivery plans on "
               f"{day:%A %Y-%m-%d} over {routes} routes.")


@demo_cli.command("history")
@click.option("--customer", "customer_id", required=True, type=int,
              help="an existing customer's id")
@click.option("--count", default=1000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--seed", "seed_value", default=42, show_default=True)
def history_command(customer_id, count, seed_value):
    """Give one customer COUNT synthetic preference changes (a long history) for benchmarks."""
    _refuse_in_production()
    if db.session.get(Customer, customer_id) is None:
        raise click.ClickException(f"No customer {customer_id}.")
    made = bulk_preference_history(customer_id, count, random.Random(seed_value), echo=click.echo)
    click.echo(f"Added {made} preference changes to customer {customer_id}.")


def _customer_count(ctx, param, values):
    """--customer 50058:2000 -> {50058: 2000}."""
    found = {}
    for value in values:
        customer, _, count = value.partition(":")
        if not (customer.isdigit() and count.isdigit()):
            raise click.BadParameter(f"{value!r}: give CUSTOMER_ID:COUNT, e.g. 50058:2000")
        found[int(customer)] = int(count)
    return found


@demo_cli.command("invoices")
@click.option("--count", default=1_000_000, show_default=True,
              type=click.IntRange(1, 20_000_000), help="invoices in all")
@click.option("--customer", "fixed", multiple=True, callback=_customer_count,
              metavar="ID:COUNT", help="give this customer exactly COUNT of them (repeatable)")
@click.option("--seed", "seed_value", default=42, show_default=True)
def invoices_command(count, fixed, seed_value):
    """Add COUNT synthetic invoices over the last two years, most of them paid, with their
    ledger entries, for benchmarks; the rest go to customers without invoices."""
    _refuse_in_production()
    for customer_id in fixed:
        if db.session.get(Customer, customer_id) is None:
            raise click.ClickException(f"No customer {customer_id}.")
    try:
        made = bulk_invoices(count, random.Random(seed_value), fixed, echo=click.echo)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Added {made} invoices.")
