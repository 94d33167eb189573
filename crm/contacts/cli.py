"""`flask contacts ...`: the CSV import and the duplicate scan from the command line."""
from flask.cli import AppGroup

contacts_cli = AppGroup("contacts", help="Customers and contacts: import, duplicates.")

# Commands register themselves on the group when their modules are imported.
from crm.contacts import importing, duplicates  # noqa: E402,F401
