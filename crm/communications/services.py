"""Interactions, follow-ups and tickets: logging, changing, and reading them a page at a time.

Every write is audited (field names only) and leaves committing to the caller, so a request
saves all of its changes or none.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import cache, lru_cache

from sqlalchemy import bindparam, case, func, select, tuple_
from sqlalchemy.orm import joinedload, load_only, selectinload

from crm.audit.services import record
from crm.auth.models import StaffUser
from crm.common import ConflictError, farm_today, parse_id, save_versioned, utcnow
from crm.communications.models import TICKET_STATUSES, Interaction, Ticket
from crm.contacts.models import Contact, ContactEmail, CustomerContact
from crm.customers.models import Customer
from crm.customers.services import ensure_editable
from crm.extensions import db
from crm.features import RANK_RISKS, RANK_TIERS, registry
from crm.security.blind_index import email_index
from crm.security.permissions import PERMISSIONS, can

PAGE_SIZE = 10  # timeline entries a page: a glance on a phone; older ones a click away
TICKETS_PAGE_SIZE = 100
LOGGED_FIELDS = ("channel", "direction", "contact_id", "subject", "body", "outcome",
                 "occurred_at", "duration_minutes", "visibility", "follow_up_due",
                 "follow_up_assignee_id", "sender", "recipients")
EDITABLE_FIELDS = tuple(f for f in LOGGED_FIELDS if f not in ("sender", "recipients"))
SAID_FIELDS = ("subject", "body", "outcome")  # an entry has at least one of them
NOTHING_SAID = "Say what happened: a subject, what was said or an outcome."


class InteractionError(ValueError):
    """Input a form cannot catch on its own (e.g. a contact of another customer)."""


# -- reading ---------------------------------------------------------------------------------

# What a timeline item shows of its related rows: only those columns are read and decrypted.
_ENTRY_DISPLAY = (
    joinedload(Interaction.contact).load_only(Contact.first_name, Contact.last_name),
    joinedload(Interaction.logged_by).load_only(StaffUser.name),
    joinedload(Interaction.follow_up_assignee).load_only(StaffUser.name),
    joinedload(Interaction.ticket).load_only(Ticket.status),
)


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)  # nothing logged here happened before


def encode_cursor(entry: Interaction) -> str:
    micros = (entry.occurred_at - EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{entry.id}"


CURSOR_RE = re.compile(r"([0-9]{1,19})_([0-9]+)")  # encode_cursor's "<micros>_<entry id>"


def decode_cursor(cursor: str | None):
    """(occurred_at, entry id) of a cursor from encode_cursor; None for anything else (the
    entry id is read by crm.common.parse_id)."""
    match = CURSOR_RE.fullmatch(cursor or "")
    entry_id = parse_id(match[2]) if match else None
    if entry_id is None:
        return None
    try:
        return EPOCH + timedelta(microseconds=int(match[1])), entry_id
    except OverflowError:
        return None


def timeline(*, customer_id: int | None = None, contact_id: int | None = None,
             before: str | None = None, channel: str = "", staff_id: int | None = None,
             since=None, until=None, limit: int = PAGE_SIZE, shared_only: bool = False):
    """Newest first: one customer's, one contact's, or everybody's (the Activity view);
    `shared_only`: only what is shared with the customer (never internal entries).

    Returns (entries, cursor for the next page or None); the same queries at any length.
    """
    position = decode_cursor(before)
    params = {"customer_id": customer_id, "contact_id": contact_id, "channel": channel or None,
              "staff_id": staff_id or None, "since": since, "until": until}
    params = {name: value for name, value in params.items() if value is not None}
    if position:
        params["before_at"], params["before_id"] = position
    statement = _timeline_statement(frozenset(params), limit + 1, shared_only)
    entries = db.session.scalars(statement, params).unique().all()
    more = len(entries) > limit
    entries = entries[:limit]
    return entries, (encode_cursor(entries[-1]) if more else None)


@lru_cache(maxsize=256)  # one per combination of filters a timeline is asked with
def _timeline_statement(filters: frozenset, limit: int, shared_only: bool):
    """The timeline's statement for the filters given (their values are bound parameters),
    built once: building a select with its loader options, and its cache key, was a quarter
    of what reading a page of 20 entries cost."""
    occurred_at = Interaction.occurred_at.type
    query = select(Interaction).options(*_ENTRY_DISPLAY).where(Interaction.deleted_at.is_(None))
    if shared_only:
        query = query.where(Interaction.visibility == "shared")
    if "customer_id" in filters:
        query = query.where(Interaction.customer_id == bindparam("customer_id"))
    else:
        query = query.options(joinedload(Interaction.customer).load_only(Customer.name))
    if "contact_id" in filters:
        query = query.where(Interaction.contact_id == bindparam("contact_id"))
    if "channel" in filters:
        query = query.where(Interaction.channel == bindparam("channel"))
    if "staff_id" in filters:
        query = query.where(Interaction.logged_by_kind == "staff",
                            Interaction.logged_by_id == bindparam("staff_id"))
    if "since" in filters:
        query = query.where(Interaction.occurred_at >= bindparam("since", type_=occurred_at))
    if "until" in filters:
        query = query.where(Interaction.occurred_at < bindparam("until", type_=occurred_at))
    if "before_at" in filters:
        query = query.where(tuple_(Interaction.occurred_at, Interaction.id)
                            < tuple_(bindparam("before_at", type_=occurred_at),
                                     bindparam("before_id")))
    return query.order_by(Interaction.occurred_at.desc(), Interaction.id.desc()).limit(limit)


def get_entry(entry_id: int, *, deleted: bool = False, customer=None,
              shared_only: bool = False) -> Interaction | None:
    """One interaction (a deleted one only when asked), with what its timeline item shows.
    With `customer`, only one of that customer's (another customer's id is not found); with
    `shared_only`, only one shared with the customer."""
    query = (
        select(Interaction)
        .options(joinedload(Interaction.contact), joinedload(Interaction.logged_by),
                 joinedload(Interaction.follow_up_assignee), joinedload(Interaction.ticket),
                 joinedload(Interaction.customer))
        .where(Interaction.id == entry_id)
    )
    if customer is not None:
        query = query.where(Interaction.customer_id == customer.id)
    if shared_only:
        query = query.where(Interaction.visibility == "shared")
    entry = db.session.scalar(query)
    if entry is None or (entry.deleted_at is not None) != deleted:
        return None
    return entry


def deleted_entries(limit: int = 100):
    """Recently deleted interactions, newest deletion first (for an admin to restore)."""
    return db.session.scalars(
        select(Interaction)
        .options(joinedload(Interaction.customer), joinedload(Interaction.logged_by))
        .where(Interaction.deleted_at.is_not(None))
        .order_by(Interaction.deleted_at.desc(), Interaction.id.desc())
        .limit(limit)
    ).all()


# Statements every Communications tab runs, built once (see _timeline_statement).
_LAST_CHANNEL = (
    select(Interaction.channel)
    .where(Interaction.logged_by_kind == "staff",
           Interaction.logged_by_id == bindparam("staff_id"), Interaction.channel != "ticket")
    .order_by(Interaction.created_at.desc(), Interaction.id.desc())
    .limit(1)
)


@cache  # built on first use, once every model is mapped
def _staff_list_statement():
    return (select(StaffUser).options(load_only(StaffUser.name, StaffUser.role, StaffUser.active))
            .order_by(StaffUser.id))


def last_channel(staff_id: int) -> str | None:
    """The channel this staff member logged most recently (the quick log's default), tickets
    left out: a ticket is opened on purpose, never by default."""
    return db.session.scalar(_LAST_CHANNEL, {"staff_id": staff_id})


def staff_list():
    """Every staff user, by id, with what lists of them show: name, role, whether active (the
    timeline's "Logged by" filter; assignable_staff picks from it)."""
    return db.session.scalars(_staff_list_statement()).all()


def assignable_staff(staff=None):
    """Active staff who may log interactions: who a follow-up or ticket can be given to. From
    `staff` (staff_list(), already loaded for the same page) when given, else one query."""
    roles = PERMISSIONS["communications.log"]
    if staff is None:
        staff = db.session.scalars(
            select(StaffUser).where(StaffUser.active.is_(True), StaffUser.role.in_(roles))
        ).all()
    users = [u for u in staff if u.active and u.role in roles]
    return sorted(users, key=lambda u: u.name.casefold())  # names are encrypted: sort here


def may_change(user, entry: Interaction) -> bool:
    """Managers change any entry; others only what they logged themselves."""
    return can(user, "communications.manage") or (
        can(user, "communications.log") and entry.logged_by_kind == "staff"
        and entry.logged_by_id == getattr(user, "id", None)
    )


# -- writing ---------------------------------------------------------------------------------

def _check(customer, data: dict, kept: Interaction | None = None):
    """Refuse what cannot be logged; `kept` (an edited entry) may keep its contact and
    assignee even if they have since been unlinked or disabled. Every entry says something
    (SAID_FIELDS): a call logged with nothing typed is refused, not saved blank."""
    if not any((data.get(name) or "").strip() for name in SAID_FIELDS):
        raise InteractionError(NOTHING_SAID)
    linked = {link.contact_id for link in customer.contact_links}
    if kept is not None:
        linked.add(kept.contact_id)
    if data.get("contact_id") and data["contact_id"] not in linked:
        raise InteractionError("That contact is not linked to this customer.")
    if data["occurred_at"] > utcnow() + timedelta(minutes=5):
        raise InteractionError("It cannot have happened in the future.")
    if data["occurred_at"] < EARLIEST:
        raise InteractionError("That date is too far in the past; check the year.")
    ensure_editable(customer)
    assignee = data.get("follow_up_assignee_id")
    if assignee and assignee != getattr(kept, "follow_up_assignee_id", None) \
            and assignee not in {u.id for u in assignable_staff()}:
        raise InteractionError("Follow-ups can only be assigned to active staff who log calls.")


def _default_assignee(actor) -> int:
    """A follow-up without an assignee goes to the staff member logging it; nobody else (a
    portal user, the system) can be given one."""
    if not actor.is_staff:
        raise InteractionError("Choose who should follow up.")
    return actor.id


def open_ticket(customer, data: dict, *, actor, assignee_id: int | None = None) -> Interaction:
    """Open a ticket for a customer (the tickets page's "New ticket"): its first message is an
    interaction of channel "ticket"; `assignee_id` is who works on it (active staff only)."""
    if assignee_id and assignee_id not in {u.id for u in assignable_staff()}:
        raise InteractionError("Tickets can only be assigned to active staff who log calls.")
    return log_interaction(customer, {**data, "channel": "ticket"}, actor=actor,
                           assignee_id=assignee_id)


def log_interaction(customer, data: dict, *, actor, ticket: Ticket | None = None,
                    assignee_id: int | None = None) -> Interaction:
    """Record an interaction with a customer. InteractionError on bad input.

    A "ticket" entry outside a ticket opens a new ticket with it as the first message; with
    `ticket` it is added to that ticket's thread.
    """
    _check(customer, data)
    if data.get("follow_up_due") and not data.get("follow_up_assignee_id"):
        data = {**data, "follow_up_assignee_id": _default_assignee(actor)}
    entry = Interaction(customer_id=customer.id, logged_by_kind=actor.kind,
                        logged_by_id=actor.id, **{k: data.get(k) for k in LOGGED_FIELDS})
    if ticket is not None:
        entry.ticket = ticket
        if ticket.status == "resolved":  # a new message reopens it
            ticket.status, ticket.resolved_at = "open", None
            record("update", "ticket", ticket.id, actor=actor, fields=["status"])
    elif entry.channel == "ticket":
        entry.ticket = Ticket(customer_id=customer.id, subject=entry.subject or "Support request",
                              assignee_id=assignee_id or data.get("follow_up_assignee_id"),
                              opened_by_kind=actor.kind, opened_by_id=actor.id,
                              opened_at=entry.occurred_at)
    db.session.add(entry)
    db.session.flush()
    if entry.ticket is not None and ticket is None:
        record("create", "ticket", entry.ticket.id, actor=actor,
               fields=["subject", "status", "assignee_id"])
    record("create", "interaction", entry.id, actor=actor,
           fields=[k for k in LOGGED_FIELDS if data.get(k) is not None])
    return entry


def update_interaction(entry: Interaction, data: dict, *, expected_version: int, actor):
    """Apply changes unless someone saved in between; returns the changed field names."""
    if entry.version != expected_version:
        raise ConflictError(entry)
    _check(entry.customer, data, kept=entry)
    changed = [k for k in EDITABLE_FIELDS if k in data and getattr(entry, k) != data[k]]
    if not changed:
        return []
    if "channel" in changed and "ticket" in (entry.channel, data["channel"]):
        raise InteractionError("A ticket message stays one; open a ticket from the quick log.")
    for name in changed:
        setattr(entry, name, data[name])
    if entry.follow_up_due and not entry.follow_up_assignee_id:
        entry.follow_up_assignee_id = _default_assignee(actor)
        changed.append("follow_up_assignee_id")
    if "follow_up_due" in changed:
        entry.follow_up_done_at = None  # a new due date is a new follow-up
    save_versioned(lambda: get_entry(entry.id))
    record("update", "interaction", entry.id, actor=actor, fields=changed)
    return changed


def set_deleted(entry: Interaction, deleted: bool, *, actor):
    """Delete (hide, recoverable) or restore an entry."""
    entry.deleted_at = utcnow() if deleted else None
    record("delete" if deleted else "restore", "interaction", entry.id, actor=actor,
           fields=["deleted_at"])


# -- follow-ups --------------------------------------------------------------------------------

def _open_follow_ups(assignee_id: int | None):
    """Open follow-ups of one person; None: of everyone."""
    mine = (Interaction.follow_up_assignee_id == assignee_id) if assignee_id is not None \
        else Interaction.follow_up_assignee_id.is_not(None)
    return (
        mine
        & Interaction.follow_up_due.is_not(None)
        & Interaction.follow_up_done_at.is_(None)
        & Interaction.deleted_at.is_(None)
    )


def follow_ups(assignee_id: int | None, limit: int = 200, *, priority=None):
    """Open follow-ups of one person (None: everyone's), soonest due first; `priority`
    (Priority) filters and sorts them by their customers' value tier and churn risk first."""
    query = (
        select(Interaction)
        .options(joinedload(Interaction.customer), joinedload(Interaction.contact),
                 joinedload(Interaction.logged_by), joinedload(Interaction.follow_up_assignee))
        .where(_open_follow_ups(assignee_id))
    )
    query = prioritised(query, Interaction.customer_id, priority,
                        (Interaction.follow_up_due, Interaction.id))
    return db.session.scalars(query.limit(limit)).all()


# -- service priority: the customers' value tier and churn risk (Feature.customer_rank) -------

PRIORITY_SORTS = {"": "Due date", "priority": "Value tier, then churn risk",
                  "risk": "Churn risk, then value tier"}


@dataclass(frozen=True)
class Priority:
    """How a list is filtered and sorted by service priority: `tier` one of RANK_TIERS or "",
    `risk` one of RANK_RISKS or "", `sort` a key of PRIORITY_SORTS (anything else is "")."""

    tier: str = ""
    risk: str = ""
    sort: str = ""

    @classmethod
    def from_args(cls, args) -> "Priority":
        def one(name, known):
            value = args.get(name, "")
            return value if value in known else ""
        return cls(one("tier", RANK_TIERS), one("risk", RANK_RISKS),
                   one("sort", PRIORITY_SORTS))

    def args(self) -> dict:
        """The non-default values, for links and forms that keep them."""
        return {k: v for k, v in (("tier", self.tier), ("risk", self.risk), ("sort", self.sort))
                if v}


def priority_available() -> bool:
    """Whether a feature gives customers a value tier and churn risk (segments)."""
    return bool(registry().customer_rank)


def _rank():
    found = registry().customer_rank
    return found[0]().subquery("customer_rank") if found else None


def prioritised(query, customer_id, priority, natural_order):
    """`query` outer-joined to the customers' rank, filtered and ordered by `priority`, then
    by `natural_order`; unchanged but for the order without a rank or a priority."""
    rank = _rank() if priority is not None else None
    if rank is None or not (priority.tier or priority.risk or priority.sort):
        return query.order_by(*natural_order)
    query = query.outerjoin(rank, rank.c.customer_id == customer_id)
    if priority.tier:
        query = query.where(rank.c.value_tier == priority.tier)
    if priority.risk:
        query = query.where(rank.c.churn_risk == priority.risk)
    # most valuable / most at risk first; customers without one after those with one
    tier = case({t: n for n, t in enumerate(RANK_TIERS)}, value=rank.c.value_tier,
                else_=len(RANK_TIERS))
    risk = case({r: n for n, r in enumerate(RANK_RISKS)}, value=rank.c.churn_risk,
                else_=len(RANK_RISKS))
    first = {"priority": (tier, risk), "risk": (risk, tier)}.get(priority.sort, ())
    return query.order_by(*first, *natural_order)


def customer_ranks(customer_ids) -> dict[int, tuple]:
    """{customer id: (value tier or None, churn risk or None)} of those customers that have a
    rank (one query; {} without the feature that ranks them): the lists' badges."""
    found = registry().customer_rank
    ids = sorted(set(customer_ids))
    if not found or not ids:
        return {}
    rank = found[0]().subquery()
    return {row.customer_id: (row.value_tier, row.churn_risk) for row in db.session.execute(
        select(rank).where(rank.c.customer_id.in_(ids)))}


def people_to_call(entries) -> dict:
    """{entry id: Contact} for a list of follow-ups: the person the entry was with, else the
    customer's primary contact; their phones and emails loaded (two queries, any length)."""
    without = {e.customer_id for e in entries if e.contact_id is None}
    primary = dict(db.session.execute(
        select(CustomerContact.customer_id, CustomerContact.contact_id)
        .where(CustomerContact.customer_id.in_(without), CustomerContact.role == "primary")
    ).all()) if without else {}
    wanted = {e.id: e.contact_id or primary.get(e.customer_id) for e in entries}
    ids = {i for i in wanted.values() if i}
    people = {c.id: c for c in db.session.scalars(
        select(Contact).where(Contact.id.in_(ids))
        .options(selectinload(Contact.phones), selectinload(Contact.emails)))} if ids else {}
    return {entry_id: people[i] for entry_id, i in wanted.items() if i in people}


def overdue_count(assignee_id: int, today: date) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Interaction)
        .where(_open_follow_ups(assignee_id), Interaction.follow_up_due < today)
    )


def overdue_by_person(today: date):
    """[(staff user, overdue count)] of everyone with overdue follow-ups, most first (the
    team view of a manager); one query."""
    rows = db.session.execute(
        select(StaffUser, func.count(Interaction.id))
        .join(Interaction, Interaction.follow_up_assignee_id == StaffUser.id)
        .where(Interaction.follow_up_due.is_not(None), Interaction.follow_up_done_at.is_(None),
               Interaction.deleted_at.is_(None), Interaction.follow_up_due < today)
        .group_by(StaffUser.id)
    ).all()
    return sorted(rows, key=lambda row: (-row[1], row[0].name.casefold()))


def overdue_badge(user) -> int:
    """The number on the "Follow-ups" navigation item: the user's overdue follow-ups."""
    return overdue_count(user.id, farm_today())


def complete_follow_up(entry: Interaction, *, actor):
    """Mark the follow-up done (idempotent: a second click changes nothing)."""
    if entry.follow_up_done_at is None:
        entry.follow_up_done_at = utcnow()
        record("update", "interaction", entry.id, actor=actor, fields=["follow_up_done_at"])


PAST_DUE_DATE = "Choose today or a later day: a follow-up cannot be due in the past."


def reschedule_follow_up(entry: Interaction, due: date, *, actor, today: date) -> bool:
    """Give an open follow-up a new due date (rescheduling, or snoozing it a day or a week);
    a past date is refused. Returns whether it changed (the same date again changes nothing,
    so a snooze sent twice snoozes once: the button carries the date, not "+1 day")."""
    if entry.follow_up_due is None or entry.follow_up_done_at is not None:
        raise InteractionError("That follow-up is done already.")
    if due < today:
        raise InteractionError(PAST_DUE_DATE)
    ensure_editable(entry.customer)
    if due == entry.follow_up_due:
        return False
    entry.follow_up_due = due
    record("update", "interaction", entry.id, actor=actor, fields=["follow_up_due"])
    return True


def snooze_dates(entry: Interaction, today: date) -> dict:
    """{"1 day": date, "1 week": date}: from the due date, or from today when it is overdue."""
    start = max(entry.follow_up_due, today)
    return {"1 day": start + timedelta(days=1), "1 week": start + timedelta(weeks=1)}


# -- tickets -----------------------------------------------------------------------------------

def tickets(status: str = "", limit: int = TICKETS_PAGE_SIZE, *, priority=None):
    """Tickets oldest first (the longest waiting on top); open and pending when no status;
    `priority` (Priority) filters and sorts by the customers' value tier and churn risk."""
    statuses = [status] if status in TICKET_STATUSES else ["open", "pending"]
    query = (
        select(Ticket)
        .options(joinedload(Ticket.customer), joinedload(Ticket.assignee))
        .where(Ticket.status.in_(statuses))
    )
    query = prioritised(query, Ticket.customer_id, priority, (Ticket.opened_at, Ticket.id))
    return db.session.scalars(query.limit(limit)).all()


def get_ticket(ticket_id: int, *, customer=None) -> Ticket | None:
    """A ticket; with `customer`, only one of that customer's."""
    query = (select(Ticket).options(joinedload(Ticket.customer), joinedload(Ticket.assignee))
             .where(Ticket.id == ticket_id))
    if customer is not None:
        query = query.where(Ticket.customer_id == customer.id)
    return db.session.scalar(query)


def thread(ticket: Ticket):
    """The ticket's messages, oldest first."""
    return db.session.scalars(
        select(Interaction)
        .options(joinedload(Interaction.contact), joinedload(Interaction.logged_by))
        .where(Interaction.ticket_id == ticket.id, Interaction.deleted_at.is_(None))
        .order_by(Interaction.occurred_at, Interaction.id)
    ).all()


def update_ticket(ticket: Ticket, data: dict, *, expected_version: int, actor):
    """Change status or assignee unless someone saved in between; returns changed fields."""
    if ticket.version != expected_version:
        raise ConflictError(ticket)
    if data.get("assignee_id") and data["assignee_id"] != ticket.assignee_id \
            and data["assignee_id"] not in {u.id for u in assignable_staff()}:
        raise InteractionError("Tickets can only be assigned to active staff who log calls.")
    changed = [k for k in ("status", "assignee_id") if getattr(ticket, k) != data.get(k)]
    if not changed:
        return []
    for name in changed:
        setattr(ticket, name, data.get(name))
    if "status" in changed:
        ticket.resolved_at = utcnow() if ticket.status == "resolved" else None
    save_versioned(lambda: get_ticket(ticket.id))
    record("update", "ticket", ticket.id, actor=actor, fields=changed)
    return changed


# -- emails from files -------------------------------------------------------------------------

def log_email(customer, parsed, *, actor) -> Interaction:
    """An email interaction from a parsed .eml; the sender matched to a contact by blind index.

    The sender is matched among this customer's contacts; a known sender makes it inbound,
    anyone else (usually our own staff) outbound.
    """
    linked = {link.contact_id for link in customer.contact_links}
    matches = db.session.scalars(
        select(ContactEmail.contact_id).where(ContactEmail.email_bidx == email_index(parsed.sender))
    ).all()
    contact_id = next((c for c in matches if c in linked), None)
    attachments = ("\n\nAttachments not kept: " + ", ".join(parsed.attachments)
                   if parsed.attachments else "")
    data = {
        "channel": "email",
        "direction": "inbound" if contact_id else "outbound",
        "contact_id": contact_id,
        "subject": parsed.subject or None,
        "body": ((parsed.text or "") + attachments).strip()[:20000] or None,
        "occurred_at": (parsed.sent_at or utcnow()).replace(microsecond=0),
        "visibility": "internal",
        "sender": (f"{parsed.sender_name} <{parsed.sender}>" if parsed.sender_name
                   else parsed.sender)[:400],
        "recipients": ", ".join(parsed.recipients)[:4000] or None,
    }
    return log_interaction(customer, data, actor=actor)
