"""The demo farm's customers: a restaurant group with its locations, restaurants, grocers,
caterers, wholesalers, market stalls and people-named accounts, each with a primary contact and
a delivery address, owned by the managers and sales staff (contacts' step: customers come
with their people).

The group account agrees with its locations: it is active while any location is (else it
takes the liveliest of their statuses), and its address is a billing address, for deliveries
go to the locations. Later steps keep their parts consistent with each status (no delivery
plan unless active, no open follow-up or ticket on a churned account)."""
from crm.common import SYSTEM
from crm.contacts.services import new_customer
from crm.customers.services import add_address, update_customer
from crm.extensions import db

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


STATUSES = ["active"] * 6 + ["lead", "paused", "churned"]
LIVELIEST = ("active", "paused", "lead", "churned")  # a group takes the first its locations have
TIERS = {"restaurant": "restaurant", "caterer": "restaurant", "wholesale": "wholesale",
         "grocer": "wholesale"}


def seed(farm):
    group = _add(farm, *GROUP, billing=True)
    locations = [_add(farm, location, "restaurant", parent=group) for location in GROUP_LOCATIONS]
    status = next(s for s in LIVELIEST if any(place.status == s for place in locations))
    if group.status != status:
        update_customer(group, {"status": status}, expected_version=group.version, actor=SYSTEM)
    for name, kind in CUSTOMERS:
        _add(farm, name, kind)
    for name, kind in PEOPLE_ACCOUNTS:
        first, _, last = name.partition(" ")
        _add(farm, name, kind, contact_name=(first, last))
    db.session.flush()


def _add(farm, name, kind, contact_name=None, parent=None, billing=False):
    """A customer with its primary contact and an address (a billing one for a group), drawing
    from the farm's one random sequence in the same order whatever it becomes."""
    rng = farm.rng
    first, last = contact_name or (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:18] or "customer"
    number = len(farm.customers)  # keeps the demo emails unique
    customer = new_customer(
        {"name": name, "kind": kind, "status": rng.choice(STATUSES),
         "pricing_tier": TIERS.get(kind, "standard"), "owner_id": rng.choice(farm.owners).id,
         "parent_id": parent.id if parent else None, "notes": rng.choice(NOTES)},
        contact={"first_name": first, "last_name": last,
                 "email": f"{first.lower()}.{slug}{number}@example.com".replace("'", ""),
                 "phone": f"+1312555{rng.randint(0, 9999):04d}"},
        address=None if billing else address(rng),
        actor=SYSTEM,
    )
    if billing:
        add_address(customer, {**address(rng), "kind": "billing", "delivery_instructions": None},
                    actor=SYSTEM)
    farm.customers.append(customer)
    return customer
