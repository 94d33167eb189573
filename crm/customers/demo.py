"""The demo farm's customers: a restaurant group with its locations, restaurants, grocers,
caterers, wholesalers, market stalls and people-named accounts, each with a primary contact and
a delivery address, owned by the managers and sales staff."""
from crm.common import SYSTEM
from crm.customers.services import create_customer
from crm.demo import data
from crm.extensions import db

STATUSES = ["active"] * 6 + ["lead", "paused", "churned"]
TIERS = {"restaurant": "restaurant", "caterer": "restaurant", "wholesale": "wholesale",
         "grocer": "wholesale"}


def seed(farm):
    group = _add(farm, *data.GROUP)
    for location in data.GROUP_LOCATIONS:
        _add(farm, location, "restaurant", parent=group)
    for name, kind in data.CUSTOMERS:
        _add(farm, name, kind)
    for name, kind in data.PEOPLE_ACCOUNTS:
        first, _, last = name.partition(" ")
        _add(farm, name, kind, contact_name=(first, last))
    db.session.flush()


def _add(farm, name, kind, contact_name=None, parent=None):
    rng = farm.rng
    first, last = contact_name or (rng.choice(data.FIRST_NAMES), rng.choice(data.LAST_NAMES))
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:18] or "customer"
    number = len(farm.customers)  # keeps the demo emails unique
    customer = create_customer(
        {"name": name, "kind": kind, "status": rng.choice(STATUSES),
         "pricing_tier": TIERS.get(kind, "standard"), "owner_id": rng.choice(farm.owners).id,
         "parent_id": parent.id if parent else None, "notes": rng.choice(data.NOTES)},
        contact={"first_name": first, "last_name": last,
                 "email": f"{first.lower()}.{slug}{number}@example.com".replace("'", ""),
                 "phone": f"+1312555{rng.randint(0, 9999):04d}"},
        address=data.address(rng),
        actor=SYSTEM,
    )
    farm.customers.append(customer)
    return customer
