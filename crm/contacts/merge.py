"""Merging two customers or two contacts into one.

Staff pick the surviving record and, field by field, the surviving values. Everything that
points at the other record moves to the survivor in the same transaction: every foreign key to
the customer (or contact) table is found from the schema, so what later features attach moves
too. Each feature's declaration says what happens to its own rows (crm.features): where a
table allows one row per record (a delivery plan, a contact's channel preferences, a product
like, a role link) the feature says KEEP_SURVIVOR, and a feature may veto a merge.
The merged-away id is deleted and remembered in MergedRecord, so its pages and number lead to
the survivor.
"""
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from crm.audit.models import MergedRecord
from crm.audit.services import record
from crm.common import ConflictError, utcnow
from crm.contacts.models import (
    Contact,
    CustomerContact,
    DuplicateDismissal,
    DuplicatePair,
)
from crm.contacts.search import PEOPLE, index_people
from crm.customers.models import Customer
from crm.extensions import db
from crm.features import KEEP_SURVIVOR, registry
from crm.security.search import drop_tokens, index_name

MODELS = {"customer": Customer, "contact": Contact}

# The fields staff choose between, with their labels, per kind.
FIELDS = {
    "customer": {"name": "Name", "kind": "Kind", "status": "Status",
                 "pricing_tier": "Pricing tier", "owner_id": "Account owner",
                 "parent_id": "Part of", "notes": "Notes"},
    "contact": {"first_name": "First name", "last_name": "Last name", "notes": "Notes"},
}


class MergeError(ValueError):
    """The two records cannot be merged (say why)."""


@dataclass
class MergePair:
    kind: str
    a: Customer | Contact
    b: Customer | Contact

    @property
    def fields(self):
        return FIELDS[self.kind]


def load_pair(kind: str, a_id: int, b_id: int) -> MergePair:
    """Both records with what the merge screen shows; MergeError when they cannot merge."""
    if a_id == b_id:
        raise MergeError("That is the same record twice.")
    model = MODELS[kind]
    options = ([selectinload(Customer.addresses), selectinload(Customer.contact_links)
                .joinedload(CustomerContact.contact), selectinload(Customer.owner),
                selectinload(Customer.parent)] if kind == "customer" else
               [selectinload(Contact.emails), selectinload(Contact.phones),
                selectinload(Contact.customer_links).joinedload(CustomerContact.customer)])
    found = {r.id: r for r in db.session.scalars(
        select(model).where(model.id.in_([a_id, b_id])).options(*options))}
    if len(found) < 2:
        raise LookupError("one of the records does not exist (it may have been merged already)")
    return MergePair(kind, found[a_id], found[b_id])


def _references(kind: str):
    """(table, column) of every foreign key to the kind's table, from the schema."""
    target = MODELS[kind].__table__
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table is target:
                yield table, fk.parent


def linked_counts(kind: str, record_id: int) -> dict[str, int]:
    """How many rows of each table point at the record: what a merge would move."""
    counts = {}
    for table, column in _references(kind):
        n = db.session.scalar(select(func.count()).select_from(table).where(column == record_id))
        if n:
            counts[table.name] = counts.get(table.name, 0) + n
    return counts


def _one_per_record(table, column):
    """The unique keys (and primary key) of the table that include the column."""
    for constraint in table.constraints:
        columns = list(getattr(constraint, "columns", ()))
        if constraint.__class__.__name__ in ("UniqueConstraint", "PrimaryKeyConstraint") \
                and column in columns:
            yield columns


def _clashes(table, column, columns, loser_id, survivor_id):
    """The loser's rows that a unique key would not allow next to the survivor's."""
    other = table.alias()
    same = [other.c[column.name] == survivor_id] + [
        other.c[c.name] == c for c in columns if c is not column]
    return (column == loser_id) & exists(select(1).select_from(other).where(*same))


def _move_references(kind: str, loser_id: int, survivor_id: int):
    """Point everything at the survivor. Each feature's merge rules say what happens to its
    rows: a function of its own, or KEEP_SURVIVOR where a unique key allows one row per record
    (the loser's duplicate is dropped). A clash no rule covers refuses the merge."""
    rules = registry().merge_rules
    for table, column in _references(kind):
        rule = rules.get(table.name)
        if callable(rule):
            rule(kind, survivor_id, loser_id)
            continue
        for columns in _one_per_record(table, column):
            clash = _clashes(table, column, columns, loser_id, survivor_id)
            if rule == KEEP_SURVIVOR:
                db.session.execute(delete(table).where(clash))
            elif db.session.scalar(select(exists().where(clash))):
                raise MergeError(f"Both records have a {table.name} row and nothing says "
                                 "which to keep.")
        db.session.execute(update(table).where(column == loser_id).values({column.name: survivor_id}))


def _tidy_contact_channels(contact: Contact):
    """After a contact merge: one row per email and per phone, and one primary each (the
    survivor's own primary wins)."""
    for items, key in ((contact.emails, "email_bidx"), (contact.phones, "phone_bidx")):
        seen = {}
        for item in sorted(items, key=lambda i: (not i.is_primary, i.id)):
            kept = seen.get(getattr(item, key))
            if kept is None:
                seen[getattr(item, key)] = item
            else:  # the same address twice: keep one, with the stricter flags of both
                kept.opted_out = kept.opted_out or item.opted_out
                kept.invalid = kept.invalid or item.invalid
                items.remove(item)
        primaries = [i for i in items if i.is_primary]
        for extra in primaries[1:]:
            extra.is_primary = False
        if items and not primaries:
            items[0].is_primary = True


def merge(kind: str, survivor_id: int, loser_id: int, values: dict, *, versions: dict,
          actor) -> Customer | Contact:
    """Merge `loser_id` into `survivor_id`, giving the survivor `values` (field -> value, the
    ones staff chose). `versions` {id: version} are those the screen showed: if either record
    changed since, ConflictError and nothing is merged. The caller commits."""
    pair = load_pair(kind, survivor_id, loser_id)
    survivor, loser = pair.a, pair.b
    if any(r.version != versions.get(r.id) for r in (survivor, loser)):
        raise ConflictError(pair)
    for veto in registry().merge_vetoes:  # a feature may refuse (e.g. open invoices on both)
        reason = veto(kind, survivor, loser)
        if reason:
            raise MergeError(reason)
    unknown = set(values) - set(FIELDS[kind])
    if unknown:
        raise MergeError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    values = dict(values)
    if kind == "customer":
        # A location merged with its group: the merged customer is part of neither of them.
        pair_ids = (survivor.id, loser.id)
        outside = [p for p in (values.get("parent_id", survivor.parent_id), survivor.parent_id,
                               loser.parent_id) if p not in pair_ids]
        if values.get("parent_id", survivor.parent_id) in pair_ids:
            values["parent_id"] = outside[0] if outside else None

    changed = [f for f, v in values.items() if getattr(survivor, f) != v]
    for field in changed:
        setattr(survivor, field, values[field])
    db.session.flush()

    model = MODELS[kind]
    _move_references(kind, loser_id, survivor_id)
    db.session.execute(update(MergedRecord).where(
        MergedRecord.kind == kind, MergedRecord.survivor_id == loser_id
    ).values(survivor_id=survivor_id))
    db.session.add(MergedRecord(kind=kind, old_id=loser_id, survivor_id=survivor_id,
                                merged_at=utcnow(), merged_by_kind=actor.kind,
                                merged_by_id=actor.id))
    for pairs in (DuplicatePair, DuplicateDismissal):
        db.session.execute(delete(pairs).where(
            pairs.kind == kind, (pairs.low_id == loser_id) | (pairs.high_id == loser_id)))
    drop_tokens(kind, loser_id)  # its name search tokens: only the survivor is found
    if kind == "customer":
        drop_tokens(PEOPLE, loser_id)
    db.session.expunge(loser)
    db.session.execute(delete(model).where(model.id == loser_id))
    db.session.expire_all()  # rows moved under the ORM's feet: read them again

    survivor = db.session.get(model, survivor_id)
    if kind == "customer":
        survivor.updated_at = utcnow()
        if "name" in changed:
            index_name("customer", survivor.id, survivor.name)
        index_people([survivor.id])  # the people of both
    else:
        _tidy_contact_channels(survivor)
        flag_modified(survivor, "first_name")  # a real UPDATE, so its version moves on
        if {"first_name", "last_name"} & set(changed):
            index_name("contact", survivor.id, survivor.first_name, survivor.last_name)
        # the customers of both now have the survivor, under the name chosen
        index_people([link.customer_id for link in survivor.customer_links])
    db.session.flush()
    record("merge", kind, survivor.id, actor=actor, fields=changed)
    record("merged_away", kind, loser_id, actor=actor, fields=[])
    return survivor
