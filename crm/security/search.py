"""Keeping name-search tokens in step with the names they index, and querying them."""
from sqlalchemy import delete, insert, intersect, select

from crm.extensions import db
from crm.security.blind_index import name_tokens, query_tokens
from crm.security.models import SearchToken


def index_name(entity_type: str, entity_id: int, *names: str):
    """Replace the tokens of one record (caller commits)."""
    db.session.execute(
        delete(SearchToken).where(
            SearchToken.entity_type == entity_type, SearchToken.entity_id == entity_id
        )
    )
    tokens = set().union(*(name_tokens(n) for n in names if n))
    if tokens:
        db.session.execute(
            insert(SearchToken),
            [{"entity_type": entity_type, "entity_id": entity_id, "token": t} for t in tokens],
        )


def matching_ids(entity_type: str, query: str):
    """A subquery of ids whose names match every typed word prefix, or None if nothing to match."""
    tokens = query_tokens(query)
    if not tokens:
        return None
    # One primary-key range per token, intersected: each is already in entity_id order.
    ranges = [
        select(SearchToken.entity_id).where(
            SearchToken.entity_type == entity_type, SearchToken.token == token
        )
        for token in sorted(tokens)
    ]
    return ranges[0] if len(ranges) == 1 else intersect(*ranges)
