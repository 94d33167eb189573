"""The demo farm's conversations: a few weeks of calls, emails and visits on most customers;
some calls carry a follow-up (a few overdue), and a few customers have support tickets."""
from datetime import timedelta

from crm.common import farm_zone, utcnow
from crm.communications.services import log_interaction

# (channel, direction, subject, body, outcome) for the demo timelines.
INTERACTIONS = [
    ("call", "outbound", "Weekly order", "Confirmed the Tuesday order: 4 oz sunflower x6, pea shoots x4.",
     "Order confirmed"),
    ("email", "inbound", "Radish too spicy", "Chef finds the daikon radish too hot for the crudo; "
     "asked to swap for mild purple radish.", "Swap agreed"),
    ("visit", "outbound", "Tasting", "Brought samples of amaranth and shiso. Liked the amaranth colour.",
     "Will add amaranth next month"),
    ("note", "internal", None, "Pays on delivery; prefers invoices by email.", None),
    ("call", "inbound", "Short delivery", "Friday crate was one clamshell short of pea shoots.",
     "Credit note promised"),
    ("sms", "outbound", None, "Reminder: no delivery on Thanksgiving, moving to Wednesday.", None),
]

# Support tickets: (subject, the customer's first message, status, [(direction, reply), ...]).
TICKETS = [
    ("Wilted pea shoots", "Two trays of pea shoots arrived wilted on Tuesday; chef sent photos.",
     "open", [("outbound", "Apologised; replacement trays go out with Friday's delivery.")]),
    ("Invoice lists sunflower twice", "The November invoice charges the sunflower shoots twice.",
     "pending", [("outbound", "Checking with the office; credit note if confirmed."),
                 ("internal", "Duplicate line from the route change; waiting for finance.")]),
    ("Crates not collected", "Three returnable crates have been stacked by the back door for a week.",
     "resolved", [("outbound", "Driver collected them on Thursday's route.")]),
]


def seed(farm):
    rng, now = farm.rng, utcnow()
    for customer in farm.customers:
        for _ in range(rng.randint(0, 4)):
            channel, direction, subject, body, outcome = rng.choice(INTERACTIONS)
            when = now - timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 9))
            follow_up = channel == "call" and rng.random() < 0.5
            log_interaction(customer, {
                "channel": channel, "direction": direction, "contact_id": _contact(customer),
                "subject": subject, "body": body, "outcome": outcome, "visibility": "internal",
                "occurred_at": when,
                "duration_minutes": rng.randint(2, 20) if channel == "call" else None,
                "follow_up_due": (when.astimezone(farm_zone()).date()
                                  + timedelta(days=rng.randint(1, 14)))
                if follow_up else None,
            }, actor=rng.choice(farm.owners).actor)
    for customer, ticket in zip(farm.customers[1::7], TICKETS):
        _ticket(farm, customer, *ticket, now=now)


def _ticket(farm, customer, subject, first, status, replies, *, now):
    """A ticket the customer opened a few days ago, its replies three hours apart."""
    actor = farm.rng.choice(farm.owners).actor
    when = now - timedelta(days=farm.rng.randint(2, 6))
    opened = log_interaction(customer, {
        "channel": "ticket", "direction": "inbound", "contact_id": _contact(customer),
        "subject": subject, "body": first, "occurred_at": when, "visibility": "internal",
    }, actor=actor)
    for hours, (direction, text) in enumerate(replies, start=1):
        log_interaction(customer, {
            "channel": "ticket", "direction": direction, "body": text,
            "occurred_at": when + timedelta(hours=3 * hours), "visibility": "internal",
        }, actor=actor, ticket=opened.ticket)
    opened.ticket.status, opened.ticket.assignee_id = status, actor.id
    opened.ticket.resolved_at = now if status == "resolved" else None


def _contact(customer):
    """The customer's first contact's id (the primary one in the demo), or None."""
    return customer.contact_links[0].contact_id if customer.contact_links else None
