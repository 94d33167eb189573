"""Fast synthetic rows for the load benchmark (`make bench`, `flask demo bulk|interactions|stops|
history`): many customers, a long timeline, a big delivery sheet, a long preference history.
Written in batches straight to the tables (encrypted by the columns' types), not through the
services: no audit events, one commit per batch."""
import random
import time
from datetime import time as time_of_day
from datetime import timedelta

from sqlalchemy import func, insert, select

from crm.auth.models import StaffUser
from crm.catalogue.models import Packaging, Product, Route
from crm.catalogue.services import seed_catalogue
from crm.common import utcnow
from crm.communications.demo import INTERACTIONS
from crm.communications.models import Interaction
from crm.contacts.demo import FIRST_NAMES, LAST_NAMES, address
from crm.contacts.models import Contact, ContactEmail, ContactPhone, CustomerContact
from crm.customers.models import Address, Customer
from crm.extensions import db
from crm.preferences.models import (
    WEEKDAYS,
    DeliveryPlan,
    PreferenceChange,
    ProductPreference,
    StandingItem,
)
from crm.security.blind_index import email_index, name_tokens, phone_index
from crm.security.models import SearchToken
from crm.security.permissions import PERMISSIONS

ADJECTIVES = ["Blue", "Golden", "Green", "Little", "Wild", "Copper", "Silver", "Rustic", "Urban",
              "Sunny", "Red", "Quiet", "Happy", "Tall", "North", "South", "Old", "Fresh", "Bright",
              "Velvet", "Salt", "Iron", "Maple", "Cedar", "Prairie"]
NOUNS = ["Heron", "Fern", "Spoon", "Radish", "Sprout", "Table", "Kettle", "Orchard", "Sparrow",
         "Lantern", "Thistle", "Acorn", "Basil", "Pepper", "Willow", "Harbor", "Garden", "Fox",
         "Clover", "Barrel", "Meadow", "Pine", "Oak", "Juniper", "Sage"]
SUFFIXES = {"restaurant": ["Bistro", "Kitchen", "Cafe", "Tavern", "Eatery", "Diner"],
            "grocer": ["Market", "Grocery", "Pantry", "Co-op"],
            "caterer": ["Catering", "Events"], "wholesale": ["Wholesale", "Distributors"],
            "market": ["Stall", "Stand"], "csa_member": [""], "individual": [""]}


def bulk(count: int, rng: random.Random, echo=print, batch: int = 5000) -> int:
    """Insert `count` synthetic customers with a contact, email, phone and address each. Commits."""
    started = time.monotonic()
    now = utcnow()
    owner_ids = db.session.scalars(select(StaffUser.id)).all() or [None]
    kinds = list(SUFFIXES)
    next_ids = {
        model: (db.session.scalar(select(func.max(model.id))) or 0) + 1
        for model in (Customer, Contact, ContactEmail, ContactPhone, Address)
    }
    done = 0
    while done < count:
        size = min(batch, count - done)
        rows = {key: [] for key in ("customer", "token", "contact", "email", "phone", "link", "address")}
        for i in range(size):
            cid, pid = next_ids[Customer] + done + i, next_ids[Contact] + done + i
            kind = rng.choice(kinds)
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            if kind in ("csa_member", "individual"):
                name = f"{first} {last}"
            else:
                name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(SUFFIXES[kind])}"
            rows["customer"].append({
                "id": cid, "name": name, "kind": kind,
                "status": rng.choice(("active", "active", "active", "lead", "paused", "churned")),
                "owner_id": rng.choice(owner_ids), "pricing_tier": "standard",
                "created_at": now, "updated_at": now, "version": 1,
            })
            rows["token"].extend({"entity_type": "customer", "entity_id": cid, "token": t}
                                 for t in name_tokens(name))
            rows["contact"].append({"id": pid, "first_name": first, "last_name": last,
                                    "created_at": now, "version": 1})
            people = name_tokens(first) | name_tokens(last)
            rows["token"].extend({"entity_type": "contact", "entity_id": pid, "token": t}
                                 for t in people)
            rows["token"].extend({"entity_type": "customer_people", "entity_id": cid,
                                  "token": t} for t in people)
            email = f"{first.lower()}.{last.lower()}.{cid}@example.net"
            phone = f"+1773{rng.randint(2000000, 9999999)}"
            rows["email"].append({"id": next_ids[ContactEmail] + done + i, "contact_id": pid,
                                  "email": email, "email_bidx": email_index(email),
                                  "is_primary": True, "opted_out": False, "invalid": False})
            rows["phone"].append({"id": next_ids[ContactPhone] + done + i, "contact_id": pid,
                                  "phone": phone, "phone_bidx": phone_index(phone),
                                  "is_primary": True, "opted_out": False, "invalid": False})
            rows["link"].append({"customer_id": cid, "contact_id": pid, "role": "primary"})
            rows["address"].append({"id": next_ids[Address] + done + i, "customer_id": cid,
                                    "kind": "delivery", **address(rng, instructions=False)})
        for model, key in ((Customer, "customer"), (SearchToken, "token"), (Contact, "contact"),
                           (ContactEmail, "email"), (ContactPhone, "phone"),
                           (CustomerContact, "link"), (Address, "address")):
            db.session.execute(insert(model.__table__), rows[key])
        db.session.commit()
        done += size
        echo(f"{done}/{count} customers ({time.monotonic() - started:.0f} s)")
    if db.engine.dialect.name == "postgresql":
        _reset_sequences()
    _analyze()
    return done


def bulk_interactions(customer_id: int, count: int, rng: random.Random, echo=print,
                      batch: int = 5000) -> int:
    """Give one existing customer `count` synthetic interactions, one every few hours back from
    now, logged by staff who may log them. Encrypted like real ones (the model's column types
    encrypt on insert). For benchmarks: a long timeline. Commits."""
    contact_id = db.session.scalar(
        select(CustomerContact.contact_id).where(CustomerContact.customer_id == customer_id)
        .order_by(CustomerContact.contact_id).limit(1)
    )
    staff_ids = db.session.scalars(select(StaffUser.id).where(
        StaffUser.role.in_(PERMISSIONS["communications.log"]))).all() or [None]
    when = utcnow()

    def row():
        nonlocal when
        when -= timedelta(minutes=rng.randint(30, 360))
        channel, direction, subject, body, outcome = rng.choice(INTERACTIONS)
        return {
            "customer_id": customer_id, "contact_id": contact_id, "channel": channel,
            "direction": direction, "subject": subject, "body": body, "outcome": outcome,
            "occurred_at": when, "created_at": when, "visibility": "internal",
            "duration_minutes": rng.randint(2, 20) if channel == "call" else None,
            **_logged_by(rng.choice(staff_ids)), "version": 1,
        }

    return _insert_in_batches(Interaction, count, row, "interactions", echo, batch)


def _logged_by(staff_id):
    return {"logged_by_kind": "staff" if staff_id else "system", "logged_by_id": staff_id}


def _insert_in_batches(model, count: int, row, what: str, echo, batch: int) -> int:
    """Insert `count` rows, each made by row(), `batch` at a time with a commit after each,
    saying how far it got; then fresh statistics for the table. Returns the count."""
    started = time.monotonic()
    done = 0
    while done < count:
        rows = [row() for _ in range(min(batch, count - done))]
        db.session.execute(insert(model), rows)
        db.session.commit()
        done += len(rows)
        echo(f"{done}/{count} {what} ({time.monotonic() - started:.0f} s)")
    _analyze(model.__tablename__)
    return done


def _analyze(table: str = ""):
    """Fresh planner statistics: without them a bulk-filled database picks slow plans."""
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}".strip())
    else:
        db.session.execute(db.text(f"ANALYZE {table}".strip()))
        db.session.commit()


def _reset_sequences():
    """Explicit ids leave PostgreSQL sequences behind; move them past the new rows."""
    for model in (Customer, Contact, ContactEmail, ContactPhone, Address):
        table = model.__tablename__
        db.session.execute(db.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
        ))
    db.session.commit()


STOP_ROUTES = ("North", "South", "East", "West", "Lakefront")
HANDLING = ["Keep cold; kitchen door only", "Fragile trays: stack no more than two high",
            "Leave in the walk-in, top shelf; never on the floor",
            "Allergen kitchen: keep away from the nut delivery", "Ring twice, then wait"]
LABELS = ["Harvest date on every clamshell", "Lot number on each case", "Label in Spanish too"]
SIZE_PACKAGING = {"2 oz": "2 oz clamshell", "4 oz": "4 oz clamshell", "1 lb": "1 lb bulk bag",
                  "10x20 tray": "Living tray"}


def bulk_stops(count: int, day, rng: random.Random, from_customer: int = 1,
               routes: int = len(STOP_ROUTES)) -> list[int]:
    """Give `count` active customers with no delivery plan yet (lowest ids from
    `from_customer`) a weekly or biweekly plan that delivers on `day`, spread over `routes`
    routes (made when missing) with stop orders after the existing ones; 1-4 standing items
    each (the first allowing substitutes), a like and a dislike, a window for most, labelling
    and special handling for some. Through the ORM, so encrypted columns are encrypted. For
    benchmarks: a big delivery sheet. Returns the customers' ids; commits."""
    seed_catalogue()
    ids = db.session.scalars(
        select(Customer.id).where(
            Customer.id >= from_customer, Customer.status == "active",
            Customer.archived_at.is_(None),
            ~select(DeliveryPlan.customer_id).where(DeliveryPlan.customer_id == Customer.id)
            .exists())
        .order_by(Customer.id).limit(count)).all()
    if len(ids) < count:  # all or nothing
        return ids
    products = [p for p in db.session.scalars(select(Product).order_by(Product.id))
                if p.retired_at is None]
    packaging = {p.name: p for p in db.session.scalars(select(Packaging))}
    chosen_routes = []
    for name in STOP_ROUTES[:routes] or STOP_ROUTES[:1]:
        route = db.session.scalar(select(Route).where(Route.name == name))
        if route is None:
            route = Route(name=name)
            db.session.add(route)
            db.session.flush()
        chosen_routes.append(route)
    last_stop = {route.id: db.session.scalar(select(func.max(DeliveryPlan.stop_order)).where(
        DeliveryPlan.route_id == route.id)) or 0 for route in chosen_routes}
    windows = [(time_of_day(h), time_of_day(h + 3)) for h in (5, 6, 7, 8, 9, 13)] + [None]
    for n, customer_id in enumerate(ids):
        route = chosen_routes[n % len(chosen_routes)]
        last_stop[route.id] += 1
        days = {day.weekday()}
        if n % 3:  # most take a second day in the week
            days.add((day.weekday() + rng.choice((2, 3, 4))) % 7)
        biweekly = n % 6 == 5
        window = rng.choice(windows)
        returnables, compostable = n % 4 == 0, n % 10 == 7
        db.session.add(DeliveryPlan(
            customer_id=customer_id, weekdays=sum(1 << d for d in days), route=route,
            stop_order=last_stop[route.id], frequency="biweekly" if biweekly else "weekly",
            anchor_date=day if biweekly else None,  # so it delivers on `day`
            window_start=window[0] if window else None, window_end=window[1] if window else None,
            returnables=returnables, compostable_only=compostable, call_ahead=n % 5 == 0,
            labelling=rng.choice(LABELS) if n % 8 == 0 else None,
            substitution_policy=rng.choice(["allow", "ask", "ask", "never"]),
            invoice_method=rng.choice(["email", "email", "paper", "portal"]),
            special_handling=rng.choice(HANDLING) if n % 4 == 1 else None,
        ))
        picked = rng.sample(products, rng.randint(1, 4) + 1)
        disliked, items = picked[0], picked[1:]
        for i, product in enumerate(items):
            size = rng.choice(product.size_list)
            pack = ("Returnable crate" if returnables else "Compostable container"
                    if compostable else SIZE_PACKAGING.get(size, "Living tray"))
            allowed = i == 0 or rng.random() < 0.4
            others = [p for p in products if p not in picked]
            db.session.add(StandingItem(
                customer_id=customer_id, product=product, size=size,
                quantity=rng.randint(1, 12), packaging=packaging[pack],
                substitutions_allowed=allowed,
                substitutes=rng.sample(others, rng.randint(1, 2)) if allowed else []))
        db.session.add(ProductPreference(customer_id=customer_id, product_id=items[0].id,
                                         kind="like"))
        db.session.add(ProductPreference(customer_id=customer_id, product_id=disliked.id,
                                         kind="dislike"))
        if n % 250 == 249:
            db.session.flush()
    db.session.commit()
    for table in ("delivery_plan", "standing_item", "standing_item_substitute",
                  "product_preference"):
        _analyze(table)
    return ids


def bulk_preference_history(customer_id: int, count: int, rng: random.Random, echo=print,
                            batch: int = 5000) -> int:
    """Give one existing customer `count` synthetic preference changes, one every few hours back
    from now, by staff or the portal, with believable old and new values (encrypted like real
    ones: the model's column types encrypt on insert). For benchmarks: a long history. Commits."""
    staff_ids = db.session.scalars(select(StaffUser.id).where(
        StaffUser.role.in_(("admin", "manager", "sales")))).all() or [None]

    def day_set():
        return ", ".join(d for d in WEEKDAYS if rng.random() < 0.3) or "Tue"

    values = {
        "weekdays": day_set,
        "window_start": lambda: f"{rng.randint(5, 10):02d}:00",
        "window_end": lambda: f"{rng.randint(11, 16):02d}:00",
        "stop_order": lambda: str(rng.randint(1, 120)),
        "substitution_policy": lambda: rng.choice(["allow", "ask", "never"]),
        "invoice_method": lambda: rng.choice(["email", "paper", "portal"]),
        "call_ahead": lambda: rng.choice(["yes", "no"]),
        "special_handling": lambda: rng.choice(HANDLING),
        "labelling": lambda: rng.choice(LABELS),
        "standing item": lambda: (f"{rng.randint(1, 12)} × "
                                  f"{rng.choice(['Pea shoots', 'Radish', 'Basil', 'Kale'])} 4 oz, "
                                  "4 oz clamshell"),
        "likes": lambda: rng.choice(["Sunflower", "Pea shoots, Basil", "Spicy mix"]),
    }
    fields = list(values)
    when = utcnow()

    def row():
        nonlocal when
        when -= timedelta(minutes=rng.randint(60, 3000))
        field = rng.choice(fields)
        old, new = values[field](), values[field]()
        if field == "standing item":  # added or removed
            old, new = (None, new) if rng.random() < 0.6 else (old, None)
        portal = rng.random() < 0.1
        return {
            "customer_id": customer_id, "changed_at": when, "field": field, "old": old,
            "new": new,  # portal users come with the portal: synthetic ids until then
            **({"actor_kind": "portal", "actor_id": rng.randint(1, 1000)} if portal
               else {"actor_kind": "staff", "actor_id": rng.choice(staff_ids)}),
        }

    return _insert_in_batches(PreferenceChange, count, row, "preference changes", echo, batch)
