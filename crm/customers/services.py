"""Customer records: listing, search, create, update with conflict detection, archive, and
the rule every feature applies before changing anything of a customer (not when archived)."""
import dataclasses
import re
from functools import cache, lru_cache

from sqlalchemy import bindparam, func, select, union
from sqlalchemy.orm import defer, joinedload

from crm.audit.services import found, record, record_many, survivor_of
from crm.auth.models import StaffUser
from crm.common import (
    ConflictError,
    batches,
    expire_loaded,
    insert_rows,
    load,
    parse_id,
    save_versioned,
    utcnow,
)
from crm.customers.models import (
    DEFAULT_PRICING_TIER,
    KINDS,
    STATUSES,
    Address,
    Customer,
)
from crm.extensions import db
from crm.features import registry
from crm.normalise import clean_text
from crm.security.blind_index import can_shorten, has_prefixes, query_tokens
from crm.security.permissions import can
from crm.security.search import add_name_tokens, index_name, name_condition, name_params

EDITABLE_FIELDS = ("name", "kind", "status", "pricing_tier", "owner_id", "parent_id", "notes")

SORTS = {
    "number": (Customer.id.asc(),),
    "-number": (Customer.id.desc(),),
    "updated": (Customer.updated_at.desc(), Customer.id.desc()),
    "kind": (Customer.kind.asc(), Customer.id.asc()),
    "status": (Customer.status.asc(), Customer.id.asc()),
}
NUMBER_RE = re.compile(r"^(?:cust-?)?0*([0-9]{1,9})$", re.IGNORECASE)  # ASCII digits only


class ArchivedError(Exception):
    """The customer is archived: nothing of it changes until it is restored."""

    def __init__(self, customer):
        super().__init__(f"{customer.number} is archived; restore it to change it.")
        self.customer = customer


def ensure_editable(customer: Customer):
    """The one archived-customer rule: every service that changes a customer or anything of
    it (contacts, addresses, preferences, interactions) calls this first."""
    if customer.is_archived:
        raise ArchivedError(customer)


def find_by_number(number: str) -> Customer | None:
    match = NUMBER_RE.match((number or "").strip())
    if not match:
        return None
    return db.session.get(Customer, current_id(int(match[1])))


def current_id(customer_id: int) -> int:
    """The id itself, or the customer it was merged into (a merged-away number still works)."""
    return survivor_of("customer", customer_id) or customer_id


def search_customers(
    q: str = "", kind: str = "", status: str = "", archived: bool = False,
    sort: str = "number", page: int = 1, per_page: int = 50, *, user=None,
    shorter: bool = False, feature_filters: dict | None = None,
):
    """One page of customers and whether there is a next page (no COUNT over the table).

    What was typed is a customer number, else what a feature recognises (an email, a phone
    number: crm.features.CustomerFinder.exact), else words: customers whose name has every
    typed word prefix, together with those whose tokens kept by features have them
    (CustomerFinder.tokens: their people's names).
    `user` limits the features' part to what their role may search (None: a job or command,
    everything); `shorter` is the typo allowance (crm.security.blind_index.typed_prefixes).
    `feature_filters` {param: value}: the features' list filters (crm.features.ListFilter),
    each applied as `Customer.id IN (its select)`; ValueError (its message) for a value that
    cannot be used (an unknown or deleted tag).
    """
    statement, params = _prepared(q, kind, status, archived, sort, user=user, shorter=shorter,
                                  feature_filters=feature_filters)
    params.update({"offset": (page - 1) * per_page, "limit": per_page + 1,
                   "source_limit": page * per_page + 1})
    rows = db.session.scalars(statement, params).all()
    return rows[:per_page], len(rows) > per_page


def matching_ids(q: str = "", kind: str = "", status: str = "", archived: bool = False, *,
                 limit: int, user=None, feature_filters: dict | None = None, **_) -> list[int]:
    """The ids of the first `limit` + 1 customers the list shows for this search and these
    filters (in number order), in one query: + 1 tells the caller there are more."""
    statement, params = _prepared(q, kind, status, archived, "number", user=user, ids=True,
                                  feature_filters=feature_filters)
    params.update({"offset": 0, "limit": limit + 1, "source_limit": limit + 1})
    return list(db.session.scalars(statement, params))


def count_customers(q: str = "", kind: str = "", status: str = "", archived: bool = False, *,
                    user=None, feature_filters: dict | None = None, **_) -> int:
    """How many customers the list has for this search and these filters, in one query."""
    statement, params = _prepared(q, kind, status, archived, "number", user=user, ids=True,
                                  feature_filters=feature_filters)
    everything = 2**62  # no limit: a bound number, so the statement's shape is the list's
    params.update({"offset": 0, "limit": everything, "source_limit": everything})
    counted = select(func.count()).select_from(statement.order_by(None).subquery())
    return db.session.scalar(counted, params)


def feature_conditions(feature_filters: dict | None, user=None) -> tuple:
    """The selects of customer ids of the features' list filters given (those the user's role
    may use; None: a job or command, all of them), in the declared order; ValueError with the
    filter's message when a value cannot be used."""
    conditions = []
    for declared in registry().list_filters:
        raw = (feature_filters or {}).get(declared.param)
        if not raw or (user is not None and not can(user, declared.permission)):
            continue
        value = parse_id(str(raw))
        if value is None:
            raise ValueError(f"That {declared.label.lower()} is not one of the choices; "
                             f"choose another.")
        conditions.append(load(declared.condition)(value, user))
    return tuple(conditions)


def _prepared(q, kind, status, archived, sort, *, user, shorter=False, ids=False,
              feature_filters=None):
    """The list's statement for this search (cached by shape unless a feature's filter adds
    its select, built per request) and its parameters (but offset, limit, source_limit)."""
    sort = sort if sort in SORTS else "number"
    q = clean_text(q)
    how, found = _interpret(q, user)
    conditions = feature_conditions(feature_filters, user)
    build = _build if conditions or ids else _statement
    extra = {"conditions": conditions, "ids": ids} if build is _build else {}
    params = {"kind": kind, "status": status}
    if how == "words":
        tokens = name_params(q, shorter=shorter)
        params.update(tokens)
        entity_types = ("customer", *(f.tokens for f in _finders(user, "tokens")))
        statement = build("words", bool(kind), bool(status), archived, sort,
                          len(tokens), entity_types, **extra)
    else:
        statement = build("number" if how == "number" else None, bool(kind),
                          bool(status), archived, sort, **extra)
        if how == "number":
            params["customer_id"] = found
        elif how == "exact":
            statement = statement.where(Customer.id.in_(found))
    return statement, params


@lru_cache(maxsize=512)
def _statement(how: str | None, kind: bool, status: bool, archived: bool, sort: str,
               words: int = 0, entity_types: tuple = ()):
    """The list's select for one shape of search (which filters, the sort, how many typed
    words, whose tokens), built once: every value is a bound parameter (kind, status,
    customer_id, token_0…, offset, limit, source_limit), so SQLAlchemy also works out its
    cache key once, not on every request."""
    return _build(how, kind, status, archived, sort, words, entity_types)


def _build(how: str | None, kind: bool, status: bool, archived: bool, sort: str,
           words: int = 0, entity_types: tuple = (), *, conditions: tuple = (),
           ids: bool = False):
    """_statement's select; with `conditions` (the features' list filters' conditions on
    Customer) applied to every source (so a token walk that stops early still finds the
    filtered customers), and with `ids` selecting the customers' ids alone."""
    def filtered():
        query = select(Customer.id if ids else Customer).where(
            Customer.archived_at.is_not(None) if archived else Customer.archived_at.is_(None))
        if kind:
            query = query.where(Customer.kind == bindparam("kind"))
        if status:
            query = query.where(Customer.status == bindparam("status"))
        for condition in conditions:
            query = query.where(condition)
        return query

    query, order = filtered(), SORTS[sort]
    if how == "number":
        query = query.where(Customer.id == bindparam("customer_id"))
    elif how == "words":
        sources = []
        for entity_type in entity_types:
            # the customer's own name, then what features keep for it (its people's names)
            tokens, condition = name_condition(entity_type, words)
            source = query.join(tokens, tokens.entity_id == Customer.id).where(condition)
            if sort in ("number", "-number"):  # walk the token index in id order, stop early
                sources.append((source, (tokens.entity_id.desc() if sort == "-number"
                                         else tokens.entity_id,)))
            else:
                sources.append((source, order))
        if len(sources) == 1:
            query, order = sources[0]
        else:
            # Each source's first rows in the list's order, then the page from their union:
            # one statement, and every token walk still stops early. (The typed words' tokens
            # are the same whatever the entity type, so one set of params binds them all.)
            ids_found = union(*(select(source.with_only_columns(Customer.id).order_by(*by)
                                       .limit(bindparam("source_limit")).subquery().c.id)
                                for source, by in sources))
            query = filtered().where(Customer.id.in_(ids_found))
    if not ids:  # Only what the list shows is decrypted: no notes, of the owner only the name.
        query = query.options(
            defer(Customer.notes),
            joinedload(Customer.owner).load_only(StaffUser.id, StaffUser.name,
                                                 StaffUser.active))
    return query.order_by(*order).offset(bindparam("offset")).limit(bindparam("limit"))


def _finders(user, part: str):
    """The features' customer finders that have `part` and that the user's role may use."""
    return [finder for finder in registry().customer_finders if getattr(finder, part)
            and (user is None or can(user, finder.permission))]


def _interpret(q: str, user):
    """How the customer search reads what was typed: ("number", customer id), ("exact", a
    select of customer ids from the first feature that recognises it, e.g. an email),
    ("words", None), or (None, None) when nothing can match."""
    if not q:
        return None, None
    match = NUMBER_RE.match(q)
    if match:
        return "number", current_id(int(match[1]))
    for finder in _finders(user, "exact"):
        found = load(finder.exact)(q)
        if found is not None:
            return "exact", found
    return ("words", None) if query_tokens(q) else (None, None)


@dataclasses.dataclass
class CustomerSearch:
    """A page of the customer list's search, as the list shows it."""

    customers: list
    has_next: bool
    close: bool = False  # nothing matched as typed: these match one letter shorter
    # {customer id: why it matched}, for those found not by their own name or number
    why: dict = dataclasses.field(default_factory=dict)
    problem: str | None = None  # a feature's filter could not be used: why (nothing listed)


def find_customers(q: str = "", *, user=None, page: int = 1, per_page: int = 50,
                   **filters) -> CustomerSearch:
    """search_customers() for the list: when words match nothing, the typo allowance (each
    word of 4+ letters one letter shorter); and why each customer matched when it was not by
    its own name or number (the features' CustomerFinder.why, a query each for the page)."""
    q = clean_text(q)
    try:
        rows, more = search_customers(q, **filters, page=page, per_page=per_page, user=user)
    except ValueError as exc:  # a feature's filter value (a deleted tag): say so, list none
        return CustomerSearch([], False, problem=str(exc))
    close = False
    if (not rows and can_shorten(q) and _interpret(q, user)[0] == "words"
            and (page == 1 or not search_customers(q, **filters, per_page=1, user=user)[0])):
        rows, more = search_customers(q, **filters, page=page, per_page=per_page, user=user,
                                      shorter=True)
        close = bool(rows)
    return CustomerSearch(rows, more, close, match_reasons(q, rows, user=user, shorter=close))


def match_reasons(q: str, customers: list, *, user=None, shorter: bool = False) -> dict:
    """{customer id: why it matched} for the customers of a page that did not match by their
    own name or number: asked of the features that found them (a query each, at most)."""
    how, _ = _interpret(clean_text(q), user)
    if how not in ("exact", "words"):
        return {}
    others = [c.id for c in customers
              if how == "exact" or not has_prefixes(c.name, q, shorter=shorter)]
    why = {}
    for finder in _finders(user, "why") if others else ():
        for customer_id, text in load(finder.why)(q, others, shorter=shorter).items():
            why.setdefault(customer_id, text)
    return why


def list_filters(source) -> dict:
    """The customer list's filters from a query string or a form, unknown values dropped (the
    list and its CSV export read the same). `feature_filters` {param: value as sent}: the
    features' filters (crm.features.ListFilter) that were given; their values are checked
    when the list is read (feature_conditions)."""
    return {
        "kind": source.get("kind", "") if source.get("kind") in KINDS else "",
        "status": source.get("status", "") if source.get("status") in STATUSES else "",
        "archived": source.get("archived") == "1",
        "sort": source.get("sort") if source.get("sort") in SORTS else "number",
        "feature_filters": {f.param: source.get(f.param, "")[:20]
                            for f in registry().list_filters if source.get(f.param)},
    }


def list_args(filters: dict) -> dict:
    """The query-string arguments that give these filters (empty ones left out): for the
    list's URLs and its export's."""
    return {"kind": filters["kind"] or None, "status": filters["status"] or None,
            "archived": "1" if filters["archived"] else None,
            "sort": None if filters["sort"] == "number" else filters["sort"],
            **filters.get("feature_filters", {})}


def searchable(q: str, user=None) -> bool:
    """Whether a typed search can match: a number, an email or phone number (what a feature
    recognises), or a word of 2+ letters."""
    return _interpret(clean_text(q), user)[0] is not None


def get_customer(customer_id: int, *, overview: bool = True, load=()) -> Customer | None:
    """A customer with what its page shows, in fixed queries: always the header (owner,
    parent); with `overview` its addresses and locations; `load`: more loader options from
    the feature showing it (e.g. crm.contacts.services.with_contacts())."""
    if not load:
        statement = _customer_page(overview)
    else:
        options = [joinedload(Customer.owner), joinedload(Customer.parent), *load]
        if overview:
            options += _overview()
        statement = select(Customer).where(Customer.id == bindparam("id")).options(*options)
    return db.session.scalars(statement, {"id": customer_id}).unique().one_or_none()


def _overview():
    """The Overview's locations and addresses, joined into the customer's own statement (a
    customer has a few of each: rows = locations x addresses); with selectinload they took two
    more statements and twice the time."""
    return (joinedload(Customer.locations).load_only(Customer.id, Customer.name),
            joinedload(Customer.addresses))


@cache  # two statements, built on first use (once every model is mapped)
def _customer_page(overview: bool):
    """get_customer's statement when the caller adds no loader options: built once, its cache
    key too (building both was a third of the customer page's time)."""
    return select(Customer).where(Customer.id == bindparam("id")).options(
        joinedload(Customer.owner), joinedload(Customer.parent),
        *(_overview() if overview else ()))


def customer_or_404(customer_id: int, **options) -> Customer:
    """get_customer() for a page: 404 when unknown; RecordMoved (a redirect to the same page
    of the survivor) when it was merged into another."""
    return found(get_customer(customer_id, **options), "customer", customer_id)


def create_customer(data: dict, *, address: dict | None, actor) -> Customer:
    """A new customer with its delivery address (caller commits): create_customers() for one.
    Its primary contact comes from crm.contacts.services.new_customer."""
    [customer_id] = create_customers([{**data, "address": address}], actor=actor)
    return db.session.get(Customer, customer_id)


def create_customers(customers: list[dict], *, actor) -> list[int]:
    """New customers, each a dict of EDITABLE_FIELDS with its delivery address (or None) under
    "address", in a few statements however many there are: the customers, their name-search
    tokens, their addresses and an audit event for each (the fields given). Returns their ids
    in the order given (caller commits). The forms' create_customer is a call of this for one;
    people come from crm.contacts.services (new_customer, add_contacts)."""
    rows = [{k: item.get(k) for k in EDITABLE_FIELDS} for item in customers]
    for row in rows:  # not given (a form that does not show it): the column's default
        row["pricing_tier"] = row["pricing_tier"] or DEFAULT_PRICING_TIER
    ids = insert_rows(Customer, rows)
    add_name_tokens("customer", {customer_id: row["name"] for customer_id, row in zip(ids, rows)})
    record_many("create", "customer", [
        (customer_id, [k for k in EDITABLE_FIELDS if row[k] is not None])
        for customer_id, row in zip(ids, rows)], actor=actor)
    _add_delivery_addresses([(customer_id, item["address"])
                             for customer_id, item in zip(ids, customers) if item.get("address")],
                            actor=actor)
    return ids


def add_delivery_address(customer: Customer, address: dict, *, actor) -> Address:
    """The new customer's delivery address (caller commits)."""
    [address_id] = _add_delivery_addresses([(customer.id, address)], actor=actor)
    expire_loaded(customer, "addresses")
    return db.session.get(Address, address_id)


def _add_delivery_addresses(addresses: list[tuple[int, dict]], *, actor) -> list[int]:
    """Delivery addresses, (customer id, address fields) each, with their audit events."""
    ids = insert_rows(Address, [{**address, "customer_id": customer_id, "kind": "delivery"}
                                for customer_id, address in addresses])
    record_many("create", "address", [
        (address_id, [k for k, v in address.items() if v])
        for address_id, (_, address) in zip(ids, addresses)], actor=actor)
    return ids


def ensure_all_editable(customers) -> None:
    """ensure_editable() for many customers at once: Customer objects as they are, ids (of
    customers not loaded) in one query per 500."""
    ids = []
    for customer in customers:
        if isinstance(customer, Customer):
            ensure_editable(customer)
        else:
            ids.append(customer)
    for chunk in batches(sorted(set(ids)), 500):
        archived = db.session.scalar(select(Customer).where(
            Customer.id.in_(chunk), Customer.archived_at.is_not(None)).limit(1))
        if archived is not None:
            raise ArchivedError(archived)


def update_customer(customer: Customer, data: dict, *, expected_version: int, actor) -> list[str]:
    """Apply changes if nobody saved in between; returns the changed field names.

    ConflictError when the record moved on since the editor loaded version `expected_version`.
    The caller commits.
    """
    ensure_editable(customer)
    if customer.version != expected_version:
        raise ConflictError(customer)
    changed = [k for k in EDITABLE_FIELDS if k in data and getattr(customer, k) != data[k]]
    if not changed:
        return []
    for field in changed:
        setattr(customer, field, data[field])
    save_versioned(lambda: db.session.get(Customer, customer.id))
    if "name" in changed:
        index_name("customer", customer.id, data["name"])
    record("update", "customer", customer.id, actor=actor, fields=changed)
    return changed


def set_archived(customer: Customer, archived: bool, *, actor):
    """Archive or restore (caller commits)."""
    if customer.is_archived == archived:
        return False
    customer.archived_at = utcnow() if archived else None
    record("archive" if archived else "restore", "customer", customer.id, actor=actor,
           fields=["archived_at"])
    return True


ADDRESS_FIELDS = ("kind", "street", "street2", "city", "region", "postal_code", "country",
                  "delivery_instructions")


def get_address(customer: Customer, address_id: int) -> Address | None:
    """One of the customer's addresses (never another customer's)."""
    return db.session.scalar(select(Address).where(Address.customer_id == customer.id,
                                                   Address.id == address_id))


def add_address(customer: Customer, data: dict, *, actor) -> Address:
    """A new address for the customer (caller commits)."""
    ensure_editable(customer)
    place = Address(customer=customer, **{k: data.get(k) for k in ADDRESS_FIELDS})
    db.session.add(place)
    db.session.flush()
    record("create", "address", place.id, actor=actor, fields=[k for k, v in data.items() if v])
    return place


def update_address(place: Address, data: dict, *, expected_version: int, actor) -> list[str]:
    """Save an address edit if nobody saved in between (ConflictError otherwise)."""
    ensure_editable(place.customer)
    if place.version != expected_version:
        raise ConflictError(place)
    changed = [k for k in ADDRESS_FIELDS if k in data and getattr(place, k) != data[k]]
    for field in changed:
        setattr(place, field, data[field])
    save_versioned(lambda: db.session.get(Address, place.id))
    if changed:
        record("update", "address", place.id, actor=actor, fields=changed)
    return changed


def remove_address(place: Address, *, actor):
    ensure_editable(place.customer)
    record("delete", "address", place.id, actor=actor, fields=[])
    db.session.delete(place)
