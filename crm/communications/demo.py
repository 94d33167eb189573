"""The demo farm's conversations: a few weeks of calls, emails and visits on most customers;
some calls carry a follow-up (a few overdue), and a few customers have support tickets.

What is said fits each customer's status: leads talk about samples and a first order, not
deliveries; a churned customer's conversations are from before it stopped buying, with no open
follow-up; tickets are opened by active customers."""
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

# What a lead (no orders, no deliveries yet) says instead of each of the above, in the same
# order, so the demo draws the same random numbers whatever the customers' statuses.
LEAD_INTERACTIONS = [
    ("call", "outbound", "First order", "Talked through the sample box; chef wants prices for "
     "sunflower and pea shoots by the case.", "Prices to send"),
    ("email", "inbound", "About the samples", "Chef liked the samples but finds the daikon "
     "radish too hot for the crudo; asked about mild purple radish.", "Will bring purple radish"),
    INTERACTIONS[2],  # the tasting visit
    ("note", "internal", None, "Would want invoices by email once they start.", None),
    ("call", "inbound", "Delivery days", "Asked whether we deliver on Friday mornings before "
     "their lunch service.", "Friday route suits them"),
    ("sms", "outbound", None, "Reminder: tasting on Thursday at 10 with the new microgreens.",
     None),
]
CHURNED_BACK = timedelta(days=75)  # a churned customer's conversations: before it left

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
            said = rng.randrange(len(INTERACTIONS))
            channel, direction, subject, body, outcome = (
                LEAD_INTERACTIONS if customer.status == "lead" else INTERACTIONS)[said]
            when = now - timedelta(days=rng.randint(0, 40), hours=rng.randint(0, 9))
            follow_up = channel == "call" and rng.random() < 0.5
            if customer.status == "churned":
                when, follow_up = when - CHURNED_BACK, False
            log_interaction(customer, {
                "channel": channel, "direction": direction, "contact_id": _contact(customer),
                "subject": subject, "body": body, "outcome": outcome, "visibility": "internal",
                "occurred_at": when,
                "duration_minutes": rng.randint(2, 20) if channel == "call" else None,
                "follow_up_due": (when.astimezone(farm_zone()).date()
                                  + timedelta(days=rng.randint(1, 14)))
                if follow_up else None,
            }, actor=rng.choice(farm.owners).actor)
    active = [customer for customer in farm.customers if customer.status == "active"]
    for customer, ticket in zip(active[1::7], TICKETS):
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
