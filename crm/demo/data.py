"""Believable demo data for a microgreens farm around Chicago."""

STAFF = [
    ("admin@example.com", "Avery Admin", "admin"),
    ("manager@example.com", "Morgan Fields", "manager"),
    ("sales@example.com", "Sam Sprout", "sales"),
    ("finance@example.com", "Frankie Ledger", "finance"),
    ("delivery@example.com", "Dana Route", "delivery"),
    ("viewer@example.com", "Vic Viewer", "viewer"),
]
DEMO_PASSWORD = "microgreens"

# The restaurant group and its three locations.
GROUP = ("Blue Heron Hospitality", "restaurant")
GROUP_LOCATIONS = ["Blue Heron Bistro — Logan Square", "Blue Heron Bistro — Andersonville",
                   "Blue Heron Bistro — Hyde Park"]

CUSTOMERS = [
    ("Little Fern Kitchen", "restaurant"), ("Osteria Verde", "restaurant"),
    ("The Copper Spoon", "restaurant"), ("Saffron & Sumac", "restaurant"),
    ("Marrow Supper Club", "restaurant"), ("Kinship Noodle Bar", "restaurant"),
    ("Harvest Table", "restaurant"), ("Pistil Vegetarian", "restaurant"),
    ("Tidewater Oyster House", "restaurant"), ("Juniper & Rye", "restaurant"),
    ("Green Grocer Collective", "grocer"), ("Wicker Park Market", "grocer"),
    ("Sunrise Natural Foods", "grocer"), ("Pilsen Corner Grocery", "grocer"),
    ("Lakeview Co-op", "grocer"), ("Evanston Whole Pantry", "grocer"),
    ("Garnish & Graze Catering", "caterer"), ("Plated Events Co.", "caterer"),
    ("Lantern Wedding Catering", "caterer"), ("Bento Box Lunch Co.", "caterer"),
    ("Windy City Produce Wholesale", "wholesale"), ("Midwest Fresh Distributors", "wholesale"),
    ("Prairie Foodservice Supply", "wholesale"),
    ("Logan Square Farmers Market stall", "market"), ("Green City Market regulars", "market"),
    ("Oak Park Saturday Market", "market"),
]
# People-named accounts (CSA members, market regulars, individuals).
PEOPLE_ACCOUNTS = [
    ("Maria Lopez", "csa_member"), ("James Okafor", "csa_member"), ("Priya Raman", "csa_member"),
    ("Hannah Becker", "csa_member"), ("Diego Hernández", "csa_member"),
    ("Aisha Mohammed", "csa_member"), ("Tom Kowalski", "csa_member"),
    ("Grace Liu", "csa_member"), ("Noah Schwartz", "csa_member"), ("Elena Petrova", "csa_member"),
    ("Kwame Mensah", "market"), ("Sofia Rossi", "market"), ("Ben Carter", "market"),
    ("Yuki Tanaka", "market"), ("Olivia Brooks", "individual"), ("Marcus Reed", "individual"),
    ("Fatima Zahra", "individual"), ("Liam O'Brien", "individual"), ("Chloe Dubois", "individual"),
    ("Ravi Patel", "individual"), ("Isabel Cruz", "individual"), ("Owen Price", "individual"),
    ("Nadia Haddad", "csa_member"), ("Peter Lindqvist", "csa_member"),
    ("Rosa Martínez", "market"), ("Samuel Adeyemi", "individual"), ("Lena Vogel", "csa_member"),
    ("Carlos Mendes", "individual"),
]
FIRST_NAMES = ["Alex", "Jordan", "Taylor", "Casey", "Riley", "Jamie", "Quinn", "Rowan", "Emeka",
               "Mei", "Luca", "Ana", "Tariq", "Ingrid", "Mateo", "Zoe", "Hiro", "Leila", "Ivan",
               "Amara", "Felix", "Nora", "Omar", "Tess"]
LAST_NAMES = ["Nguyen", "Garcia", "Smith", "Kim", "Novak", "Silva", "Johnson", "Abara", "Fischer",
              "Moreau", "Sato", "Walsh", "Ortiz", "Haas", "Reyes", "Bianchi", "Ahmed", "Larsen"]
STREETS = ["N Milwaukee Ave", "W Armitage Ave", "N Clark St", "S Halsted St", "W Fullerton Ave",
           "N Damen Ave", "W Division St", "S Michigan Ave", "N Lincoln Ave", "W Chicago Ave",
           "E 53rd St", "N Broadway", "W 18th St", "N Southport Ave", "Chicago Ave"]
CITIES = [("Chicago", "IL", "60614"), ("Chicago", "IL", "60622"), ("Chicago", "IL", "60647"),
          ("Chicago", "IL", "60640"), ("Chicago", "IL", "60615"), ("Chicago", "IL", "60608"),
          ("Evanston", "IL", "60201"), ("Oak Park", "IL", "60302")]
INSTRUCTIONS = [
    "Back door off the alley; ring the kitchen bell.",
    "Leave with the host stand before 10 am; walk-in is on the left.",
    "Loading dock 3, ask for receiving. No deliveries during lunch rush.",
    "Porch cooler by the side gate; text when dropped.",
    "Front desk signs; crates go back on the next run.",
    None,
]


def address(rng, instructions=True) -> dict:
    """A delivery address somewhere in the farm's cities (for create_customer or a bulk row)."""
    city, region, postal = rng.choice(CITIES)
    return {
        "street": f"{rng.randint(100, 4999)} {rng.choice(STREETS)}",
        "street2": None,
        "city": city,
        "region": region,
        "postal_code": postal,
        "country": "US",
        "delivery_instructions": rng.choice(INSTRUCTIONS) if instructions else None,
    }


NOTES = [
    "Chef prefers 4 oz clamshells; asks about new varieties every spring.",
    "Pays on time. Interested in a weekly standing order.",
    "Met at the Green City Market tasting. Loves sunflower shoots.",
    None,
]

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
