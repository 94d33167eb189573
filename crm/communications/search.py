"""The header search's Tickets group (declared as a crm.features.Finder in
crm.communications): a ticket by its number, as staff read it off an email ("T-00004")."""
import re

from flask import url_for

from crm.common import parse_id
from crm.communications.services import get_ticket
from crm.features import Hit

TICKET_RE = re.compile(r"^(?:t|ticket)\s*[-#]?\s*0*([0-9]{1,9})$", re.IGNORECASE)


def ticket_hits(q: str, *, user, limit: int = 5) -> list[Hit]:
    """The ticket whose number was typed ("T-00004", "t4", "ticket 4"), if any: one query."""
    match = TICKET_RE.match(q.strip())
    ticket_id = parse_id(match[1]) if match else None
    ticket = get_ticket(ticket_id) if ticket_id else None
    if ticket is None:
        return []
    return [Hit(f"{ticket.number} {ticket.subject}",
                url_for("communications.ticket", ticket_id=ticket.id),
                f"{ticket.status_label} · {ticket.customer.name}")]
