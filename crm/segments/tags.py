"""Tags: the one place a tag name is read, a tag is found or made, and tags are put on and
taken off customers (one or many; the caller commits); renaming, recolouring, merging and
deleting tags; the customer list's "Tag" filter; and bulk tagging as a job."""
import re

from sqlalchemy import delete, func, insert, select, update

from crm.audit.models import MergedRecord
from crm.audit.services import record, record_many, survivor_of
from crm.common import ConflictError, batches, save_versioned, utcnow
from crm.customers.models import KINDS, STATUSES, Customer
from crm.extensions import db
from crm.segments.models import TAG_COLOURS, TAG_NAME_MAX, CustomerTag, Tag

DESCRIPTION_MAX = 300
SUGGESTIONS = 8  # tags suggested as one types
JOB_NAME = "bulk_tag"
JOB_BATCH = 1000  # customers tagged per statement (and per progress report) in the job


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
    """Take `tag` off the customers (ids or a select) that have it; archived customers are
    left as they are (nothing of theirs changes until restored). Returns how many."""
    ids = _ids(customer_ids)
    removed = list(db.session.scalars(
        select(CustomerTag.customer_id)
        .join(Customer, Customer.id == CustomerTag.customer_id)
        .where(CustomerTag.tag_id == tag.id, CustomerTag.customer_id.in_(ids),
               Customer.archived_at.is_(None))))
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


# -- the Tags page: every tag with its count; rename, recolour, describe, merge, delete -------

def tags_with_counts() -> list[tuple[Tag, int]]:
    """Every tag (by name) with how many customers carry it, in one grouped query."""
    counted = (select(CustomerTag.tag_id, func.count().label("n"))
               .group_by(CustomerTag.tag_id).subquery())
    return [(tag, n or 0) for tag, n in db.session.execute(
        select(Tag, counted.c.n).outerjoin(counted, counted.c.tag_id == Tag.id)
        .order_by(Tag.name_key))]


def all_tags() -> list[Tag]:
    return list(db.session.scalars(select(Tag).order_by(Tag.name_key)))


def suggest_tags(typed: str, *, exclude_customer: int | None = None,
                 limit: int = SUGGESTIONS) -> list[Tag]:
    """Tags whose name has what was typed in it (those starting with it first), but the ones
    the customer has already; every tag (by name) when nothing was typed."""
    key = tag_key(typed)[:TAG_NAME_MAX]
    query = select(Tag)
    if key:
        pattern = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Tag.name_key.like(f"%{pattern}%", escape="\\"))
    if exclude_customer is not None:
        query = query.where(~select(CustomerTag.tag_id).where(
            CustomerTag.customer_id == exclude_customer, CustomerTag.tag_id == Tag.id).exists())
    starts = Tag.name_key.like(f"{pattern}%", escape="\\") if key else None
    order = (starts.desc(), Tag.name_key) if key else (Tag.name_key,)
    return list(db.session.scalars(query.order_by(*order).limit(limit)))


def clean_colour(colour: str | None) -> str | None:
    """A palette key (TAG_COLOURS), None for the plain chip; TagError for anything else."""
    if not colour:
        return None
    if colour not in TAG_COLOURS:
        raise TagError("Choose one of the colours offered.")
    return colour


def update_tag(tag: Tag, *, name: str, colour: str | None, description: str | None,
               expected_version: int, actor) -> list[str]:
    """Rename, recolour, describe a tag if nobody saved it in between (ConflictError holds
    the tag as now saved); a name another tag has (in any case and spacing) is a TagError
    suggesting a merge. Returns the changed fields (caller commits)."""
    if tag.version != expected_version:
        raise ConflictError(tag)
    cleaned = clean_name(name)
    other = find_tag(cleaned)
    if other is not None and other.id != tag.id:
        raise TagError(f"There is already a tag “{other.name}”. To make the two one tag, "
                       f"merge this one into it.")
    description = re.sub(r"\s+", " ", description or "").strip() or None
    if description and len(description) > DESCRIPTION_MAX:
        raise TagError(f"A description is at most {DESCRIPTION_MAX} characters "
                       f"(this one has {len(description)}).")
    values = {"name": cleaned, "name_key": tag_key(cleaned), "colour": clean_colour(colour),
              "description": description}
    changed = [k for k, v in values.items() if getattr(tag, k) != v and k != "name_key"]
    if not changed:
        return []
    for field, value in values.items():
        setattr(tag, field, value)
    save_versioned(lambda: db.session.get(Tag, tag.id))
    record("update", "tag", tag.id, actor=actor, fields=changed)
    return changed


def merge_tags(source: Tag, target: Tag, *, actor) -> int:
    """Put `source` into `target`: its customers carry `target` instead (one row each: those
    with both keep the one), then `source` is deleted, and its id leads to `target` (a list
    filtered by the old tag still works). Returns how many customers got `target` from it
    (caller commits)."""
    if source.id == target.id:
        raise TagError("Choose another tag to merge into.")
    carriers = list(db.session.scalars(select(CustomerTag.customer_id).where(
        CustomerTag.tag_id == source.id)))
    both = set(db.session.scalars(select(CustomerTag.customer_id).where(
        CustomerTag.tag_id == target.id, CustomerTag.customer_id.in_(carriers))))
    if both:  # customers carrying both keep the target's row
        db.session.execute(delete(CustomerTag).where(CustomerTag.tag_id == source.id,
                                                     CustomerTag.customer_id.in_(both)))
    moved = db.session.execute(update(CustomerTag).where(CustomerTag.tag_id == source.id)
                               .values(tag_id=target.id)).rowcount
    db.session.execute(update(MergedRecord).where(
        MergedRecord.kind == "tag", MergedRecord.survivor_id == source.id
    ).values(survivor_id=target.id))
    db.session.add(MergedRecord(kind="tag", old_id=source.id, survivor_id=target.id,
                                merged_at=utcnow(), merged_by_kind=actor.kind,
                                merged_by_id=actor.id))
    record("merge", "tag", source.id, actor=actor, fields=("customer_tag", "into"))
    record("update", "tag", target.id, actor=actor, fields=("customer_tag",))
    record_many("retag", "customer", [(i, ("tags",)) for i in carriers if i not in both],
                actor=actor)
    record_many("untag", "customer", [(i, ("tags",)) for i in sorted(both)], actor=actor)
    db.session.delete(source)
    db.session.flush()
    return moved


def delete_tag(tag: Tag, *, actor) -> int:
    """Delete a tag and take it off every customer carrying it. Returns how many."""
    carriers = list(db.session.scalars(select(CustomerTag.customer_id).where(
        CustomerTag.tag_id == tag.id)))
    db.session.execute(delete(CustomerTag).where(CustomerTag.tag_id == tag.id))
    record_many("untag", "customer", [(i, ("tags",)) for i in carriers], actor=actor)
    record("delete", "tag", tag.id, actor=actor, fields=("name",))
    db.session.delete(tag)
    db.session.flush()
    return len(carriers)


def current_tag(tag_id: int) -> Tag | None:
    """The tag with this id, or the one it was merged into; None when deleted."""
    tag = get_tag(tag_id)
    if tag is None and (survivor := survivor_of("tag", tag_id)) is not None:
        tag = get_tag(survivor)
    return tag


# -- the customer list's "Tag" filter (crm.features.ListFilter) ------------------------------

def has_tag_filter(tag_id: int, user=None):
    """The customer list's "Tag" filter: customers carrying the tag (or the one it was merged
    into), as a condition on Customer; ValueError when the tag was deleted."""
    tag = current_tag(tag_id)
    if tag is None:
        raise TagError("That tag no longer exists (it was deleted). Choose another tag.")
    return select(CustomerTag.customer_id).where(CustomerTag.customer_id == Customer.id,
                                                 CustomerTag.tag_id == tag.id).exists()


def tag_choices(user=None) -> list[tuple[int, str]]:
    return [(tag.id, tag.name) for tag in all_tags()]


# -- bulk tagging, as a job when it is more than a page (crm.jobs) ---------------------------

def job_params(filters: dict, *, tag: Tag, add: bool) -> dict:
    """The bulk job's arguments for the customer list's filters (crm.customers.services
    list_filters, no search text): ids and flags only — kind and status by their position,
    the features' filter values as `filter_<param>`."""
    params = {"tag_id": tag.id, "add": add, "archived": bool(filters.get("archived")),
              "kind": list(KINDS).index(filters["kind"]) if filters.get("kind") else None,
              "status": (list(STATUSES).index(filters["status"])
                         if filters.get("status") else None)}
    for param, value in (filters.get("feature_filters") or {}).items():
        params[f"filter_{param}"] = int(value)
    return params


def filters_of(params: dict) -> dict:
    """The list's filters a bulk job was given (job_params, read back)."""
    return {"kind": list(KINDS)[params["kind"]] if params.get("kind") is not None else "",
            "status": (list(STATUSES)[params["status"]]
                       if params.get("status") is not None else ""),
            "archived": bool(params.get("archived")),
            "feature_filters": {k.removeprefix("filter_"): str(v) for k, v in params.items()
                                if k.startswith("filter_")}}


def bulk_tag_job(run, report, *, tag_id: int, add: bool, **params) -> dict:
    """Put the tag on (or take it off) every customer the list's filters match now, a batch
    at a time, committing and reporting after each; says how many got or lost it."""
    from crm.auth.models import StaffUser
    from crm.customers.services import matching_ids

    tag = get_tag(tag_id)
    if tag is None:
        report(100, "The tag was deleted before this ran; nothing changed.")
        return {"matched": 0, "changed": 0}
    user = db.session.get(StaffUser, run.owner_id) if run.owner_kind == "staff" else None
    ids = matching_ids(**filters_of(params), limit=10**9, user=user)
    actor = run.owner
    changed, done = 0, 0
    for chunk in batches(ids, JOB_BATCH):
        changed += (add_tag if add else remove_tag)(chunk, tag, actor=actor)
        done += len(chunk)
        report(100 * done // max(len(ids), 1), bulk_message(tag.name, add, changed, done))
    report(100, bulk_message(tag.name, add, changed, len(ids)))
    return {"matched": len(ids), "changed": changed}


def bulk_message(name: str, add: bool, changed: int, matched: int) -> str:
    """What a bulk add or remove did, in words."""
    def customers(n):
        return f"{n:,} customer{'s' if n != 1 else ''}"
    if not changed:
        return (f"{'All ' if matched > 1 else ''}{customers(matched)} had “{name}” already."
                if add else f"None of the {customers(matched)} had “{name}”.")
    if add:
        rest = matched - changed
        return (f"“{name}” added to {customers(changed)}"
                + (f"; {customers(rest)} had it already." if rest else "."))
    return (f"“{name}” taken off {customers(changed)}"
            + (f"; {customers(matched - changed)} did not have it." if matched - changed
               else "."))
