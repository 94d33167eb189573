"""The header search's Customers group (declared as a crm.features.Finder in crm.customers):
what the customer list's search finds, the first few, each saying why it matched."""
from flask import url_for

from crm.customers.services import find_customers
from crm.features import Hit


def customer_hits(q: str, *, user, limit: int = 5) -> list[Hit]:
    """Customers by number, name, or what the features find them by (their people's names,
    emails and phones), as the list finds them for this user's role."""
    found = find_customers(q, user=user, per_page=limit)
    hits = []
    for customer in found.customers:
        why = found.why.get(customer.id) or ("close match" if found.close else "")
        detail = [customer.number, customer.status_label, *([why] if why else [])]
        hits.append(Hit(customer.name, url_for("customers.detail", customer_id=customer.id),
                        " · ".join(detail)))
    return hits
