"""The demo farm, made through the real services (`flask demo seed`)."""
import random
from datetime import time as time_of_day
from datetime import timedelta

from sqlalchemy import select

from crm.auth.services import create_user, find_by_email
from crm.common import SYSTEM, farm_today, farm_zone, utcnow
from crm.customers.models import Customer
from crm.customers.services import create_customer
from crm.demo import data
from crm.extensions import db


def _phone(rng):
    return f"+1312555{rng.randint(0, 9999):04d}"


def seed() -> int | None:
    """Create the demo farm once; None when it is already there. Commits."""
    if find_by_email(data.STAFF[0][0]):
        return None
    rng = random.Random(2026)
    staff = [create_user(email, name, role, data.DEMO_PASSWORD, actor=SYSTEM) for email, name, role in data.STAFF]
    owners = [u for u in staff if u.role in ("manager", "sales")]
    statuses = ["active"] * 6 + ["lead", "paused", "churned"]
    tiers = {"restaurant": "restaurant", "caterer": "restaurant", "wholesale": "wholesale",
             "grocer": "wholesale"}
    made = 0

    def add(name, kind, contact_name=None, parent=None):
        nonlocal made
        first, last = contact_name or (rng.choice(data.FIRST_NAMES), rng.choice(data.LAST_NAMES))
        slug = "".join(ch for ch in name.lower() if ch.isalnum())[:18] or "customer"
        customer = create_customer(
            {"name": name, "kind": kind, "status": rng.choice(statuses),
             "pricing_tier": tiers.get(kind, "standard"), "owner_id": rng.choice(owners).id,
             "parent_id": parent.id if parent else None, "notes": rng.choice(data.NOTES)},
            contact={"first_name": first, "last_name": last,
                     "email": f"{first.lower()}.{slug}{made}@example.com".replace("'", ""),
                     "phone": _phone(rng)},
            address=data.address(rng),
            actor=SYSTEM,
        )
        made += 1
        return customer

    group = add(*data.GROUP)
    for location in data.GROUP_LOCATIONS:
        add(location, "restaurant", parent=group)
    for name, kind in data.CUSTOMERS:
        add(name, kind)
    for name, kind in data.PEOPLE_ACCOUNTS:
        first, _, last = name.partition(" ")
        add(name, kind, contact_name=(first, last))
    db.session.flush()
    _seed_interactions(rng, owners)
    _seed_preferences(rng, staff[0].actor)
    db.session.commit()
    return made


def _seed_interactions(rng, owners):
    """A few weeks of calls, emails and visits on most demo customers; some calls carry a
    follow-up (a few overdue), and a few customers have support tickets."""
    from crm.communications.services import log_interaction

    now = utcnow()
    customers = db.session.scalars(select(Customer).order_by(Customer.id)).all()
    for customer in customers:
        contact = customer.contact_links[0].contact_id if customer.contact_links else None
        for _ in range(rng.randint(0, 4)):
            channel, direction, subject, body, outcome = rng.choice(data.INTERACTIONS)
            when = now - timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 9))
            follow_up = channel == "call" and rng.random() < 0.5
            log_interaction(customer, {
                "channel": channel, "direction": direction, "contact_id": contact,
                "subject": subject, "body": body, "outcome": outcome, "visibility": "internal",
                "occurred_at": when,
                "duration_minutes": rng.randint(2, 20) if channel == "call" else None,
                "follow_up_due": (when.astimezone(farm_zone()).date()
                                  + timedelta(days=rng.randint(1, 14)))
                if follow_up else None,
            }, actor=rng.choice(owners).actor)
    for customer, (subject, first, status, replies) in zip(customers[1::7], data.TICKETS):
        contact = customer.contact_links[0].contact_id if customer.contact_links else None
        actor = rng.choice(owners).actor
        when = now - timedelta(days=rng.randint(2, 6))
        opened = log_interaction(customer, {
            "channel": "ticket", "direction": "inbound", "contact_id": contact,
            "subject": subject, "body": first, "occurred_at": when, "visibility": "internal",
        }, actor=actor)
        for hours, (direction, text) in enumerate(replies, start=1):
            log_interaction(customer, {
                "channel": "ticket", "direction": direction, "body": text,
                "occurred_at": when + timedelta(hours=3 * hours), "visibility": "internal",
            }, actor=actor, ticket=opened.ticket)
        opened.ticket.status, opened.ticket.assignee_id = status, actor.id
        opened.ticket.resolved_at = now if status == "resolved" else None


def _seed_preferences(rng, actor):
    """Delivery plans on three routes so every weekday but Sunday has stops, standing items,
    likes and dislikes, a few pauses (some running now), channels and consent."""
    from crm.catalogue.models import Packaging, Product
    from crm.catalogue.services import seed_catalogue
    from crm.delivery.models import Route
    from crm.preferences.models import (
        ContactPreference,
        DeliveryPause,
        DeliveryPlan,
        ProductPreference,
        StandingItem,
    )

    seed_catalogue()
    products = db.session.scalars(select(Product).order_by(Product.id)).all()
    packaging = {p.name: p for p in db.session.scalars(select(Packaging))}
    routes = [Route(name=name) for name in ("North", "South", "East")]
    db.session.add_all(routes)
    today = farm_today()
    windows = [(time_of_day(h), time_of_day(h + 3)) for h in (6, 7, 8, 13)] + [None]
    customers = db.session.scalars(select(Customer).where(Customer.status == "active")
                                   .order_by(Customer.id)).all()
    stops = {route.name: 0 for route in routes}
    for n, customer in enumerate(customers):
        route = routes[n % 3]
        turn = n // 3  # each route's customers take turns through Monday..Saturday
        days = {turn % 6, (turn + 3) % 6} if n % 4 else {turn % 6}
        stops[route.name] += 1
        window = rng.choice(windows)
        biweekly = customer.kind == "csa_member"  # CSA pick-up every other week
        db.session.add(DeliveryPlan(
            customer_id=customer.id, weekdays=sum(1 << d for d in days), route=route,
            stop_order=stops[route.name], frequency="biweekly" if biweekly else "weekly",
            anchor_date=today if biweekly else None,
            window_start=window[0] if window else None, window_end=window[1] if window else None,
            returnables=n % 3 == 0, compostable_only=n % 5 == 0, call_ahead=n % 4 == 0,
            labelling="Harvest date on every clamshell" if n % 6 == 0 else None,
            substitution_policy=rng.choice(["allow", "ask", "ask", "never"]),
            invoice_method=rng.choice(["email", "email", "paper", "portal"]),
            special_handling="Keep cold; kitchen door only" if n % 7 == 0 else None,
        ))
        chosen = rng.sample(products[:12], rng.randint(1, 3))
        for product in chosen:
            size = rng.choice(product.size_list[:2])
            pack = "Returnable crate" if n % 3 == 0 else f"{size} clamshell"
            others = [p for p in products[:12] if p not in chosen]
            allowed = rng.random() < 0.5
            db.session.add(StandingItem(
                customer_id=customer.id, product=product, size=size,
                quantity=rng.randint(1, 8), packaging=packaging[pack],
                substitutions_allowed=allowed,
                substitutes=rng.sample(others[:-1], 2) if allowed else []))
        db.session.add(ProductPreference(customer_id=customer.id, product_id=chosen[0].id,
                                         kind="like"))
        db.session.add(ProductPreference(customer_id=customer.id,
                                         product_id=rng.choice(others).id,
                                         kind="dislike"))  # never among their items
        if n % 8 == 3:  # away now, back in a week or two
            db.session.add(DeliveryPause(customer_id=customer.id, starts_on=today,
                                         ends_on=today + timedelta(days=rng.randint(6, 14)),
                                         reason="Closed for renovation"))
        elif n % 8 == 6:
            db.session.add(DeliveryPause(customer_id=customer.id,
                                         starts_on=today + timedelta(days=20),
                                         ends_on=today + timedelta(days=34),
                                         reason="Holiday closure"))
        for link in customer.contact_links:
            consent = rng.random() < 0.6
            db.session.merge(ContactPreference(
                contact_id=link.contact_id, channels="email,sms" if n % 2 else "email,phone",
                preferred="sms" if n % 2 else "email", marketing_consent=consent,
                consent_at=utcnow() if consent else None,
                consent_source="staff" if consent else None))

