"""The rule engine of saved segments: a small tree of whitelisted fields and operators, checked
(`validate`), compiled to one SQL statement (`customer_ids`, `count`, `counts`) and able to say
why a customer matched (`explain`).

A tree is JSON:

    group = {"match": "all" | "any", "rules": [rule or group, ...]}
    rule  = {"field": key, "op": key, "value": ..., "days": n (window fields), "channel": key}

Nothing typed by a user ever becomes SQL: fields and operators are keys of FIELDS, values are
cleaned into ints, dates, short strings or lists of them and bound as parameters. Every rule is
an EXISTS / NOT EXISTS or a correlated scalar subquery on the customer row, combined with
and_/or_, so a segment is one statement on SQLite and PostgreSQL and is never stale.

Cities and postal codes are plain columns of `address` (street lines are encrypted and are not
offered). Money fields (revenue, balance) are only for viewers holding credit.amounts.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Select, and_, case, false, func, not_, or_, select, true

from crm.catalogue.models import Product, Route
from crm.common import MAX_ID, farm_today, farm_zone
from crm.communications.models import CHANNELS, Interaction
from crm.credit.models import CreditAccount, Invoice, LedgerEntry
from crm.customers.models import KINDS, PRICING_TIERS, STATUSES, Address, Customer
from crm.extensions import db
from crm.money import MAX_AMOUNT, MoneyError, format_money, parse_money
from crm.orders.models import Order
from crm.preferences.models import WEEKDAYS, DeliveryPlan, ProductPreference, StandingItem
from crm.segments.models import CHURN_RISKS, ENGAGEMENTS, CustomerCategory, CustomerTag, Tag

MAX_DEPTH = 4  # the top group and three levels of groups inside it
MAX_RULES = 30  # rules in a whole tree (groups not counted)
MAX_VALUES = 50  # values of one rule ("has any of" these tags)
MAX_DAYS = 36500
MAX_COUNT = 100000
TEXT_MAX = 40
COUNTED_ORDERS = ("confirmed", "delivered", "invoiced")  # drafts and cancelled ones are no order
MATCHES = {"all": "all of", "any": "any of"}


class RuleError(ValueError):
    """A tree that cannot be compiled; `problems` say where and why."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "invalid rules")


@dataclass(frozen=True)
class Problem:
    """What is wrong, and where: `path` is the node's position (1-based) from the top group,
    e.g. (2,) the second rule of the top group, (3, 1) the first rule of the group that is the
    third item of the top group; () is the top group itself."""

    path: tuple
    text: str
    group: bool = False  # the problem is the group's own (its match, empty, too deep)

    @property
    def key(self) -> str:
        """The node's name in the builder's form: "1" the top group, "1.3.1" ..."""
        return ".".join(["1", *map(str, self.path)])

    @property
    def where(self) -> str:
        if not self.path:
            return "The rules"
        if self.group:
            return f"Group {self.key}"
        group = ".".join(["1", *map(str, self.path[:-1])])
        return f"Rule {self.path[-1]} in group {group}"

    def __str__(self):
        return f"{self.where}: {self.text}"


@dataclass(frozen=True)
class Op:
    label: str
    value: str | None  # choices | count | days | date | money | text | None (no value)


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    group: str  # where the builder lists it
    ops: dict  # op key -> Op, the first the default
    choices: object = None  # () -> [(value, label)] for choices values
    entity: str | None = None  # the values are ids of: tag, route, staff, product
    param: str | None = None  # "days": a window (required); "channel": optional
    money: bool = False
    noun: str = ""  # "tag", "route": how explain names the values


def _fixed(mapping):
    return lambda: list(mapping.items())


def _tag_choices():
    return [(str(i), n) for i, n in db.session.execute(
        select(Tag.id, Tag.name).order_by(Tag.name_key))]


def _route_choices():
    return [(str(i), n) for i, n in db.session.execute(
        select(Route.id, Route.name).order_by(Route.name))]


def _product_choices():
    return [(str(i), n) for i, n in db.session.execute(
        select(Product.id, Product.name).order_by(Product.retired_at.is_not(None),
                                                  Product.name))]


def _staff_choices():
    from crm.auth.models import StaffUser

    users = db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True)))
    return sorted(((str(u.id), u.name) for u in users), key=lambda c: c[1].casefold())


IS = {"in": Op("is any of", "choices"), "not_in": Op("is none of", "choices")}
HAS = {"any": Op("has any of", "choices"), "none": Op("has none of", "choices")}
AGO = {"within": Op("in the last … days", "days"),
       "more_than": Op("more than … days ago, or never", "days"),
       "never": Op("never", None)}
AMOUNT = {"gte": Op("at least", "money"), "lte": Op("at most", "money")}
DAY_NAMES = {d: d for d in WEEKDAYS}

FIELDS: dict[str, Field] = {f.key: f for f in (
    Field("kind", "Kind", "Customer", IS, _fixed(KINDS), noun="kind"),
    Field("status", "Status", "Customer", IS, _fixed(STATUSES), noun="status"),
    Field("pricing_tier", "Pricing tier", "Customer", IS, _fixed(PRICING_TIERS),
          noun="pricing tier"),
    Field("owner", "Account owner", "Customer",
          {**IS, "none": Op("has no account owner", None)}, _staff_choices, "staff",
          noun="account owner"),
    Field("tags", "Tags", "Customer",
          {"any": Op("has any of", "choices"), "all": Op("has all of", "choices"),
           "none": Op("has none of", "choices")}, _tag_choices, "tag", noun="tag"),
    Field("created", "Created", "Customer",
          {"before": Op("before", "date"), "after": Op("after", "date"),
           "within": Op("in the last … days", "days")}),
    Field("city", "City (any address)", "Customer",
          {"is": Op("is", "text"), "is_not": Op("is not", "text")}),
    Field("postal_code", "Postal code (any address)", "Customer",
          {"is": Op("is", "text"), "starts": Op("starts with", "text")}),
    Field("route", "Route", "Delivery", {**IS, "none": Op("is on no route", None)},
          _route_choices, "route", noun="route"),
    Field("weekday", "Delivery weekday", "Delivery",
          {"any": Op("delivers on any of", "choices"),
           "none": Op("delivers on none of", "choices")}, _fixed(DAY_NAMES)),
    Field("liked", "Product liked", "Preferences", HAS, _product_choices, "product"),
    Field("disliked", "Product disliked", "Preferences", HAS, _product_choices, "product"),
    Field("standing", "Standing item", "Preferences", HAS, _product_choices, "product"),
    Field("last_order", "Last order", "Orders", AGO),
    Field("order_count", "Orders in the last … days", "Orders",
          {"gte": Op("at least", "count"), "lte": Op("at most", "count")}, param="days"),
    Field("ordered_product", "Ordered a product in the last … days", "Orders",
          {"any": Op("ordered any of", "choices"), "none": Op("ordered none of", "choices")},
          _product_choices, "product", param="days"),
    Field("revenue", "Revenue invoiced in the last … days", "Money", AMOUNT, param="days",
          money=True),
    Field("balance", "Balance owed", "Money", AMOUNT, money=True),
    Field("days_overdue", "Days overdue (oldest open invoice)", "Credit",
          {"gte": Op("at least … days", "days"), "none": Op("nothing overdue", None)}),
    Field("on_hold", "On credit hold", "Credit",
          {"yes": Op("is on hold", None), "no": Op("is not on hold", None)}),
    Field("last_interaction", "Last interaction", "Communications", AGO, param="channel"),
    Field("value_tier", "Value tier", "Computed category", IS,
          _fixed({"A": "A", "B": "B", "C": "C"}), noun="value tier"),
    Field("churn_risk", "Churn risk", "Computed category", IS, _fixed(CHURN_RISKS),
          noun="churn risk"),
    Field("engagement", "Engagement", "Computed category", IS, _fixed(ENGAGEMENTS),
          noun="engagement"),
)}


def fields_for(amounts: bool) -> list[Field]:
    """The fields a viewer may filter by: the money ones only with credit.amounts."""
    return [f for f in FIELDS.values() if amounts or not f.money]


def empty_tree() -> dict:
    return {"match": "all", "rules": []}


def uses_money(tree) -> bool:
    """Whether any rule of the tree filters by an amount."""
    if not isinstance(tree, dict):
        return False
    if "rules" in tree:
        return any(uses_money(node) for node in tree.get("rules") or [] if isinstance(node, dict))
    found = FIELDS.get(tree.get("field"))
    return bool(found and found.money)


# -- checking -----------------------------------------------------------------------------

def validate(tree, *, amounts: bool = True, existing: bool = True):
    """(clean tree, [Problem]). The clean tree has ints, ISO dates and stripped strings;
    a node with a problem is kept as typed so a form can show it again. `amounts`: whether
    money fields may be used; `existing`: also check that chosen tags, routes, owners and
    products still exist (one query per kind used)."""
    problems: list[Problem] = []
    counter = {"rules": 0}
    ids: dict[str, set] = {}
    if not isinstance(tree, dict) or "rules" not in tree:
        return empty_tree(), [Problem((), "they are not a group of rules.")]
    clean = _group(tree, (), 1, problems, counter, ids, amounts)
    if counter["rules"] > MAX_RULES:
        problems.append(Problem((), f"at most {MAX_RULES} rules (there are {counter['rules']})."))
    if existing and ids:
        _check_existing(clean, ids, problems)
    return clean, problems


def _group(node, path, depth, problems, counter, ids, amounts):
    match = node.get("match")
    if match not in MATCHES:
        problems.append(Problem(path, "choose all or any.", True))
        match = "all"
    rules = node.get("rules")
    if not isinstance(rules, list):
        problems.append(Problem(path, "the group holds no list of rules.", True))
        rules = []
    if path and not rules:
        problems.append(Problem(path, "this group has no rules; add one or remove the group.",
                                    True))
    out = []
    for i, child in enumerate(rules, 1):
        where = (*path, i)
        if isinstance(child, dict) and "rules" in child:
            if depth >= MAX_DEPTH:
                problems.append(Problem(where, f"groups go at most {MAX_DEPTH} levels deep.", True))
                out.append(child)
                continue
            out.append(_group(child, where, depth + 1, problems, counter, ids, amounts))
        else:
            counter["rules"] += 1
            out.append(_rule(child, where, problems, ids, amounts))
    return {"match": match, "rules": out}


def _rule(node, path, problems, ids, amounts):
    def bad(text):
        problems.append(Problem(path, text))
        return node if isinstance(node, dict) else {}

    if not isinstance(node, dict) or not node.get("field"):
        return bad("choose what to filter by (this rule is empty).")
    found = FIELDS.get(node["field"]) if isinstance(node["field"], str) else None
    if found is None:
        return bad(f"{str(node['field'])[:TEXT_MAX]!r} is not a field rules can use.")
    if found.money and not amounts:
        return bad(f"{found.label} is only for roles that see amounts.")
    op = found.ops.get(node.get("op")) if isinstance(node.get("op"), str) else None
    if op is None:
        return bad(f"choose how to compare {found.label.lower()}.")
    clean = {"field": found.key, "op": node["op"]}
    try:
        value = _value(found, op, node.get("value"))
        if value is not None:
            clean["value"] = value
        if found.param == "days":
            clean["days"] = _days(node.get("days"), "the window", minimum=1)
        elif found.param == "channel" and node.get("channel"):
            if node["channel"] not in CHANNELS:
                raise ValueError(f"{str(node['channel'])[:TEXT_MAX]!r} is not a channel.")
            clean["channel"] = node["channel"]
    except ValueError as exc:
        return bad(str(exc))
    if found.entity and "value" in clean:
        ids.setdefault(found.entity, set()).update(clean["value"])
    return clean


def _value(found: Field, op: Op, raw):
    kind = op.value
    if kind is None:
        return None
    if kind == "choices":
        values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        values = [str(v).strip() for v in values if str(v).strip()]
        if not values:
            raise ValueError("choose at least one.")
        if len(values) > MAX_VALUES:
            raise ValueError(f"choose at most {MAX_VALUES}.")
        if found.entity:
            out = []
            for v in values:
                if not (v.isascii() and v.isdigit()) or not 0 < int(v) <= MAX_ID:
                    raise ValueError(f"{v[:TEXT_MAX]!r} is not one of the choices.")
                out.append(int(v))
            return sorted(set(out))
        known = dict(found.choices())
        for v in values:
            if v not in known:
                raise ValueError(f"{v[:TEXT_MAX]!r} is not one of the choices.")
        return sorted(set(values), key=list(known).index)
    if kind == "days":
        return _days(raw, "", minimum=1 if found.key == "days_overdue" else 0)
    if kind == "count":
        text = str(raw if raw is not None else "").strip()
        if not (text.isascii() and text.isdigit()) or int(text) > MAX_COUNT:
            raise ValueError(f"{text[:TEXT_MAX]!r} is not a number of orders." if text
                             else "type a number of orders.")
        return int(text)
    if kind == "date":
        text = str(raw if raw is not None else "").strip()
        try:
            return date.fromisoformat(text).isoformat() if len(text) == 10 else _no_date(text)
        except ValueError:
            return _no_date(text)
    if kind == "money":
        try:
            amount = parse_money(str(raw if raw is not None else ""))
        except MoneyError as exc:
            raise ValueError(str(exc)) from None
        if abs(amount) > MAX_AMOUNT:
            raise ValueError("that amount is too large.")
        return amount
    text = " ".join(str(raw if raw is not None else "").split())
    if not text:
        raise ValueError(f"type a {found.label.split(' (')[0].lower()}.")
    if len(text) > TEXT_MAX:
        raise ValueError(f"at most {TEXT_MAX} characters.")
    return text


def _no_date(text):
    raise ValueError(f"{text[:TEXT_MAX]!r} is not a date; write it as YYYY-MM-DD." if text
                     else "choose a date.")


def _days(raw, what, minimum=0):
    text = str(raw if raw is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or not minimum <= int(text) <= MAX_DAYS:
        if not text:
            raise ValueError(f"type a number of days{' for ' + what if what else ''}.")
        raise ValueError(f"{text[:TEXT_MAX]!r} is not a number of days"
                         f"{' for ' + what if what else ''}"
                         f"{f' ({minimum} or more)' if minimum and text.isdigit() else ''}.")
    return int(text)


ENTITY_WORDS = {"tag": "tag", "route": "route", "staff": "account owner", "product": "product"}


def _check_existing(tree, ids, problems):
    there = {kind: set(names(kind, wanted)) for kind, wanted in ids.items()}

    def walk(node, path):
        for i, child in enumerate(node.get("rules", []), 1):
            where = (*path, i)
            if "rules" in child:
                walk(child, where)
                continue
            found = FIELDS.get(child.get("field"))
            if found and found.entity and isinstance(child.get("value"), list):
                gone = [v for v in child["value"] if v not in there[found.entity]]
                if gone:
                    word = ENTITY_WORDS[found.entity]
                    problems.append(Problem(where, (
                        f"a {word} chosen here no longer exists; choose again."
                        if len(gone) == 1 else
                        f"{len(gone)} {word}s chosen here no longer exist; choose again.")))

    walk(tree, ())


def names(kind: str, ids) -> dict[int, str]:
    """{id: name} of the tags, routes, staff or products among `ids` (one query)."""
    ids = list(ids)
    if not ids:
        return {}
    if kind == "staff":
        from crm.auth.models import StaffUser

        return {u.id: u.name for u in db.session.scalars(
            select(StaffUser).where(StaffUser.id.in_(ids)))}
    model = {"tag": Tag, "route": Route, "product": Product}[kind]
    return dict(db.session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


# -- compiling ----------------------------------------------------------------------------

@dataclass
class Context:
    """The day rules are read on (the farm's calendar) and how its days map to UTC."""

    today: date = field(default_factory=farm_today)

    def day_start(self, day: date) -> datetime:
        """The first moment of a farm day, in UTC (for datetime columns)."""
        return datetime.combine(day, time(0), farm_zone()).astimezone(timezone.utc)

    def days_ago(self, n: int) -> date:
        return self.today - timedelta(days=n)


def _exists(model, *where):
    return select(model.customer_id).where(model.customer_id == Customer.id, *where) \
        .correlate(Customer).exists()


def _counted_orders(*where):
    return _exists(Order, Order.status.in_(COUNTED_ORDERS), *where)


def _last_order(ctx):
    return (select(func.max(Order.delivery_date))
            .where(Order.customer_id == Customer.id, Order.status.in_(COUNTED_ORDERS),
                   Order.delivery_date <= ctx.today)
            .correlate(Customer).scalar_subquery())


def _order_count(rule, ctx):
    return (select(func.count(Order.id))
            .where(Order.customer_id == Customer.id, Order.status.in_(COUNTED_ORDERS),
                   Order.delivery_date > ctx.days_ago(rule["days"]),
                   Order.delivery_date <= ctx.today)
            .correlate(Customer).scalar_subquery())


def _revenue(rule, ctx):
    return func.coalesce(
        select(func.sum(Invoice.total))
        .where(Invoice.customer_id == Customer.id,
               Invoice.issue_date > ctx.days_ago(rule["days"]), Invoice.issue_date <= ctx.today)
        .correlate(Customer).scalar_subquery(), 0)


def _balance():
    return func.coalesce(
        select(func.sum(LedgerEntry.amount)).where(LedgerEntry.customer_id == Customer.id)
        .correlate(Customer).scalar_subquery(), 0)


def _open_invoice():
    """An invoice not fully settled (crm.credit.services.open_rows' rule, correlated)."""
    settled = (select(func.coalesce(func.sum(LedgerEntry.applied), 0))
               .where(LedgerEntry.invoice_id == Invoice.id, LedgerEntry.applied.is_not(None))
               .correlate(Invoice).scalar_subquery())
    return Invoice.total > settled


def _oldest_due():
    return (select(func.min(Invoice.due_date))
            .where(Invoice.customer_id == Customer.id, _open_invoice())
            .correlate(Customer).scalar_subquery())


def _interactions(rule, *where):
    channel = [Interaction.channel == rule["channel"]] if rule.get("channel") else []
    return (Interaction.customer_id == Customer.id, Interaction.deleted_at.is_(None),
            *channel, *where)


def _last_interaction(rule):
    return (select(func.max(Interaction.occurred_at)).where(*_interactions(rule))
            .correlate(Customer).scalar_subquery())


def _mask(days):
    return sum(1 << WEEKDAYS.index(d) for d in days)


def _category(column, values):
    return _exists(CustomerCategory, column.in_(values))


def _rule_sql(rule, ctx: Context):
    f, op, v = rule["field"], rule["op"], rule.get("value")
    negate = op in ("not_in", "none", "is_not", "no", "more_than", "never")
    if f in ("kind", "status", "pricing_tier"):
        column = getattr(Customer, f)
        return column.in_(v) if op == "in" else column.not_in(v)
    if f == "owner":
        if op == "none":
            return Customer.owner_id.is_(None)
        if op == "in":
            return Customer.owner_id.in_(v)
        return or_(Customer.owner_id.is_(None), Customer.owner_id.not_in(v))
    if f == "tags":
        if op == "all":
            return and_(*[_exists(CustomerTag, CustomerTag.tag_id == t) for t in v])
        clause = _exists(CustomerTag, CustomerTag.tag_id.in_(v))
    elif f == "created":
        if op == "before":
            return Customer.created_at < ctx.day_start(date.fromisoformat(v))
        if op == "after":
            return Customer.created_at >= ctx.day_start(date.fromisoformat(v) + timedelta(1))
        return Customer.created_at >= ctx.day_start(ctx.days_ago(v))
    elif f == "city":
        clause = _exists(Address, func.lower(Address.city) == func.lower(v))
    elif f == "postal_code":
        code = v.upper()
        clause = _exists(Address, func.upper(Address.postal_code) == code) if op == "is" else \
            _exists(Address, func.upper(Address.postal_code).startswith(code, autoescape=True))
    elif f == "route":
        if op == "none":
            return ~_exists(DeliveryPlan, DeliveryPlan.route_id.is_not(None))
        clause = _exists(DeliveryPlan, DeliveryPlan.route_id.in_(v))
    elif f == "weekday":
        clause = _exists(DeliveryPlan, DeliveryPlan.weekdays.op("&")(_mask(v)) != 0)
    elif f in ("liked", "disliked"):
        clause = _exists(ProductPreference, ProductPreference.product_id.in_(v),
                         ProductPreference.kind == ("like" if f == "liked" else "dislike"))
    elif f == "standing":
        clause = _exists(StandingItem, StandingItem.product_id.in_(v))
    elif f == "last_order":
        since = [Order.delivery_date > ctx.days_ago(v)] if op != "never" else []
        clause = _counted_orders(Order.delivery_date <= ctx.today, *since)
    elif f == "order_count":
        count = _order_count(rule, ctx)
        return count >= v if op == "gte" else count <= v
    elif f == "ordered_product":
        from crm.orders.models import OrderLine

        clause = _counted_orders(
            Order.delivery_date > ctx.days_ago(rule["days"]), Order.delivery_date <= ctx.today,
            select(OrderLine.id).where(OrderLine.order_id == Order.id,
                                       OrderLine.product_id.in_(v))
            .correlate(Order).exists())
    elif f == "revenue":
        amount = _revenue(rule, ctx)
        return amount >= v if op == "gte" else amount <= v
    elif f == "balance":
        return _balance() >= v if op == "gte" else _balance() <= v
    elif f == "days_overdue":
        limit = ctx.days_ago(v) if op == "gte" else ctx.today - timedelta(days=1)
        clause = _exists(Invoice, Invoice.due_date <= limit, _open_invoice())
    elif f == "on_hold":
        clause = _exists(CreditAccount, CreditAccount.hold.is_not(None))
    elif f == "last_interaction":
        since = ([Interaction.occurred_at >= ctx.day_start(ctx.days_ago(v))]
                 if op != "never" else [])
        clause = select(Interaction.id).where(*_interactions(rule, *since)) \
            .correlate(Customer).exists()
    elif f in ("value_tier", "churn_risk", "engagement"):
        clause = _category(getattr(CustomerCategory, f), v)
    else:  # validate() lets no other field through
        raise RuleError([Problem((), f"unknown field {f!r}")])
    return not_(clause) if negate else clause


# How dear each rule is to test for a customer (a group costs its dearest rule): the tests of a
# group are written cheapest first (SQLite tests them in that order and stops at the first
# that settles it), so the dear ones are reached by few customers.
COLUMN, PROBE, AGGREGATE = 0, 1, 2
COSTS = {"kind": COLUMN, "status": COLUMN, "pricing_tier": COLUMN, "owner": COLUMN,
         "created": COLUMN, "order_count": AGGREGATE, "revenue": AGGREGATE,
         "balance": AGGREGATE, "days_overdue": AGGREGATE, "ordered_product": AGGREGATE}


def _cost(node) -> int:
    if "rules" in node:
        return max((_cost(child) for child in node["rules"]), default=COLUMN)
    return COSTS.get(node["field"], PROBE)


def _node_sql(node, ctx):
    if "rules" in node:
        ordered = sorted(node["rules"], key=_cost)  # stable: rules of one cost keep their order
        parts = [_node_sql(child, ctx) for child in ordered]
        if not parts:
            return true()
        return and_(*parts) if node["match"] == "all" else or_(*parts)
    return _rule_sql(node, ctx)


def condition(tree, *, amounts: bool = True, ctx: Context | None = None):
    """The tree as one boolean SQL expression on the customer row. RuleError when it does
    not validate (its shape only: a tag deleted since just matches nobody)."""
    clean, problems = validate(tree, amounts=amounts, existing=False)
    if problems:
        raise RuleError(problems)
    return _node_sql(clean, ctx or Context())


def customer_ids(tree, *, amounts: bool = True, ctx: Context | None = None) -> Select:
    """A select of the ids of the (unarchived) customers the tree matches: one statement."""
    return select(Customer.id).where(Customer.archived_at.is_(None),
                                     condition(tree, amounts=amounts, ctx=ctx))


def count(tree, *, amounts: bool = True, ctx: Context | None = None) -> int:
    """How many unarchived customers the tree matches, in one statement."""
    return db.session.scalar(
        select(func.count()).select_from(Customer)
        .where(Customer.archived_at.is_(None), condition(tree, amounts=amounts, ctx=ctx)))


def counts(trees, *, amounts: bool = True, ctx: Context | None = None) -> list[int | None]:
    """The count of each tree in one statement (one pass over the customers); None for a tree
    that does not validate."""
    ctx = ctx or Context()
    columns, slots = [], []
    for tree in trees:
        try:
            cond = condition(tree, amounts=amounts, ctx=ctx)
        except RuleError:
            slots.append(None)
            continue
        slots.append(len(columns))
        columns.append(func.coalesce(func.sum(case((cond, 1), else_=0)), 0))
    if not columns:
        return slots
    row = db.session.execute(select(*columns).select_from(Customer)
                             .where(Customer.archived_at.is_(None))).one()
    return [None if s is None else int(row[s]) for s in slots]


def first_ids(tree, limit: int = 10, *, amounts: bool = True) -> list[int]:
    """The first `limit` matching customers, by number (one statement)."""
    return list(db.session.scalars(customer_ids(tree, amounts=amounts)
                                   .order_by(Customer.id).limit(limit)))


# -- explaining ---------------------------------------------------------------------------

def _leaves(node, path=()):
    if "rules" in node:
        for i, child in enumerate(node["rules"], 1):
            yield from _leaves(child, (*path, i))
    else:
        yield path, node


def _detail(rule, ctx):
    f = rule["field"]
    if f == "last_order":
        return _last_order(ctx)
    if f == "order_count":
        return _order_count(rule, ctx)
    if f == "revenue":
        return _revenue(rule, ctx)
    if f == "balance":
        return _balance()
    if f == "days_overdue":
        return _oldest_due()
    if f == "last_interaction":
        return _last_interaction(rule)
    if f == "created":
        return Customer.created_at
    return None


def explain(tree, customer_ids, *, amounts: bool = False,
            ctx: Context | None = None) -> dict[int, list[str]]:
    """{customer id: the rules it meets, in words} for a page of customers: one statement for
    the rules (each rule's truth and the figure it was judged on, per customer) and one per
    kind of name shown (tags, routes, owners, products). Amounts only with `amounts`."""
    ids = list(customer_ids)
    if not ids:
        return {}
    ctx = ctx or Context()
    clean, problems = validate(tree, amounts=True, existing=False)
    if problems:
        raise RuleError(problems)
    leaves = list(_leaves(clean))
    columns = []
    for _, rule in leaves:
        columns.append(case((_rule_sql(rule, ctx), 1), else_=0))
        detail = _detail(rule, ctx)
        columns.append(detail if detail is not None else false())
    wanted: dict[str, set] = {}
    for _, rule in leaves:
        found = FIELDS[rule["field"]]
        if found.entity and "value" in rule:
            wanted.setdefault(found.entity, set()).update(rule["value"])
    labels = {kind: names(kind, values) for kind, values in wanted.items()}
    out = {i: [] for i in ids}
    if not leaves:
        return {i: ["every customer (no rules yet)"] for i in ids}
    rows = db.session.execute(select(Customer.id, *columns).where(Customer.id.in_(ids)))
    for row in rows:
        for n, (_, rule) in enumerate(leaves):
            if row[1 + 2 * n]:
                out[row[0]].append(words(rule, labels, row[2 + 2 * n], amounts=amounts, ctx=ctx))
    return out


def _list(items, joiner="or"):
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {joiner} {items[-1]}"


def _ago(day: date | None, ctx: Context) -> str:
    if day is None:
        return "never"
    days = (ctx.today - day).days
    return "today" if days == 0 else "yesterday" if days == 1 else f"{days} days ago"


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def words(rule, labels=None, detail=None, *, amounts=False, ctx: Context | None = None) -> str:
    """One rule in words ("has tag Wholesale", "last order 45 days ago"); `detail` is the
    figure the customer was judged on (explain reads it), `labels` {entity: {id: name}}."""
    ctx = ctx or Context()
    labels = labels or {}
    found = FIELDS[rule["field"]]
    f, op, v = found.key, rule["op"], rule.get("value")
    if found.entity and isinstance(v, list):
        named = [labels.get(found.entity, {}).get(i, "(deleted)") for i in v]
    elif isinstance(v, list):
        known = dict(found.choices())
        named = [known.get(i, i) for i in v]
    else:
        named = []
    window = f"in the last {_plural(rule.get('days', 0), 'day')}"
    if f in ("kind", "status", "pricing_tier", "value_tier", "churn_risk", "engagement"):
        return f"{found.noun} is {'not ' if op == 'not_in' else ''}{_list(named)}"
    if f == "owner":
        if op == "none":
            return "has no account owner"
        return f"account owner is {'not ' if op == 'not_in' else ''}{_list(named)}"
    if f == "tags":
        noun = "tag" if len(named) == 1 else "tags"
        if op == "all":
            return f"has {noun} {_list(named, 'and')}"
        return f"has {'none of ' if op == 'none' else ''}{noun} {_list(named)}"
    if f == "created":
        on = detail.astimezone(farm_zone()).date().isoformat() if detail else ""
        return f"created on {on}" if on else "created " + found.ops[op].label
    if f == "city":
        return f"has {'no' if op == 'is_not' else 'an'} address in {v}"
    if f == "postal_code":
        return f"postal code {'starts with ' if op == 'starts' else ''}{v}"
    if f == "route":
        if op == "none":
            return "on no route"
        return f"{'not ' if op == 'not_in' else ''}on route {_list(named)}"
    if f == "weekday":
        return f"{'does not deliver' if op == 'none' else 'delivers'} on {_list(named)}"
    if f == "liked":
        return f"{'does not like' if op == 'none' else 'likes'} {_list(named)}"
    if f == "disliked":
        return f"{'does not dislike' if op == 'none' else 'dislikes'} {_list(named)}"
    if f == "standing":
        return f"{'has no standing item of' if op == 'none' else 'has a standing item of'} " \
               f"{_list(named)}"
    if f == "last_order":
        if detail is None:
            return "no order yet"
        return f"last order {_ago(detail, ctx)}"
    if f == "order_count":
        return f"{_plural(detail if detail is not None else v, 'order')} {window}"
    if f == "ordered_product":
        return f"{'has not ordered' if op == 'none' else 'ordered'} {_list(named)} {window}"
    if f == "revenue":
        shown = format_money(detail) if amounts and detail is not None else None
        return f"revenue {shown} {window}" if shown else \
            f"revenue {window} {found.ops[op].label} the amount set"
    if f == "balance":
        shown = format_money(detail) if amounts and detail is not None else None
        return f"balance {shown}" if shown else f"balance {found.ops[op].label} the amount set"
    if f == "days_overdue":
        if op == "none" or detail is None or detail >= ctx.today:
            return "nothing overdue"
        return f"oldest open invoice {_plural((ctx.today - detail).days, 'day')} overdue"
    if f == "on_hold":
        return "on credit hold" if op == "yes" else "not on credit hold"
    if f == "last_interaction":
        what = CHANNELS[rule["channel"]].lower() if rule.get("channel") else "interaction"
        if detail is None:
            return f"no {what} logged"
        return f"last {what} {_ago(detail.astimezone(farm_zone()).date(), ctx)}"
    return found.label
