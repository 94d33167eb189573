"""The demo farm's habits: the starting catalogue, delivery plans on three routes so every
weekday but Sunday has stops (active customers only, and a restaurant group's locations, not
the group), standing items, likes and dislikes, a few pauses (some running now), and each
contact's channels and consent."""
from datetime import time as time_of_day
from datetime import timedelta

from sqlalchemy import select

from crm.catalogue.models import Packaging, Product, Route
from crm.catalogue.services import seed_catalogue
from crm.common import farm_today, utcnow
from crm.extensions import db
from crm.preferences.models import (
    ContactPreference,
    DeliveryPause,
    DeliveryPlan,
    ProductPreference,
    StandingItem,
)

WINDOWS = [(time_of_day(h), time_of_day(h + 3)) for h in (6, 7, 8, 13)] + [None]


def seed(farm):
    seed_catalogue()
    products = db.session.scalars(select(Product).order_by(Product.id)).all()[:12]
    packaging = {p.name: p for p in db.session.scalars(select(Packaging))}
    routes = [Route(name=name) for name in ("North", "South", "East")]
    db.session.add_all(routes)
    today = farm_today()
    stops = {route.name: 0 for route in routes}
    # Deliveries go to active customers, and to a group's locations rather than the group.
    active = [customer for customer in farm.customers
              if customer.status == "active" and not customer.locations]
    for n, customer in enumerate(active):
        route = routes[n % 3]
        stops[route.name] += 1
        _plan(farm.rng, customer, n, route, stops[route.name], today)
        _items_and_likes(farm.rng, customer, n, products, packaging)
        _pause(farm.rng, customer, n, today)
        _channels(farm.rng, customer, n)


def _plan(rng, customer, n, route, stop_order, today):
    """The n-th active customer's plan: each route's customers take turns through Monday to
    Saturday, most twice a week; CSA members pick up every other week."""
    turn = n // 3
    days = {turn % 6, (turn + 3) % 6} if n % 4 else {turn % 6}
    window = rng.choice(WINDOWS)
    biweekly = customer.kind == "csa_member"
    db.session.add(DeliveryPlan(
        customer_id=customer.id, weekdays=sum(1 << d for d in days), route=route,
        stop_order=stop_order, frequency="biweekly" if biweekly else "weekly",
        anchor_date=today if biweekly else None,
        window_start=window[0] if window else None, window_end=window[1] if window else None,
        returnables=n % 3 == 0, compostable_only=n % 5 == 0, call_ahead=n % 4 == 0,
        labelling="Harvest date on every clamshell" if n % 6 == 0 else None,
        substitution_policy=rng.choice(["allow", "ask", "ask", "never"]),
        invoice_method=rng.choice(["email", "email", "paper", "portal"]),
        special_handling="Keep cold; kitchen door only" if n % 7 == 0 else None,
    ))


def _items_and_likes(rng, customer, n, products, packaging):
    """One to three standing items, a like among them and a dislike that is not."""
    chosen = rng.sample(products, rng.randint(1, 3))
    others = [p for p in products if p not in chosen]
    for product in chosen:
        size = rng.choice(product.size_list[:2])
        pack = "Returnable crate" if n % 3 == 0 else f"{size} clamshell"
        allowed = rng.random() < 0.5
        db.session.add(StandingItem(
            customer_id=customer.id, product=product, size=size,
            quantity=rng.randint(1, 8), packaging=packaging[pack],
            substitutions_allowed=allowed,
            substitutes=rng.sample(others[:-1], 2) if allowed else []))
    db.session.add(ProductPreference(customer_id=customer.id, product_id=chosen[0].id,
                                     kind="like"))
    db.session.add(ProductPreference(customer_id=customer.id, product_id=rng.choice(others).id,
                                     kind="dislike"))


def _pause(rng, customer, n, today):
    if n % 8 == 3:  # away now, back in a week or two
        db.session.add(DeliveryPause(customer_id=customer.id, starts_on=today,
                                     ends_on=today + timedelta(days=rng.randint(6, 14)),
                                     reason="Closed for renovation"))
    elif n % 8 == 6:
        db.session.add(DeliveryPause(customer_id=customer.id,
                                     starts_on=today + timedelta(days=20),
                                     ends_on=today + timedelta(days=34),
                                     reason="Holiday closure"))


def _channels(rng, customer, n):
    for link in customer.contact_links:
        consent = rng.random() < 0.6
        db.session.merge(ContactPreference(
            contact_id=link.contact_id, channels="email,sms" if n % 2 else "email,phone",
            preferred="sms" if n % 2 else "email", marketing_consent=consent,
            consent_at=utcnow() if consent else None,
            consent_source="staff" if consent else None))
