import random

import click
from flask import current_app
from flask.cli import AppGroup

from crm.customers.models import Customer
from crm.demo.seed import bulk, bulk_interactions, seed
from crm.extensions import db

demo_cli = AppGroup("demo", help="Demo data (refused under the production config).")


def _refuse_in_production():
    if not current_app.config["DEMO_DATA_ALLOWED"]:
        raise click.ClickException("Demo data is refused under the production configuration.")


@demo_cli.command("seed")
def seed_command():
    """A believable farm: ~60 customers, contacts, addresses, one staff user per role."""
    _refuse_in_production()
    created = seed()
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
