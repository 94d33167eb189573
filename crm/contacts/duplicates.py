"""The "Possible duplicates" page's services: the stored pairs (listed a page at a time, counted,
their reasons in words), dismissals, and the scan's state (running, last finished, failed) and
start. The scan itself (what is compared, scoring, the job and the command) is in
crm.contacts.duplicate_scan; this module reads its constants and starts it by its job name.
"""
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.orm import selectinload

from crm.audit.services import record
from crm.common import utcnow
from crm.contacts.duplicate_scan import JOB_NAME, REASONS
from crm.contacts.models import Contact, CustomerContact, DuplicateDismissal, DuplicatePair
from crm.customers.models import Customer
from crm.extensions import db
from crm.jobs.models import JobRun
from crm.jobs.services import enqueue, sweep_stale_runs

PAGE_SIZE = 20


def reason_words(code: str) -> str:
    """How the page says a pair's reason code."""
    return REASONS.get(code, code.replace("_", " ").capitalize())


def _listed(kind: str) -> list:
    """Conditions for pairs worth showing: both records still there (customers not archived
    since the scan) and not dismissed since."""
    pair = DuplicatePair
    model = Customer if kind == "customer" else Contact
    conditions = [pair.kind == kind, ~select(DuplicateDismissal.kind).where(
        DuplicateDismissal.kind == pair.kind, DuplicateDismissal.low_id == pair.low_id,
        DuplicateDismissal.high_id == pair.high_id).exists()]
    for column in (pair.low_id, pair.high_id):
        there = select(model.id).where(model.id == column)
        if kind == "customer":
            there = there.where(Customer.archived_at.is_(None))
        conditions.append(there.exists())
    return conditions


def pair_counts() -> dict[str, int]:
    """How many pairs of each kind there are: one index-only count (the list's own filters
    would check both records of 20,000 pairs; a customer archived since the scan is counted
    until the next scan, but not listed)."""
    counts = dict(db.session.execute(select(DuplicatePair.kind, func.count())
                                     .group_by(DuplicatePair.kind)).all())
    return {kind: counts.get(kind, 0) for kind in ("contact", "customer")}


def list_pairs(kind: str, page: int = 1, size: int = PAGE_SIZE) -> tuple[list, bool]:
    """One page of pairs, best first, with both records loaded: ([(pair, a, b)], more?).
    A fixed number of queries whatever the page holds."""
    pairs = db.session.scalars(
        select(DuplicatePair).where(*_listed(kind))
        .order_by(DuplicatePair.score.desc(), DuplicatePair.id.desc())  # as scan() stores them
        .offset((page - 1) * size).limit(size + 1)).all()
    more, pairs = len(pairs) > size, pairs[:size]
    ids = {i for p in pairs for i in (p.low_id, p.high_id)}
    if kind == "customer":
        query = select(Customer).options(
            selectinload(Customer.addresses), selectinload(Customer.parent),
            selectinload(Customer.contact_links).joinedload(CustomerContact.contact)
            .selectinload(Contact.emails),
            selectinload(Customer.contact_links).joinedload(CustomerContact.contact)
            .selectinload(Contact.phones))
        model = Customer
    else:
        query = select(Contact).options(
            selectinload(Contact.emails), selectinload(Contact.phones),
            selectinload(Contact.customer_links).joinedload(CustomerContact.customer)
            .selectinload(Customer.addresses))
        model = Contact
    records = {r.id: r for r in db.session.scalars(query.where(model.id.in_(ids)))} if ids else {}
    return [(p, records[p.low_id], records[p.high_id]) for p in pairs
            if p.low_id in records and p.high_id in records], more


def dismiss(kind: str, a: int, b: int, *, actor) -> bool | None:
    """Staff say the two are different: never suggest them again (caller commits). True when
    dismissed now, False when they already were, None when there is no such pair."""
    low, high = min(a, b), max(a, b)
    if db.session.get(DuplicateDismissal, (kind, low, high)) is not None:
        return False
    removed = db.session.execute(delete(DuplicatePair).where(
        DuplicatePair.kind == kind, DuplicatePair.low_id == low, DuplicatePair.high_id == high))
    if not removed.rowcount:
        return None
    db.session.add(DuplicateDismissal(kind=kind, low_id=low, high_id=high,
                                      dismissed_by_kind=actor.kind,
                                      dismissed_by_id=actor.id))
    db.session.flush()
    for record_id in (low, high):  # the dismissal row says which two, who and when
        record("not_duplicate", kind, record_id, actor=actor, fields=[])
    return True


def scan_state() -> dict:
    """The scan running now (if any), the last one that finished, and a failed last one
    (a scan whose worker died is failed, not running for good)."""
    sweep_stale_runs()
    latest = db.session.scalar(select(JobRun).where(JobRun.name == JOB_NAME)
                               .order_by(JobRun.id.desc()).limit(1))
    state = {"running": None, "finished": None, "failed": None}
    if latest is None:
        return state
    if not latest.done:
        timeout = timedelta(seconds=current_app.config["JOB_TIMEOUT"])
        if utcnow() - latest.created_at < timeout:  # older: a worker died with it
            state["running"] = latest
    elif latest.status == "failed":
        state["failed"] = latest
    state["finished"] = latest if latest.status == "finished" else last_finished_scan()
    return state


def last_finished_scan() -> JobRun | None:
    """The last scan that finished (its result says how many pairs of each kind it found)."""
    return db.session.scalar(
        select(JobRun).where(JobRun.name == JOB_NAME, JobRun.status == "finished")
        .order_by(JobRun.id.desc()).limit(1))


def start_scan(*, actor) -> JobRun:  # the caller commits; the scan starts then
    """Start a scan unless one is running (then that one). Inline without Redis."""
    running = scan_state()["running"]
    return running if running is not None else enqueue(JOB_NAME, actor=actor)
