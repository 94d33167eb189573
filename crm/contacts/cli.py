"""`flask contacts ...`: the CSV import and the duplicate scan from the command line."""
from flask.cli import AppGroup

from crm.contacts.duplicate_scan import scan_command
from crm.contacts.importing.cli import import_command

contacts_cli = AppGroup("contacts", help="Customers and contacts: import, duplicates.")
contacts_cli.add_command(import_command)
contacts_cli.add_command(scan_command)
