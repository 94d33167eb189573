"""The header search: every kind of record the features declare they can find
(crm.features.Finder), grouped by kind, only the kinds the user's role may see."""
from dataclasses import dataclass

from crm.common import load
from crm.features import Finder, Hit, registry
from crm.normalise import clean_text
from crm.security.permissions import can

MAX_QUERY = 100  # characters of a search read; the rest is ignored


@dataclass
class Group:
    finder: Finder
    hits: list[Hit]
    more: bool  # there are more than shown: the finder's `more` page lists them all

    @property
    def key(self):
        return self.finder.key

    @property
    def label(self):
        return self.finder.label


def search_everything(q: str, user, *, limit: int = 5) -> list[Group]:
    """Up to `limit` hits of each kind the user may see, kinds in their declared order; kinds
    with no hit are left out. Each finder runs a fixed number of queries."""
    q = clean_text(q)[:MAX_QUERY]
    if not q:
        return []
    groups = []
    for finder in registry().finders:
        if not can(user, finder.permission):
            continue
        hits = load(finder.find)(q, user=user, limit=limit + 1)
        if hits:
            groups.append(Group(finder, hits[:limit], len(hits) > limit))
    return groups
