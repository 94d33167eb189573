"""The demo farm's money (the orders feature's step of `flask demo seed`, after the
catalogue and the preferences): a price list for every size of every product and every
pricing tier; for each customer with standing items, a year of weekly orders from them
(every other week for fortnightly plans), each confirmed, delivered and invoiced on its
delivery date, and paid the way such a customer pays; terms and limits by kind of customer;
then the next delivery's order, confirmed when check_credit allows it.

Who pays how:
- restaurants net 14 or net 30, caterers and grocers and wholesalers net 30 with a limit,
  market stalls cash on delivery, individuals net 7, CSA members prepaid (they pay a day or
  three before each box, so every invoice is paid from credit on account);
- most pay within their terms, one payment in ten a few days late;
- LATE_PAYERS restaurants stopped paying: their oldest open invoice is 35 to 70 days overdue,
  so check_credit blocks them (their next order stays a draft with the reasons);
- one caterer is on a manual hold with a reason; one grocer is near its limit (its limit was
  lowered to about NEAR_SHARE of what it owes and has ordered); one restaurant paid a round
  sum and has credit on account.

Everything goes through the orders and credit services with the system actor, dated by
issue_date and received_on, in date order across the farm (so invoice numbers follow the
dates, gap-free per year). Orders' created / confirmed / delivered times are then set back to
their delivery week (no service takes them). Nothing here commits: `flask demo seed` does,
once. The services' own lookups (check_credit, payments' allocation) cost most of the step.

Why the payments are recorded just after their invoice (while the step walks forward in
time): record_payment looks at the automatic hold as of today, not as of received_on, so a
payment recorded while an older invoice of the same customer was still open would put a
good payer on hold. A late payer's last orders are confirmed before its first unpaid invoice
is issued, for check_credit too decides as of today.
"""
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from crm.catalogue.models import Product
from crm.common import SYSTEM, farm_today, farm_zone
from crm.credit import services as credit
from crm.credit.models import TERM_DAYS
from crm.credit.services import CreditBlocked
from crm.customers.models import PRICING_TIERS
from crm.extensions import db
from crm.orders import services as orders
from crm.preferences.models import DeliveryPlan, StandingItem
from crm.preferences.schedule import delivers_on

# Standard price of a 4 oz clamshell, in cents; other sizes scale from it (SIZE_SHARE).
PRICE_4OZ = {"Pea shoots": 650, "Sunflower": 650, "Radish": 700, "Broccoli": 800, "Kale": 750,
             "Arugula": 800, "Mustard": 750, "Cilantro": 900, "Basil": 950, "Beet": 900,
             "Amaranth": 950, "Spicy mix": 800, "Rainbow mix": 850}
OWN_PRICES = {"Wheatgrass": {"4 oz": 500, "1 lb": 1400, "10x20 tray": 2800}}
SIZE_SHARE = {"2 oz": 60, "4 oz": 100, "1 lb": 320, "10x20 tray": 400}  # percent of 4 oz
TIER_SHARE = {"standard": 100, "restaurant": 90, "wholesale": 80}  # percent of standard
TERMS_BY_KIND = {"caterer": "net30", "grocer": "net30", "wholesale": "net30",
                 "market": "cod", "individual": "net14", "csa_member": "prepaid"}
LIMITED_KINDS = ("caterer", "grocer", "wholesale")  # a limit of about 8 weeks' orders
METHODS = {"restaurant": ("cheque", "bank_transfer"), "caterer": ("cheque", "bank_transfer"),
           "grocer": ("bank_transfer",), "wholesale": ("bank_transfer",), "market": ("cash",),
           "individual": ("card",), "csa_member": ("card", "bank_transfer")}
LATE_PAYERS = 3
OVERDUE_DAYS = (35, 63)  # the oldest open invoice of a late payer: this many days (+ < 7) late
NEAR_SHARE = 88  # percent: the near-limit grocer owes and has ordered about this much of it
BATCH = {"net14": 2, "net30": 4}  # invoices a payment settles
HOLD_REASON = "Cheque returned by the bank; talk to the owner before the next delivery."


def seed(farm):
    rng = farm.rng
    today = farm_today()
    prices = _price_list()
    orders.set_prices(prices, actor=SYSTEM)
    plans = {p.customer_id: p for p in db.session.scalars(select(DeliveryPlan))}
    items = {}
    for item in db.session.scalars(select(StandingItem).order_by(StandingItem.id)):
        items.setdefault(item.customer_id, []).append(item)
    buyers = [c for c in farm.customers if c.id in items and c.id in plans]
    weekly = {c.id: sum(i.quantity * prices[(i.product_id, i.size, c.pricing_tier)]
                        for i in items[c.id]) for c in buyers}
    roles = _roles(rng, buyers)
    late = {c.id for c in roles["late"]}
    payers = {}
    for customer in buyers:
        terms = TERMS_BY_KIND.get(customer.kind) or rng.choice(("net14", "net30"))
        limit = (_round_up(weekly[customer.id] * 8, 50_000)
                 if customer.kind in LIMITED_KINDS else None)
        credit.set_terms(customer, credit_limit=limit, terms=terms, version=None, actor=SYSTEM)
        payers[customer.id] = Payer(customer, terms, rng.choice(METHODS[customer.kind]),
                                    late=customer.id in late)
    for payer in payers.values():
        if payer.late:  # stopped paying: its oldest open invoice is this many days overdue
            payer.stops_on = today - timedelta(days=TERM_DAYS[payer.terms]
                                               + rng.randint(*OVERDUE_DAYS))
    # Each customer's delivery days of the past year (its plan's first weekday), farm-wide in
    # date order.
    days = {c.id: _past_days(plans[c.id], today, farm.weeks) for c in buyers}
    deliveries = sorted((day, n, customer) for n, customer in enumerate(buyers)
                        for day in days[customer.id])
    for day, _, customer in deliveries:
        payer = payers[customer.id]
        if not payer.ready:  # the orders its next payment settles: confirmed before any of
            # them is invoiced (check_credit decides as of today: see the module's docstring)
            later = [d for d in days[customer.id] if d >= day]
            for ahead in later if payer.stops_on and day >= payer.stops_on \
                    else later[:payer.batch_size]:
                payer.ready[ahead] = _confirmed(customer, ahead)
        payer.delivered(rng, payer.ready.pop(day), day, today)
    _special_accounts(rng, roles, today)
    _next_orders(roles, buyers, weekly, today)


def _price_list() -> dict:
    """{(product id, size, tier): cents} for every size of every product, every tier."""
    found = {}
    for product in db.session.scalars(select(Product).order_by(Product.id)):
        for size in product.size_list:
            own = OWN_PRICES.get(product.name, {}).get(size)
            if own is None:
                base = PRICE_4OZ.get(product.name, 800)
                own = _round(base * SIZE_SHARE.get(size, 100) // 100, 25)
            for tier in PRICING_TIERS:
                found[(product.id, size, tier)] = _round(own * TIER_SHARE[tier] // 100, 5)
    return found


def _round(cents, step):
    return (cents + step // 2) // step * step


def _round_up(cents, step):
    return -(-cents // step) * step


def _roles(rng, buyers) -> dict:
    """Which customers the demo shows what with: late payers, the one on hold, the one near
    its limit, the one with credit on account (all different)."""
    restaurants = [c for c in buyers if c.kind == "restaurant" and c.parent_id is None]
    late = rng.sample(restaurants, LATE_PAYERS)
    others = [c for c in restaurants if c not in late]
    return {"late": late,
            "credit": rng.choice(others),
            "hold": rng.choice([c for c in buyers if c.kind == "caterer"]),
            "near": rng.choice([c for c in buyers if c.kind == "grocer"])}


def _past_days(plan, today, weeks):
    """The plan's deliveries on its first weekday over the past `weeks` weeks, before today."""
    weekday = min(d for d in range(7) if plan.weekdays & (1 << d))
    last = today - timedelta(days=(today.weekday() - weekday - 1) % 7 + 1)
    days = (last - timedelta(weeks=w) for w in range(weeks))
    return sorted(day for day in days if delivers_on(plan, day))


def _confirmed(customer, day):
    order = orders.from_standing_items(customer, day, actor=SYSTEM)
    orders.confirm_order(order, actor=SYSTEM)
    return order


@dataclass
class Payer:
    """How one customer pays: each invoice (cash on delivery, net 7), every other one (net
    14), every fourth (net 30: a monthly bank transfer or cheque), or each box a few days
    ahead (prepaid). A batch's payment is recorded as soon as its last invoice is issued,
    dated when it came (see the module's docstring)."""

    customer: object
    terms: str
    method: str
    late: bool = False  # pays each invoice weeks late, then stops on `stops_on`
    stops_on: date | None = None
    batch: list = field(default_factory=list)  # [(issue date, total)] not yet paid
    ready: dict = field(default_factory=dict)  # {delivery date: its confirmed order}

    @property
    def batch_size(self) -> int:
        return 1 if self.late else BATCH.get(self.terms, 1)

    def delivered(self, rng, order, day, today):
        """Deliver and invoice the order on its day, and record the payments that came."""
        if self.terms == "prepaid":  # the invoice is paid from that credit on account
            _pay(self.customer, order.total, day - timedelta(days=rng.randint(1, 3)),
                 self.method, rng)
        orders.deliver_order(order, actor=SYSTEM)
        orders.invoice_order(order, actor=SYSTEM, issue_date=day)
        zone = farm_zone()
        created = datetime.combine(day - timedelta(days=2), time(10), zone)
        order.created_at, order.confirmed_at = created, created + timedelta(minutes=50)
        order.delivered_at = datetime.combine(day, time(7, rng.randint(0, 59)), zone)
        if self.terms == "prepaid" or (self.stops_on and day >= self.stops_on):
            return
        self.batch.append((day, order.total))
        if len(self.batch) < self.batch_size:
            return
        first, last = self.batch[0][0], day
        days = TERM_DAYS[self.terms]
        due = first + timedelta(days=days)
        if self.terms == "cod":
            received = last
        elif self.late:
            received = due + timedelta(days=rng.randint(5, 20))
        elif rng.random() < 0.1:
            received = due + timedelta(days=rng.randint(1, 8))  # a few days late
        else:  # within the terms, after the last invoice of the batch
            received = last + timedelta(days=rng.randint(min(1, (due - last).days),
                                                         max(1, (due - last).days)))
        if received <= today:
            _pay(self.customer, sum(total for _, total in self.batch), received, self.method,
                 rng)
        self.batch = []


def _pay(customer, amount, received_on, method, rng):
    reference = (f"Cheque {rng.randint(1000, 9999)}" if method == "cheque"
                 else f"ACH {rng.randint(100000, 999999)}" if method == "bank_transfer"
                 else None)
    return credit.record_payment(customer, amount, method=method, received_on=received_on,
                                 reference=reference, actor=SYSTEM)


def _special_accounts(rng, roles, today):
    """The overpaid restaurant's round-sum cheque, the caterer's hold, the grocer's lowered
    limit (set after its next order is known: see _next_orders)."""
    customer = roles["credit"]
    owed = credit.balance(customer.id)
    paid = _round_up(owed + 1, 10_000)
    if paid - owed < 2_000:
        paid += 10_000
    _pay(customer, paid, today - timedelta(days=1), "cheque", rng)
    credit.place_hold(roles["hold"], HOLD_REASON, actor=SYSTEM)


def _next_orders(roles, buyers, weekly, today):
    """Each customer's next delivery's order from its standing items, confirmed when
    check_credit allows (or warns); blocked, it stays a draft with the reasons. The grocer
    near its limit has its limit lowered first, to about NEAR_SHARE of what it then owes and
    has ordered."""
    upcoming = {c.id: orders.next_delivery_date(c, today) for c in buyers}
    near = roles["near"]
    exposure = credit.balance(near.id) + (weekly[near.id] if upcoming[near.id] else 0)
    credit.set_terms(near, credit_limit=_round_up(exposure * 100 // NEAR_SHARE, 1_000),
                     terms=credit.get_account(near.id).terms, version=None, actor=SYSTEM)
    for customer in buyers:
        if upcoming[customer.id] is None:
            continue
        order = orders.from_standing_items(customer, upcoming[customer.id], actor=SYSTEM)
        try:
            orders.confirm_order(order, actor=SYSTEM)
        except CreditBlocked:
            pass  # a draft with the reasons, as the bulk order job leaves it
