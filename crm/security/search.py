"""Keeping name-search tokens in step with the names they index, and querying them."""
from functools import lru_cache

from sqlalchemy import and_, bindparam, delete, exists, insert
from sqlalchemy.orm import aliased

from crm.extensions import db
from crm.security.blind_index import name_tokens, query_tokens
from crm.security.models import SearchToken


def index_name(entity_type: str, entity_id: int, *names: str):
    """Replace the tokens of one record (caller commits)."""
    drop_tokens(entity_type, entity_id)
    add_name_tokens(entity_type, {entity_id: names})


def drop_tokens(entity_type: str, *entity_ids: int):
    """Remove records' tokens: they are gone (merged away, erased) or about to be rebuilt.
    Caller commits."""
    db.session.execute(
        delete(SearchToken).where(
            SearchToken.entity_type == entity_type,
            SearchToken.entity_id == entity_ids[0] if len(entity_ids) == 1
            else SearchToken.entity_id.in_(entity_ids),
        )
    )


def add_name_tokens(entity_type: str, names: dict):
    """The tokens of records that have none yet (just created), in one statement:
    `names` is {entity id: name, or several names} (caller commits)."""
    rows = []
    for entity_id, given in names.items():
        given = (given,) if isinstance(given, str) else given
        tokens = set().union(*(name_tokens(n) for n in given if n))
        rows += [{"entity_type": entity_type, "entity_id": entity_id, "token": t} for t in tokens]
    if rows:
        db.session.execute(insert(SearchToken), rows)


@lru_cache(maxsize=16)
def _name_condition(entity_type: str, count: int):
    """The join condition for `count` typed words, built once and reused with new tokens."""
    first = aliased(SearchToken)
    conditions = [first.entity_type == entity_type, first.token == bindparam("token_0")]
    for i in range(1, count):
        other = aliased(SearchToken)
        conditions.append(exists().where(
            other.entity_type == entity_type, other.token == bindparam(f"token_{i}"),
            other.entity_id == first.entity_id,
        ))
    return first, and_(*conditions)


def name_condition(entity_type: str, words: int):
    """(tokens, condition) for records whose name has `words` word prefixes, the tokens bound
    as token_0, token_1, … (name_params): for a statement built once and run many times."""
    return _name_condition(entity_type, words)


def name_params(query: str, *, shorter: bool = False) -> dict:
    """The typed words' tokens as name_condition binds them (the same for every entity type)."""
    return {f"token_{i}": token
            for i, token in enumerate(sorted(query_tokens(query, shorter=shorter)))}


def name_match(entity_type: str, query: str, *, shorter: bool = False):
    """(tokens, condition, params) for records whose name has every typed word prefix, or None.

    `tokens` is the row of the first typed word's token; join it on `tokens.entity_id` and
    execute with `params`. Its primary-key range is already in entity_id order, so a page
    ordered by id can stop early. `shorter`: the typo allowance (query_tokens).
    """
    params = name_params(query, shorter=shorter)
    if not params:
        return None
    first, condition = _name_condition(entity_type, len(params))
    return first, condition, params

