"""WSGI entry point: `gunicorn wsgi:app`."""
import gc

from crm import create_app

app = create_app()
# What start-up made (models, routes, configuration) lives as long as the process: keep it out
# of the cyclic garbage collector's way, so a collection during a request walks that request's
# objects, not the whole heap (those full walks were about 6 % of a Communications tab).
gc.freeze()
