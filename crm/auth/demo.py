"""The demo farm's staff: one user per role, all with the demo password."""
from crm.auth.services import create_user
from crm.common import SYSTEM

STAFF = [
    ("admin@example.com", "Avery Admin", "admin"),
    ("manager@example.com", "Morgan Fields", "manager"),
    ("sales@example.com", "Sam Sprout", "sales"),
    ("finance@example.com", "Frankie Ledger", "finance"),
    ("delivery@example.com", "Dana Route", "delivery"),
    ("viewer@example.com", "Vic Viewer", "viewer"),
    ("grower@example.com", "Gale Grower", "grower"),
]
DEMO_PASSWORD = "microgreens"


def seed(farm):
    farm.staff.extend(create_user(email, name, role, DEMO_PASSWORD, actor=SYSTEM)
                      for email, name, role in STAFF)
