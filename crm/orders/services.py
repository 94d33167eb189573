"""Prices and orders. Every path that raises what a customer owes asks
crm.credit.services.check_credit in the same transaction as the write: confirming, changing a
confirmed order's lines, confirming a reopened or duplicated order, the bulk order job. A
delivered order can always be invoiced (the goods are gone)."""
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import selectinload

from crm.audit.services import record
from crm.catalogue.models import Product
from crm.common import ConflictError, farm_today, utcnow
from crm.credit import services as credit
from crm.credit.services import CreditBlocked, Decision
from crm.customers.models import PRICING_TIERS, Customer
from crm.customers.services import ArchivedError
from crm.extensions import db
from crm.orders.models import OPEN_STATUSES, Order, OrderLine, Price
from crm.preferences.models import DeliveryPause, DeliveryPlan, StandingItem


class OrderError(ValueError):
    """An order change that cannot be made as asked; the message says why."""


# -- prices ---------------------------------------------------------------------------------

def _current_prices(at: datetime | None = None, *, tier=None, product_ids=None):
    """(product id, size, tier, amount) of the price rows in effect at `at` (now): the newest
    per product, size and tier (of one tier, of some products, when asked)."""
    newest = select(Price.product_id, Price.size, Price.tier,
                    func.max(Price.valid_from).label("valid_from"))
    if at is not None:
        newest = newest.where(Price.valid_from <= at)
    if tier is not None:
        newest = newest.where(Price.tier == tier)
    if product_ids is not None:
        newest = newest.where(Price.product_id.in_(list(product_ids)))
    newest = newest.group_by(Price.product_id, Price.size, Price.tier).subquery()
    return (select(Price.product_id, Price.size, Price.tier, Price.amount)
            .join(newest, (Price.product_id == newest.c.product_id)
                  & (Price.size == newest.c.size) & (Price.tier == newest.c.tier)
                  & (Price.valid_from == newest.c.valid_from)))


def price_list(at: datetime | None = None, **only) -> dict[tuple[int, str, str], int]:
    """{(product id, size, tier): minor units} as the list stood at `at` (default: now);
    a size a tier is not sold is left out. `only`: tier=, product_ids= narrow what is read."""
    return {(product_id, size, tier): amount for product_id, size, tier, amount
            in db.session.execute(_current_prices(at, **only)) if amount is not None}


def last_price_change() -> Price | None:
    """The newest row of the price list (when it was last changed, and by whom), or None."""
    return db.session.scalar(select(Price).order_by(Price.valid_from.desc(), Price.id.desc())
                             .limit(1))


def price_list_mark() -> int:
    """What the price list was as a form loaded it (its rows only ever grow): a save from a
    form that saw fewer rows would overwrite someone else's change (ConflictError)."""
    return db.session.scalar(select(func.count()).select_from(Price))


def set_prices(changes: dict[tuple[int, str, str], int | None], *, actor,
               seen: int | None = None) -> int:
    """Change prices: {(product id, size, tier): minor units or None (not sold)}. Each change
    is a new row from now on; orders created before keep the prices of their day. Returns
    how many changed. `seen` (price_list_mark as the form loaded it): the list changed since
    is a ConflictError holding the mark as it is now."""
    if seen is not None and seen != (mark := price_list_mark()):
        raise ConflictError(mark)
    now = utcnow()
    current = price_list()
    products = {p.id: p for p in db.session.scalars(select(Product))}
    changed = 0
    for (product_id, size, tier), amount in changes.items():
        product = products.get(product_id)
        if product is None or size not in product.size_list or tier not in PRICING_TIERS:
            raise OrderError("That product, size or tier is not in the catalogue.")
        if amount is not None and amount < 0:
            raise OrderError(f"{product.name} {size}: a price cannot be negative.")
        if current.get((product_id, size, tier)) == amount:
            continue
        db.session.add(Price(product_id=product_id, size=size, tier=tier, amount=amount,
                             valid_from=now, set_by_kind=actor.kind, set_by_id=actor.id))
        changed += 1
    if changed:
        record("update", "price_list", None, actor=actor, fields=["prices"])
    return changed


# -- orders ---------------------------------------------------------------------------------

def open_orders_total(customer_ids) -> int:
    """Confirmed and delivered orders not invoiced yet, at their frozen prices (the credit
    limit counts them: crm.features.Feature.owed_soon)."""
    return db.session.scalar(_open_orders_total(), {"ids": list(customer_ids)})


@cache
def _open_orders_total():
    """open_orders_total's statement, built once (the customers a bound parameter)."""
    return (select(func.coalesce(func.sum(OrderLine.quantity * OrderLine.unit_price), 0))
            .join(Order, Order.id == OrderLine.order_id)
            .where(Order.customer_id.in_(bindparam("ids", expanding=True)),
                   Order.status.in_(OPEN_STATUSES)))


def get_order(customer, order_id: int) -> Order | None:
    """One of the customer's orders (scoped: another customer's id finds nothing)."""
    return db.session.scalar(select(Order).where(Order.id == order_id,
                                                 Order.customer_id == customer.id)
                             .options(selectinload(Order.lines).joinedload(OrderLine.product)))


def customer_orders(customer_id: int, limit: int = 20) -> list[Order]:
    return db.session.scalars(
        select(Order).where(Order.customer_id == customer_id)
        .options(selectinload(Order.lines))
        .order_by(Order.delivery_date.desc(), Order.id.desc()).limit(limit)).all()


def next_delivery_date(customer, today: date | None = None, days: int = 14) -> date | None:
    """The customer's next delivery day after `today` within `days`, by its delivery plan and
    pauses (crm.preferences.schedule.delivers_on); None without a plan or a day in that time."""
    from crm.preferences.schedule import delivers_on

    today = today or farm_today()
    plan = db.session.get(DeliveryPlan, customer.id)
    if plan is None or not plan.weekdays:
        return None
    last = today + timedelta(days=days)
    pauses = db.session.execute(select(DeliveryPause.starts_on, DeliveryPause.ends_on).where(
        DeliveryPause.customer_id == customer.id, DeliveryPause.ends_on > today,
        DeliveryPause.starts_on <= last)).all()
    for n in range(1, days + 1):
        day = today + timedelta(days=n)
        paused = any(start <= day <= end for start, end in pauses)
        if delivers_on(plan, day, paused):
            return day
    return None


def has_standing_items(customer_id: int) -> bool:
    return db.session.scalar(select(StandingItem.id).where(
        StandingItem.customer_id == customer_id).limit(1)) is not None


def _editable(customer):
    if customer.is_archived:
        raise ArchivedError(customer)


@dataclass
class Line:
    product_id: int
    size: str
    quantity: int
    packaging_id: int | None = None


def _check_lines(lines: list[Line]):
    if not lines:
        raise OrderError("An order needs at least one line.")
    products = {p.id: p for p in db.session.scalars(
        select(Product).where(Product.id.in_([line.product_id for line in lines])))}
    for line in lines:
        product = products.get(line.product_id)
        if product is None:
            raise OrderError("That product is not in the catalogue.")
        if line.quantity is None or line.quantity <= 0:
            raise OrderError(f"{product.name}: the quantity must be at least 1.")
        if line.size not in product.size_list:
            raise OrderError(f"{product.name} does not come in {line.size}.")


def create_order(customer, delivery_date: date, lines: list[Line], *, actor) -> Order:
    """A draft order; priced when it is confirmed."""
    _editable(customer)
    _check_lines(lines)
    order = Order(customer_id=customer.id, delivery_date=delivery_date,
                  created_by_kind=actor.kind, created_by_id=actor.id,
                  lines=[OrderLine(product_id=line.product_id, size=line.size,
                                   quantity=line.quantity, packaging_id=line.packaging_id)
                         for line in lines])
    db.session.add(order)
    db.session.flush()
    record("create", "order", order.id, actor=actor, fields=["lines", "delivery_date"])
    return order


def from_standing_items(customer, delivery_date: date, *, actor) -> Order:
    """Next delivery's order from the customer's standing items, as a draft."""
    items = db.session.scalars(select(StandingItem).where(
        StandingItem.customer_id == customer.id).order_by(StandingItem.id)).all()
    if not items:
        raise OrderError("This customer has no standing items to order from.")
    return create_order(customer, delivery_date, [
        Line(i.product_id, i.size, i.quantity, i.packaging_id) for i in items], actor=actor)


def _price(order: Order) -> int:
    """Freeze each line's unit price from the list as it stood when the order was created;
    the order's total."""
    tier = order.customer.pricing_tier
    prices = price_list(order.created_at, tier=tier,
                        product_ids={line.product_id for line in order.lines})
    missing = []
    for line in order.lines:
        amount = prices.get((line.product_id, line.size, tier))
        if amount is None:
            missing.append(f"{line.product.name} {line.size}")
        line.unit_price = amount
    if missing:
        raise OrderError(f"No {PRICING_TIERS.get(tier, tier).lower()} price for "
                         f"{', '.join(missing)}: set it in the price list first.")
    return sum(line.amount for line in order.lines)


def _owed_more(order: Order, amount: int, *, actor, override: str | None = None) -> Decision:
    """Ask check_credit about `amount` more for the order's customer; a block refuses (the
    order stays as it was, the reasons kept on it) unless someone who may adjust credit
    overrides it with a reason."""
    decision = credit.check_credit(order.customer, amount)
    order.credit_reasons = [{"code": r.code, "words": r.words} for r in decision.reasons] or None
    if decision.blocked:
        if not (override or "").strip():
            raise CreditBlocked(decision)
        order.override_reason = override.strip()
        order.override_by_kind, order.override_by_id = actor.kind, actor.id
        record("override", "order", order.id, actor=actor, fields=["credit"])
    return decision


def confirm_order(order: Order, *, actor, version: int | None = None,
                  override: str | None = None) -> Decision:
    """Draft → confirmed: prices frozen, then check_credit in this transaction. Blocked, the
    order stays a draft with the reasons (CreditBlocked; the caller commits the reasons)."""
    _stale(order, version)
    _editable(order.customer)
    if order.status != "draft":
        raise OrderError(f"A {order.status_label.lower()} order cannot be confirmed.")
    total = _price(order)
    try:
        decision = _owed_more(order, total, actor=actor, override=override)
    except CreditBlocked:
        for line in order.lines:
            line.unit_price = None
        raise
    order.status, order.confirmed_at = "confirmed", utcnow()
    record("confirm", "order", order.id, actor=actor, fields=["status"])
    return decision


def change_lines(order: Order, lines: list[Line], *, actor, version: int | None = None,
                 override: str | None = None) -> Decision | None:
    """New lines for a draft, or for a confirmed order (priced again, and what it adds to
    what is owed checked like a confirmation)."""
    _stale(order, version)
    _editable(order.customer)
    if order.status not in ("draft", "confirmed"):
        raise OrderError(f"A {order.status_label.lower()} order cannot be changed.")
    _check_lines(lines)
    before = order.total or 0
    order.lines = [OrderLine(product_id=line.product_id, size=line.size, quantity=line.quantity,
                             packaging_id=line.packaging_id) for line in lines]
    db.session.flush()
    db.session.refresh(order, ["lines"])
    decision = None
    if order.status == "confirmed":
        total = _price(order)
        if total > before:
            decision = _owed_more(order, total - before, actor=actor, override=override)
    record("update", "order", order.id, actor=actor, fields=["lines"])
    return decision


def cancel_order(order: Order, *, actor, version: int | None = None):
    _stale(order, version)
    if order.status not in ("draft", "confirmed"):
        raise OrderError(f"A {order.status_label.lower()} order cannot be cancelled.")
    order.status, order.cancelled_at = "cancelled", utcnow()
    for line in order.lines:
        line.unit_price = None
    record("cancel", "order", order.id, actor=actor, fields=["status"])


def reopen_order(order: Order, *, actor, version: int | None = None):
    """A cancelled order back to a draft: confirming it again asks check_credit again."""
    _stale(order, version)
    _editable(order.customer)
    if order.status != "cancelled":
        raise OrderError("Only a cancelled order can be reopened.")
    order.status, order.cancelled_at, order.confirmed_at = "draft", None, None
    record("reopen", "order", order.id, actor=actor, fields=["status"])


def duplicate_order(order: Order, delivery_date: date, *, actor) -> Order:
    """The same lines for another date, as a draft (confirmed on its own, checked then)."""
    return create_order(order.customer, delivery_date, [
        Line(line.product_id, line.size, line.quantity, line.packaging_id)
        for line in order.lines], actor=actor)


def deliver_order(order: Order, *, actor, version: int | None = None):
    _stale(order, version)
    if order.status != "confirmed":
        raise OrderError("Only a confirmed order can be marked delivered.")
    order.status, order.delivered_at = "delivered", utcnow()
    record("deliver", "order", order.id, actor=actor, fields=["status"])


def invoice_order(order: Order, *, actor, issue_date: date | None = None):
    """A delivered order becomes its invoice; never blocked by credit: the goods are gone."""
    if order.status != "delivered":
        raise OrderError("Only a delivered order can be invoiced.")
    lines = [(f"{line.product.name} {line.size}", line.quantity, line.unit_price)
             for line in order.lines]
    invoice = credit.issue_invoice(order.customer, lines, actor=actor, order=order,
                                   issue_date=issue_date)
    order.status = "invoiced"
    record("invoice", "order", order.id, actor=actor, fields=["status"])
    return invoice


def _stale(order: Order, version: int | None):
    if version is not None and version != order.version:
        raise ConflictError(order)


# -- the bulk job ---------------------------------------------------------------------------

def orders_for_date(day: date, customer_ids: list[int], *, actor) -> dict:
    """For each customer (ids), the day's order from its standing items, confirmed when
    check_credit allows (or warns); a block leaves a draft with its reasons. A customer who
    already has an order that day, or no standing items, is skipped."""
    made = {"confirmed": [], "blocked": [], "skipped": []}
    existing = set(db.session.scalars(select(Order.customer_id).where(
        Order.delivery_date == day, Order.status != "cancelled",
        Order.customer_id.in_(customer_ids))))
    customers = {c.id: c for c in db.session.scalars(
        select(Customer).where(Customer.id.in_(customer_ids)))}
    for customer_id in customer_ids:
        customer = customers.get(customer_id)
        if customer is None or customer_id in existing or customer.is_archived:
            made["skipped"].append(customer_id)
            continue
        try:
            order = from_standing_items(customer, day, actor=actor)
        except OrderError:
            made["skipped"].append(customer_id)
            continue
        try:
            confirm_order(order, actor=actor)
            made["confirmed"].append(order.id)
        except (CreditBlocked, OrderError):
            made["blocked"].append(order.id)
    return made




def recheck_order(order: Order, *, actor) -> Decision:
    """Ask again, for a confirmed order, how its customer's account stands now (no amount
    more: its own total is already among the open orders). Blocked (on hold, over the limit,
    an invoice overdue), the order goes back to a draft with the reasons, its frozen prices
    cleared, as a refused confirmation leaves it; confirming it again asks again. An order
    confirmed past a block by someone who may adjust credit (an override) stays confirmed:
    that person decided it ships.

    check_credit(customer, 0) is credit_status's decision (the same rules, amount 0), taken
    under the credit account's lock, since the order is then written; it also raises the
    near- and over-limit alerts as every decision does (holds and overdue invoices have
    theirs when they happen)."""
    if order.status != "confirmed":
        raise OrderError(f"A {order.status_label.lower()} order is not re-checked.")
    decision = credit.check_credit(order.customer, 0)
    if decision.blocked and not order.override_reason:
        order.status, order.confirmed_at = "draft", None
        order.credit_reasons = [{"code": r.code, "words": r.words} for r in decision.reasons]
        for line in order.lines:
            line.unit_price = None
        record("unconfirm", "order", order.id, actor=actor, fields=["status", "credit"])
    return decision


def recheck_day(day: date, *, actor) -> dict:
    """The cut-off (ORDER_CUTOFF_HOUR, for tomorrow's orders): every confirmed order
    delivering on `day` re-checked (recheck_order), one at a time, so a customer over its
    limit by one order loses that one only. Returns the counts and the drafts' ids."""
    found = db.session.scalars(
        select(Order).where(Order.delivery_date == day, Order.status == "confirmed")
        .options(selectinload(Order.lines), selectinload(Order.customer))
        .order_by(Order.customer_id, Order.id.desc())).all()
    done = {"checked": len(found), "to_draft": [], "kept": 0, "overridden": 0}
    for order in found:
        decision = recheck_order(order, actor=actor)
        if order.status == "draft":
            done["to_draft"].append(order.id)
        elif decision.blocked:
            done["overridden"] += 1
        else:
            done["kept"] += 1
    return done


def orders_with_customers(order_ids) -> list[Order]:
    """Those orders (a job's result names them by id) with their customers, in id order."""
    if not order_ids:
        return []
    return db.session.scalars(select(Order).where(Order.id.in_(list(order_ids)))
                              .options(selectinload(Order.customer)).order_by(Order.id)).all()
