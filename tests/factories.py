"""Test data made through the real services, so encryption and indexes are exercised."""
from itertools import count

from crm.common import SYSTEM
from crm.contacts.services import new_customer
from crm.extensions import db

_seq = count(1)


def customer(name=None, kind="restaurant", status="active", contact=True, address=True,
             commit=True, **fields):
    n = next(_seq)
    # Phones 555-2000 to 555-9999: tests type their own in 555-0100 to 555-0199, and a made
    # customer's must never match those (a duplicate warning) however many tests ran before.
    data = {"name": name or f"Test Kitchen {n}", "kind": kind, "status": status,
            "pricing_tier": "standard", **fields}
    made = new_customer(
        data,
        contact={"first_name": "Rosa", "last_name": f"Tester{n}",
                 "email": f"rosa{n}@kitchen.example.com", "phone": f"+1312556{n % 10000:04d}"}
        if contact else None,
        address={"street": f"{100 + n} W Armitage Ave", "street2": None, "city": "Chicago",
                 "region": "IL", "postal_code": "60614", "country": "US",
                 "delivery_instructions": "Back door, ring twice"} if address else None,
        actor=SYSTEM,
    )
    if commit:
        db.session.commit()
    return made


def catalogue():
    """The starting catalogue ({name: Product}, {name: Packaging}); tests empty the tables."""
    from sqlalchemy import select

    from crm.catalogue.models import Packaging, Product
    from crm.catalogue.services import seed_catalogue

    seed_catalogue()
    db.session.commit()
    return ({p.name: p for p in db.session.scalars(select(Product))},
            {p.name: p for p in db.session.scalars(select(Packaging))})


def delivery_plan(customer, route_name="North", weekdays=("Tue", "Fri"), stop=1, **fields):
    """A delivery plan on a route (created if missing); commits."""
    from sqlalchemy import select

    from crm.catalogue.models import Route
    from crm.preferences.models import WEEKDAYS, DeliveryPlan

    route = db.session.scalar(select(Route).where(Route.name == route_name))
    if route is None:
        route = Route(name=route_name)
        db.session.add(route)
    plan = DeliveryPlan(customer_id=customer.id, route=route, stop_order=stop,
                        weekdays=sum(1 << WEEKDAYS.index(d) for d in weekdays), **fields)
    db.session.add(plan)
    db.session.commit()
    return plan
