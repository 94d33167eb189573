"""Write a CSV of customers with their contacts for timing the import.

    python bench/import_file.py OUT.csv --rows 10000 --duplicates 0.1

The file has the import's columns (customer_name, customer_kind, first_name, last_name, email,
phone, role, street, city, region, postal_code, country, notes), one to three people per
customer, some people without a phone or an email, and customer names that exist nowhere else
(each carries a number), so only the planted duplicates match anything.

`--duplicates` is the fraction of rows that are duplicates. Half of them are contacts already in
the database DATABASE_URL points at (read through the app, so run it with the same
CRM_INSTANCE_DIR / keys as the app, after `flask demo seed` or `flask demo bulk`): the same
customer, person and email, so the import matches them by the email blind index and its
customer by name. The other half repeat a person of an earlier row of the file (same customer,
same email). With `--no-database`, or when the database has too few contacts, all duplicates
are repeats within the file.

Timing, e.g. on a fresh SQLite database with 100,000 bulk customers:

    export FLASK_APP=wsgi CRM_INSTANCE_DIR=/tmp/imp DATABASE_URL=sqlite:////tmp/imp/b.sqlite3
    flask db upgrade && flask demo seed && flask demo bulk --customers 100000
    python bench/import_file.py /tmp/imp/10k.csv --rows 10000 --duplicates 0.1
    time flask contacts import /tmp/imp/10k.csv      # skip duplicates; prints its own timing

The file's size is printed; values are synthetic (example.org addresses, 872 numbers).
"""
import argparse
import csv
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

COLUMNS = ("customer_name", "customer_kind", "first_name", "last_name", "email", "phone", "role",
           "street", "city", "region", "postal_code", "country", "notes")
KINDS = ["restaurant", "restaurant", "restaurant", "grocer", "caterer", "csa_member", "market",
         "wholesale", "individual"]
ADJECTIVES = ["Golden", "Wild", "Little", "Copper", "Green", "Quiet", "Rustic", "Urban", "Blue",
              "Hidden", "Northern", "Sunny", "Silver", "Honest", "Crooked", "Humble"]
NOUNS = ["Sprout", "Fern", "Table", "Kettle", "Spoon", "Harvest", "Orchard", "Garden", "Larder",
         "Pantry", "Market", "Hearth", "Radish", "Basil", "Willow", "Thistle"]
SUFFIXES = {"restaurant": "Kitchen", "grocer": "Grocery", "caterer": "Catering",
            "csa_member": "Household", "market": "Stall", "wholesale": "Distributors",
            "individual": "Household"}
FIRST = ["Alex", "Jordan", "Taylor", "Casey", "Riley", "Jamie", "Quinn", "Rowan", "Emeka", "Mei",
         "Luca", "Ana", "Tariq", "Ingrid", "Mateo", "Zoe", "Hiro", "Leila", "Ivan", "Amara",
         "Félix", "Nora", "Omar", "Tess", "Zoë", "José"]
LAST = ["Nguyen", "García", "Smith", "Kim", "Novak", "Silva", "Johnson", "Abara", "Fischer",
        "Moreau", "Sato", "Walsh", "Ortiz", "Haas", "Reyes", "Bianchi", "Ahmed", "Larsen"]
STREETS = ["N Milwaukee Ave", "W Armitage Ave", "N Clark St", "S Halsted St", "W Fullerton Ave",
           "N Damen Ave", "W Division St", "N Lincoln Ave", "E 53rd St", "N Broadway"]
PLACES = [("Chicago", "IL", "60614"), ("Chicago", "IL", "60622"), ("Chicago", "IL", "60647"),
          ("Evanston", "IL", "60201"), ("Oak Park", "IL", "60302")]
ROLES = ["", "", "ordering", "kitchen", "billing", "receiving"]


def existing_people(count: int) -> list[dict]:
    """Up to `count` rows describing contacts already in the database (decrypted by the app)."""
    from sqlalchemy import func, select

    from crm import create_app
    from crm.contacts.models import Contact, ContactEmail, CustomerContact
    from crm.customers.models import Customer
    from crm.extensions import db

    app = create_app()
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(ContactEmail)) or 0
        if not total:
            return []
        rng = random.Random(7)
        ids = sorted(rng.sample(range(1, db.session.scalar(select(func.max(ContactEmail.id))) + 1),
                                min(count * 2, total)))
        query = (select(Customer.name, Customer.kind, Contact.first_name, Contact.last_name,
                        ContactEmail.email)
                 .join(CustomerContact, CustomerContact.customer_id == Customer.id)
                 .join(Contact, Contact.id == CustomerContact.contact_id)
                 .join(ContactEmail, ContactEmail.contact_id == Contact.id)
                 .where(ContactEmail.id.in_(ids), Customer.archived_at.is_(None)))
        found = [{"customer_name": name, "customer_kind": kind, "first_name": first,
                  "last_name": last or "", "email": email}
                 for name, kind, first, last, email in db.session.execute(query)]
        db.session.remove()
    rng.shuffle(found)
    return found[:count]


def generate(rows: int, duplicates: float, use_database: bool, rng: random.Random):
    planted = int(rows * duplicates)
    from_db = existing_people(planted - planted // 2) if use_database and planted else []
    repeats = planted - len(from_db)
    fresh = rows - planted
    out, n = [], 0
    while len(out) < fresh:
        n += 1
        kind = rng.choice(KINDS)
        city, region, postal = rng.choice(PLACES)
        customer = {
            "customer_name": f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {SUFFIXES[kind]} {n}",
            "customer_kind": kind, "street": f"{rng.randint(100, 4999)} {rng.choice(STREETS)}",
            "city": city, "region": region, "postal_code": postal, "country": "US",
            "notes": rng.choice(["", "", "Prefers Tuesday deliveries.", "Pays by check."]),
        }
        names = set()
        for person in range(rng.choice((1, 1, 1, 2, 2, 3))):
            if len(out) >= fresh:
                break
            first, last = rng.choice(FIRST), rng.choice(LAST)
            if (first, last) in names:  # two people of one customer never share a name
                continue
            names.add((first, last))
            out.append({**customer, "first_name": first, "last_name": last,
                        "email": f"{first.lower()}.{n}.{person}@import.example.org"
                        if rng.random() > 0.05 else "",
                        "phone": f"+1872{2000000 + len(out) * 7 + person:07d}"
                        if rng.random() > 0.2 else "",
                        "role": "primary" if person == 0 else rng.choice(ROLES)})
    with_email = [r for r in out if r["email"]]
    extra = [dict(rng.choice(with_email)) for _ in range(repeats)]
    extra += [{**r, "customer_kind": "", "phone": "", "role": "", "street": "", "city": "", "region": "",
               "postal_code": "", "country": "", "notes": ""} for r in from_db]
    for row in extra:  # anywhere after the row they repeat
        out.insert(rng.randint(len(out) // 2, len(out)), row)
    return out, len(from_db), repeats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--duplicates", type=float, default=0.1,
                        help="fraction of rows that are duplicates (0-1)")
    parser.add_argument("--no-database", action="store_true",
                        help="all duplicates within the file; do not read the database")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    rows, from_db, repeats = generate(args.rows, args.duplicates, not args.no_database,
                                      random.Random(args.seed))
    with args.out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"{args.out}: {len(rows):,} rows, {args.out.stat().st_size / 2**20:.1f} MB; "
          f"duplicates: {from_db:,} of contacts in the database, {repeats:,} within the file")


if __name__ == "__main__":
    main()
