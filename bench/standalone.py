"""Running one of bench/'s measurements on its own (`python bench/<name>_bench.py`): a fresh
temporary database (SQLite, or BENCH_DATABASE_URL) and instance dir, the schema and the
starting catalogue, the app; and the figures printed. `make bench` runs the same
measure(app) functions on its own database instead (bench/segments_step.py)."""
import os
import tempfile
import time
from contextlib import contextmanager


@contextmanager
def fresh_app(prefix: str, keep: str | None = None):
    """An app on an empty, migrated database in a temporary dir (or in `keep`, left there)."""
    with (tempfile.TemporaryDirectory(prefix=prefix) if not keep else _kept(keep)) as place:
        os.environ.update({"CRM_INSTANCE_DIR": place, "CRM_CONFIG": "development",
                           "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL")
                           or f"sqlite:///{place}/bench.sqlite3"})
        os.environ.pop("REDIS_URL", None)  # inline jobs
        import flask_migrate

        from crm import create_app
        from crm.catalogue.services import seed_catalogue
        from crm.extensions import db

        app = create_app()
        with app.app_context():
            flask_migrate.upgrade()
            seed_catalogue()
            db.session.commit()
        yield app
        with app.app_context():
            db.engine.dispose()


def report(app, figures: dict, started: float):
    """Print each figure: its value, its target, met or not, and what else it says."""
    print(f"(seeded and measured in {time.monotonic() - started:.0f} s, "
          f"{app.config['SQLALCHEMY_DATABASE_URI'].split(':', 1)[0]})")
    for name, figure in figures.items():
        extra = {k: v for k, v in figure.items() if k not in ("value", "unit", "target", "met")}
        print(f"{name}: {figure['value']} {figure['unit']} (target {figure['target']}, "
              f"{'met' if figure['met'] else 'NOT met'}) {extra or ''}")


@contextmanager
def _kept(folder):
    os.makedirs(folder, exist_ok=True)
    yield folder


@contextmanager
def seeded_app(prefix: str, customers: int, invoices: int):
    """An app on a fresh SQLite database seeded the way `make bench` seeds its own, through
    the CLI: the schema, `flask demo bulk` customers and `flask demo invoices` invoices."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix=prefix) as place:
        env = {**os.environ, "FLASK_APP": "wsgi", "CRM_CONFIG": "development",
               "CRM_INSTANCE_DIR": place, "DATABASE_URL": f"sqlite:///{place}/bench.sqlite3",
               "PYTHONUNBUFFERED": "1"}
        env.pop("REDIS_URL", None)
        flask = str(Path(sys.executable).parent / "flask")
        for step in (["db", "upgrade"], ["demo", "bulk", "--customers", str(customers)],
                     ["demo", "invoices", "--count", str(invoices)]):
            started = time.monotonic()
            subprocess.run([flask, *step], cwd=root, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            print(f"flask {' '.join(step)}: {time.monotonic() - started:.0f} s")
        os.environ.update({k: env[k] for k in ("CRM_CONFIG", "CRM_INSTANCE_DIR",
                                               "DATABASE_URL")})
        os.environ.pop("REDIS_URL", None)
        from crm import create_app

        yield create_app()
