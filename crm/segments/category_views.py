"""The customer page's "Categories" card, and a segment's marketing list (consent respected)
as a summary page and a CSV download."""
from crm.segments.categories import category_of, explain

CATEGORY_LABELS = {"tier": "Value tier", "cadence": "Order cadence", "churn": "Churn risk",
                   "engagement": "Engagement", "rfm": "RFM score"}


def categories_card(customer):
    """The Overview card's context: every staff role that sees the customer sees it (amounts
    only through the `money` filter, for credit.amounts); the portal never renders it."""
    row = category_of(customer.id)
    return {"category": row, "category_labels": CATEGORY_LABELS,
            "category_words": explain(row) if row is not None else {}}
