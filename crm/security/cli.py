import click
from flask.cli import AppGroup

from crm.security.rotation import reindex, rotate_keys

crypto_cli = AppGroup("crypto", help="Encryption keys and blind indexes.")


@crypto_cli.command("rotate-keys")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(1, 10_000))
def rotate_keys_command(batch_size):
    """Re-encrypt every encrypted value under the newest key (resumable: run it again)."""
    totals = rotate_keys(batch_size=batch_size, report=lambda p, m: click.echo(f"{p:3d}% {m}"))
    click.echo(f"Re-encrypted {sum(totals.values())} values under the newest key.")


@crypto_cli.command("reindex")
def reindex_command():
    """Recompute blind indexes and name-search tokens (after changing the blind-index key)."""
    counts = reindex(report=lambda p, m: click.echo(f"{p:3d}% {m}"))
    click.echo("Reindexed " + ", ".join(f"{n} {t}" for t, n in counts.items()) + ".")
