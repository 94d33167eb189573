"""Test data made through the real services, so encryption and indexes are exercised."""
from itertools import count

from crm.customers.services import create_customer
from crm.extensions import db

_seq = count(1)


def customer(name=None, kind="restaurant", status="active", contact=True, address=True,
             commit=True, **fields):
    n = next(_seq)
    data = {"name": name or f"Test Kitchen {n}", "kind": kind, "status": status,
            "pricing_tier": "standard", **fields}
    made = create_customer(
        data,
        contact={"first_name": "Rosa", "last_name": f"Tester{n}",
                 "email": f"rosa{n}@kitchen.example.com", "phone": f"+1312555{n % 10000:04d}"}
        if contact else None,
        address={"street": f"{100 + n} W Armitage Ave", "street2": None, "city": "Chicago",
                 "region": "IL", "postal_code": "60614", "country": "US",
                 "delivery_instructions": "Back door, ring twice"} if address else None,
        actor=None,
    )
    if commit:
        db.session.commit()
    return made
