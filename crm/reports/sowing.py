"""The sowing and packing plan: what to sow on which day so the next 7-14 days' deliveries are
met, and how many of each container to pack.

Demand, per delivery day in the window, is what the delivery sheets will pack
(crm.delivery.services.packed): a customer with a confirmed (or delivered) order that day gets
its order's lines, a customer delivering that day without one gets its standing items; who
delivers is crm.preferences.schedule's rule (weekdays, every other week, pauses, an active
customer on a route). A confirmed order whose customer has no stop that day is counted too
(the farm means to deliver it; the all-routes sheet lists it for the office to place).

Each line's size is turned into grams from its name ("2 oz", "1 lb", "250 g", "1 kg"); a size
naming a tray ("10x20 tray", "living tray") is one whole tray, i.e. the product's yield per
tray. A size with no weight in its name is not counted in trays and is reported.

Trays: per variety and delivery day, every customer's and size's grams are summed first and
rounded up once: trays = ceil(grams x (100 + loss %) / 100 / grams per tray). The sowing day is
the delivery day less the variety's days to harvest, so one variety's sowing day serves exactly
one delivery day; varieties for different delivery days that fall on the same sowing day are
listed together under that day, each with its own tray count. A sowing day before today is
flagged late (sow today or short the order). Exact arithmetic (fractions), so 440 g at 10 %
loss on 484 g trays is exactly 1 tray, not 2 from a float's 1.0000000001.

A fixed number of statements for any number of customers: plans, pauses, standing items,
order lines, products, packaging.
"""
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from fractions import Fraction

from sqlalchemy import select

from crm.catalogue.models import Packaging, Product
from crm.common import farm_today
from crm.customers.models import Customer
from crm.delivery.services import NO_PACKAGING, SHEET_ORDER_STATUSES, packed
from crm.extensions import db
from crm.orders.models import Order, OrderLine
from crm.preferences.models import DeliveryPlan, StandingItem
from crm.preferences.schedule import delivering_between, on_a_route

MIN_DAYS, MAX_DAYS = 7, 14
LATE = "late: sow today or short the order"
GRAMS_PER = {"g": Fraction(1), "kg": Fraction(1000), "oz": Fraction("28.349523125"),
             "lb": Fraction("453.59237"), "lbs": Fraction("453.59237")}
WEIGHT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(g|kg|oz|lbs?)\.?\s*$", re.IGNORECASE)
TRAY = re.compile(r"\btrays?\b", re.IGNORECASE)


class PlanError(ValueError):
    pass


def size_grams(size: str, tray_yield_g: int | None) -> Fraction | None:
    """The grams in one unit of `size`: "2 oz" 56.699…, "1 lb" 453.59…, "250 g", "1 kg"; a
    tray ("10x20 tray", "living tray") is a whole tray's yield. None when the name gives no
    weight (or a tray of a product without a yield)."""
    found = WEIGHT.match(size or "")
    if found:
        return Fraction(found.group(1)) * GRAMS_PER[found.group(2).lower()]
    if TRAY.search(size or ""):
        return Fraction(tray_yield_g) if tray_yield_g else None
    return None


NANO = 10**9  # the plan adds grams as whole nanograms: exact, and ints are fast


def _nanograms(size: str, tray_yield_g: int | None) -> int | None:
    grams = size_grams(size, tray_yield_g)
    return None if grams is None else round(grams * NANO)


def trays_for(grams: Fraction, loss_pct: int, tray_yield_g: int) -> int:
    """Trays to sow for `grams` of harvest with the loss allowance, rounded up."""
    return math.ceil(Fraction(grams) * (100 + loss_pct) / 100 / tray_yield_g)


def _trays(nanograms: int, loss_pct: int, tray_yield_g: int) -> int:
    """trays_for() in integers: ceil(ng × (100 + loss) / (100 × yield × 10^9))."""
    return -(-nanograms * (100 + loss_pct) // (100 * tray_yield_g * NANO))


@dataclass
class Sowing:
    """One variety to sow on one day."""
    product: str
    trays: int
    grams: Fraction  # the harvest wanted (before the loss allowance)
    loss_pct: int
    tray_yield_g: int
    days_to_harvest: int
    for_days: list[date]  # the delivery days it is harvested for


@dataclass
class SowingDay:
    day: date
    late: bool
    sowings: list[Sowing]

    @property
    def trays(self) -> int:
        return sum(s.trays for s in self.sowings)


@dataclass
class PackLine:
    product: str
    size: str
    packaging: str
    quantity: int
    grams: Fraction | None  # quantity × the size's grams; None when the size has no weight


@dataclass
class DeliveryDay:
    day: date
    lines: list[PackLine]  # by product, size, packaging
    packaging: list[tuple[str, int]]  # containers of each packaging
    from_orders: int = 0  # customers counted from their confirmed orders
    from_standing: int = 0  # customers counted from their standing items


@dataclass
class Plan:
    start: date
    end: date
    today: date
    sowing_days: list[SowingDay]
    delivery_days: list[DeliveryDay]
    packaging: list[tuple[str, int]]  # containers of each packaging over the window
    warnings: list[str] = field(default_factory=list)

    @property
    def trays(self) -> int:
        return sum(d.trays for d in self.sowing_days)

    @property
    def late_days(self) -> list[SowingDay]:
        return [d for d in self.sowing_days if d.late]


def plan(start: date, days: int, *, today: date | None = None) -> Plan:
    """The sowing and packing plan for the `days` (7-14) delivery days from `start`; sowing
    days before `today` (the farm's today by default) are flagged late."""
    if not MIN_DAYS <= days <= MAX_DAYS:
        raise PlanError(f"Plan {MIN_DAYS} to {MAX_DAYS} days, not {days}.")
    today = today or farm_today()
    end = start + timedelta(days=days - 1)
    delivering = delivering_between(start, end)
    # the standing items of every customer who can deliver at all (one statement, no IN list
    # of ids: a big window's customers would overrun the database's parameter limit)
    standing = defaultdict(list)
    for row in db.session.execute(
        select(StandingItem.customer_id, StandingItem.product_id, StandingItem.size,
               StandingItem.quantity, StandingItem.packaging_id)
        .join(DeliveryPlan, DeliveryPlan.customer_id == StandingItem.customer_id)
        .join(Customer, Customer.id == StandingItem.customer_id)
        .where(*on_a_route()).order_by(StandingItem.id)):
        standing[row[0]].append(((row[1], row[2], row[4]), row[3]))  # ((what), quantity)
    ordered = defaultdict(list)  # (day, customer id) -> the day's order lines
    ordering = defaultdict(set)  # day -> the customers with an order that day
    for row in db.session.execute(
        select(Order.delivery_date, Order.customer_id, OrderLine.product_id, OrderLine.size,
               OrderLine.quantity, OrderLine.packaging_id)
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(Order.delivery_date >= start, Order.delivery_date <= end,
               Order.status.in_(SHEET_ORDER_STATUSES))
        .order_by(Order.id, OrderLine.id)):
        day, customer_id = row[0], row[1]
        ordered[(day, customer_id)].append(((row[2], row[3], row[5]), row[4]))
        ordering[day].add(customer_id)
    products = {p.id: p for p in db.session.scalars(select(Product))}
    packaging = dict(db.session.execute(select(Packaging.id, Packaging.name)).all())

    demand = Counter()  # (day, product id, size, packaging id) -> quantity
    counted = {}
    for day in sorted(delivering):
        stops = set(delivering[day])
        wanted = Counter()  # (product id, size, packaging id) -> quantity, this day
        from_orders = from_standing = 0
        for customer_id in stops | ordering[day]:
            lines = ordered.get((day, customer_id), [])
            items = packed(lines, standing.get(customer_id, []) if customer_id in stops else [])
            from_orders += bool(lines)
            from_standing += bool(items) and not lines
            for what, quantity in items:
                wanted[what] += quantity
        for (product_id, size, packaging_id), quantity in wanted.items():
            demand[(day, product_id, size, packaging_id)] = quantity
        counted[day] = (from_orders, from_standing)
    return _arrange(start, end, today, demand, counted, products, packaging)


def _arrange(start, end, today, demand, counted, products, packaging) -> Plan:
    warnings = []
    unweighed, ungrown = set(), set()
    lines = defaultdict(list)  # day -> [PackLine]
    containers = defaultdict(Counter)  # day -> {packaging: count}
    grams = Counter()  # (day, product id) -> nanograms
    grown = {pid: p.has_growing_data for pid, p in products.items()}
    units = {}  # (size, product id) -> nanograms in one, worked out once
    for (day, product_id, size, packaging_id), quantity in demand.items():
        product = products[product_id]
        pack = packaging.get(packaging_id, NO_PACKAGING)
        if (size, product_id) not in units:
            units[(size, product_id)] = _nanograms(size, product.tray_yield_g)
        unit = units[(size, product_id)]
        lines[day].append(PackLine(product.name, size, pack, quantity,
                                   None if unit is None else Fraction(unit * quantity, NANO)))
        containers[day][pack] += quantity
        if not grown[product_id]:
            ungrown.add(product.name)
        elif unit is None:
            unweighed.add((product.name, size))
        else:
            grams[(day, product_id)] += unit * quantity
    sowings = defaultdict(list)  # sowing day -> [Sowing]
    for (day, product_id), wanted in grams.items():
        product = products[product_id]
        sow_on = day - timedelta(days=product.days_to_harvest)
        sowings[sow_on].append(Sowing(
            product=product.name, grams=Fraction(wanted, NANO), loss_pct=product.loss_pct,
            tray_yield_g=product.tray_yield_g, days_to_harvest=product.days_to_harvest,
            trays=_trays(wanted, product.loss_pct, product.tray_yield_g), for_days=[day]))
    for name in sorted(ungrown):
        warnings.append(f"{name} has no growing data: its trays are not counted. Fill in its "
                        "days to harvest and yield per tray under Growing data.")
    for name, size in sorted(unweighed):
        warnings.append(f"{name} in “{size}”: the size names no weight (g, kg, oz, lb or a "
                        "tray), so it is packed but not counted in trays.")
    total = Counter()
    for found in containers.values():
        total.update(found)
    delivery_days = []
    day = start
    while day <= end:
        from_orders, from_standing = counted.get(day, (0, 0))
        delivery_days.append(DeliveryDay(
            day=day, lines=sorted(lines[day], key=lambda l: (l.product, l.size, l.packaging)),
            packaging=sorted(containers[day].items()), from_orders=from_orders,
            from_standing=from_standing))
        day += timedelta(days=1)
    return Plan(
        start=start, end=end, today=today,
        sowing_days=[SowingDay(day=d, late=d < today,
                               sowings=sorted(sowings[d], key=lambda s: s.product))
                     for d in sorted(sowings)],
        delivery_days=delivery_days, packaging=sorted(total.items()), warnings=warnings)


def csv_rows(found: Plan):
    """The plan as spreadsheet rows (header first): a row a sowing, a row a packing line, a row
    a container count (cells not yet formula-safe: the caller makes them so)."""
    yield ["section", "date", "variety", "trays", "grams", "loss %", "size", "packaging",
           "quantity", "for delivery on", "note"]
    for sowing_day in found.sowing_days:
        for s in sowing_day.sowings:
            yield ["sow", sowing_day.day.isoformat(), s.product, s.trays, grams_text(s.grams),
                   s.loss_pct, "", "", "", " ".join(d.isoformat() for d in s.for_days),
                   LATE if sowing_day.late else ""]
    for delivery_day in found.delivery_days:
        for line in delivery_day.lines:
            yield ["pack", delivery_day.day.isoformat(), line.product, "",
                   "" if line.grams is None else grams_text(line.grams), "", line.size,
                   line.packaging, line.quantity, "", ""]
        for name, count in delivery_day.packaging:
            yield ["containers", delivery_day.day.isoformat(), "", "", "", "", "", name, count,
                   "", ""]
    for name, count in found.packaging:
        yield ["containers total", "", "", "", "", "", "", name, count, "", ""]


def grams_text(grams: Fraction) -> str:
    """Grams rounded to whole grams for reading (the trays were counted exactly)."""
    return str(round(grams))
