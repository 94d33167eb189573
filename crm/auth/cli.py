import sys

import click

from crm.auth import bp
from crm.auth.services import create_user, disable_user, find_by_email
from crm.common import SYSTEM
from crm.extensions import db
from crm.security.permissions import ROLES


@bp.cli.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--name", default="", help="Display name (defaults to the email's local part).")
def create(email, role, name):
    """Create a staff user; the password is prompted for, or read from stdin."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    try:
        user = create_user(email, name, role, password, actor=SYSTEM)
    except ValueError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc))
    db.session.commit()
    click.echo(f"Created staff user {user.id} with role {role}.")


@bp.cli.command("disable")
@click.argument("email")
def disable(email):
    """Disable a staff user and end their sessions."""
    user = find_by_email(email)
    if user is None:
        raise click.ClickException("no staff user with that email")
    try:
        disable_user(user, actor=SYSTEM)
    except ValueError as exc:  # the last active admin
        db.session.rollback()
        raise click.ClickException(str(exc))
    db.session.commit()
    click.echo(f"Disabled staff user {user.id}; their sessions have ended.")
