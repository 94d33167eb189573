"""The import page's two downloads: a template (the import's own columns and one example row)
and a sample file to try it with (a restaurant with two people, a person buying for two
places, a grocer, a CSA member without an organisation, a market stall). Both are CSV in
UTF-8 with a byte-order mark, so spreadsheets open them as UTF-8, and every cell goes through
safe_cell as exports do."""
import csv
import io

from crm.contacts.importing.columns import COLUMNS, safe_cell

EXAMPLE = {
    "customer_name": "Little Fern Kitchen", "customer_kind": "restaurant",
    "first_name": "Marguerite", "last_name": "O'Neil", "email": "marguerite@littlefern.example",
    "phone": "(312) 555-0142", "role": "kitchen", "street": "1820 N Milwaukee Ave",
    "city": "Chicago", "region": "IL", "postal_code": "60647", "country": "US",
    "notes": "Chef; prefers 4 oz clamshells",
}

SAMPLE = [
    EXAMPLE,
    {**EXAMPLE, "first_name": "Tomás", "last_name": "Ruiz", "email": "orders@littlefern.example",
     "phone": "312-555-0143", "role": "ordering", "notes": ""},
    {"customer_name": "Juniper & Rye", "customer_kind": "restaurant", "first_name": "Tomás",
     "last_name": "Ruiz", "email": "orders@littlefern.example", "phone": "312-555-0143",
     "role": "ordering", "street": "2211 W Division St", "city": "Chicago", "region": "IL",
     "postal_code": "60622", "country": "US", "notes": "Same buyer as Little Fern"},
    {"customer_name": "Pilsen Corner Grocery", "customer_kind": "grocer", "first_name": "Ana",
     "last_name": "Silva", "email": "ana@pilsencorner.example", "phone": "(773) 555-0190",
     "role": "receiving", "street": "1750 W 18th St", "city": "Chicago", "region": "illinois",
     "postal_code": "60608", "country": "US", "notes": "Loading dock at the back"},
    {"customer_name": "", "customer_kind": "csa_member", "first_name": "Hannah",
     "last_name": "Becker", "email": "hannah.becker@example.com", "phone": "773.555.0123",
     "role": "", "street": "5420 S Kimbark Ave", "city": "Chicago", "region": "IL",
     "postal_code": "60615", "country": "US", "notes": "Every other Saturday pick-up"},
    {"customer_name": "Oak Park Saturday Market stall", "customer_kind": "market",
     "first_name": "Kwame", "last_name": "Mensah", "email": "", "phone": "708 555 0177",
     "role": "primary", "street": "460 Lake St", "city": "Oak Park", "region": "IL",
     "postal_code": "60302", "country": "US", "notes": ""},
]


def _csv(rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([safe_cell(row.get(column, "")) for column in COLUMNS])
    return "\ufeff" + out.getvalue()


def template_csv() -> str:
    """The import's columns as its header, and one example row."""
    return _csv([EXAMPLE])


def sample_csv() -> str:
    """A small file that imports cleanly, showing what the import takes."""
    return _csv(SAMPLE)
