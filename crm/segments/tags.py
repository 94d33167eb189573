"""Tags: the one place a tag name is read, a tag is found or made, and tags are put on and
taken off customers (one or many; the caller commits)."""
import re

from sqlalchemy import delete, func, insert, select

from crm.audit.services import record, record_many
from crm.customers.models import Customer
from crm.extensions import db
from crm.segments.models import TAG_NAME_MAX, CustomerTag, Tag


class TagError(ValueError):
    """A tag name or a tag that cannot be used; the message says why, for the person typing."""


def tag_key(name: str) -> str:
    """What makes two names one tag: trimmed, inner spaces collapsed, case-folded
    ("Farmers Market" = " farmers  market ")."""
    return re.sub(r"\s+", " ", name or "").strip().casefold()


def clean_name(name: str) -> str:
    """The name as it will be shown (trimmed, inner spaces collapsed), or TagError."""
    cleaned = re.sub(r"\s+", " ", name or "").strip()
    if not cleaned:
        raise TagError("Type a tag name.")
    if len(cleaned) > TAG_NAME_MAX:
        raise TagError(f"A tag name is at most {TAG_NAME_MAX} characters "
                       f"(this one has {len(cleaned)}).")
    return cleaned


def find_tag(name: str) -> Tag | None:
    return db.session.scalar(select(Tag).where(Tag.name_key == tag_key(name)))


def get_tag(tag_id: int) -> Tag | None:
    return db.session.get(Tag, tag_id)


def find_or_create_tag(name: str, *, actor) -> Tag:
    """The tag with this name (whatever its case and spacing), made if there is none."""
    cleaned = clean_name(name)
    tag = find_tag(cleaned)
    if tag is None:
        tag = Tag(name=cleaned, name_key=tag_key(cleaned))
        db.session.add(tag)
        db.session.flush()
        record("create", "tag", tag.id, actor=actor, fields=("name",))
    return tag


def customer_tags(customer_id: int) -> list[Tag]:
    return list(db.session.scalars(
        select(Tag).join(CustomerTag, CustomerTag.tag_id == Tag.id)
        .where(CustomerTag.customer_id == customer_id).order_by(Tag.name_key)))


def add_tag(customer_ids, tag: Tag, *, actor) -> int:
    """Put `tag` on the customers (a list of ids or a select of them) that do not have it
    yet, in one statement; archived customers are left as they are. Returns how many
    customers got it."""
    ids = _ids(customer_ids)
    new = (select(Customer.id).where(
        Customer.id.in_(ids), Customer.archived_at.is_(None),
        ~select(CustomerTag.customer_id).where(CustomerTag.customer_id == Customer.id,
                                               CustomerTag.tag_id == tag.id).exists()))
    added = [row.id for row in db.session.execute(new)]
    if added:
        db.session.execute(insert(CustomerTag), [
            {"customer_id": i, "tag_id": tag.id, "added_by_kind": actor.kind,
             "added_by_id": actor.id} for i in added])
        record_many("tag", "customer", [(i, ("tags",)) for i in added], actor=actor)
    return len(added)


def remove_tag(customer_ids, tag: Tag, *, actor) -> int:
    """Take `tag` off the customers (ids or a select) that have it. Returns how many."""
    ids = _ids(customer_ids)
    removed = list(db.session.scalars(select(CustomerTag.customer_id).where(
        CustomerTag.tag_id == tag.id, CustomerTag.customer_id.in_(ids))))
    if removed:
        db.session.execute(delete(CustomerTag).where(
            CustomerTag.tag_id == tag.id, CustomerTag.customer_id.in_(removed)))
        record_many("untag", "customer", [(i, ("tags",)) for i in removed], actor=actor)
    return len(removed)


def usage_counts() -> dict[int, int]:
    """{tag id: how many customers carry it} in one grouped statement."""
    return dict(db.session.execute(
        select(CustomerTag.tag_id, func.count()).group_by(CustomerTag.tag_id)).all())


def _ids(customer_ids):
    """A list of ids as is; a select (of customer ids) as a subquery to use in IN."""
    if isinstance(customer_ids, (list, tuple, set, frozenset)):
        return list(customer_ids)
    return customer_ids
