"""The Overview's credit card: how the account stands (crm.credit.services.credit_status),
in words for everyone who may see credit, with the amounts for those who may see money."""
from flask_login import current_user

from crm.credit.services import credit_status
from crm.security.permissions import can


def credit_card(customer):
    if not can(current_user, "credit.view"):
        return None
    status = credit_status(customer)
    amounts = can(current_user, "credit.amounts")
    return {"credit_outcome": status.outcome, "credit_label": status.label,
            "credit_reasons": [r.text(amounts) for r in status.reasons]}
