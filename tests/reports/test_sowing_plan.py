"""The sowing arithmetic against hand-computed numbers: confirmed orders before standing items,
a pause, an every-other-week plan, losses and rounding up, two delivery days sharing a sowing
day, a late sowing day, and the same few statements however many customers."""
import random
from datetime import date
from fractions import Fraction

import pytest
from sqlalchemy import event, select

from crm.common import SYSTEM
from crm.customers.models import Customer
from crm.demo.bulk import bulk, bulk_stops
from crm.extensions import db
from crm.orders import services as orders
from crm.preferences.models import DeliveryPause, StandingItem
from crm.reports.sowing import LATE, PlanError, csv_rows, plan, size_grams, trays_for
from tests import factories

START = date(2027, 3, 1)  # a Monday: the window is Mon Mar 1 - Sun Mar 7
TODAY = date(2027, 2, 21)  # a Sunday: Feb 20 is past


def d(day):
    return date(2027, *day) if isinstance(day, tuple) else day


def _order(customer, day, lines, status="confirmed"):
    order = orders.create_order(customer, day, [orders.Line(*line) for line in lines],
                                actor=SYSTEM)
    if status in ("confirmed", "delivered"):
        orders.confirm_order(order, actor=SYSTEM)
    if status == "cancelled":
        orders.cancel_order(order, actor=SYSTEM)
    return order


@pytest.fixture
def farm(app):
    """Pea shoots: 10 days, 400 g a tray, 10 % loss; radish: 8 days, 250 g, no loss; both sold
    in 100 g (so the grams are round).

    - Fern (Tue + Fri weekly): standing 5 pea + 2 radish (clamshells); a confirmed order for
      Fri of 8 pea, and a cancelled one of 99.
    - Oak (Tue weekly): standing 3 pea, paused over Tue Mar 2.
    - Elm (Wed, every other week, anchored Feb 24: delivers Mar 10, not Mar 3): standing 6 pea.
    - Ash (Wed, every other week, anchored Feb 17: delivers Mar 3): standing 4 radish in
      compostable containers; a draft order for 50 radish on Mar 3 (drafts do not count).
    - Bay (no delivery plan): a confirmed order of 2 pea for Thu Mar 4 (counted: the farm
      means to deliver it; the office places the stop)."""
    with app.app_context():
        products, packaging = factories.catalogue()
        pea, radish = products["Pea shoots"], products["Radish"]
        pea.sizes = radish.sizes = "100 g, 4 oz"
        pea.days_to_harvest, pea.tray_yield_g, pea.loss_pct = 10, 400, 10
        radish.days_to_harvest, radish.tray_yield_g, radish.loss_pct = 8, 250, 0
        orders.set_prices({(pea.id, "100 g", "standard"): 500,
                           (radish.id, "100 g", "standard"): 400}, actor=SYSTEM)
        clam, compost = packaging["4 oz clamshell"], packaging["Compostable container"]
        fern, oak, elm, ash, bay = (factories.customer(n) for n in
                                    ("Fern Cafe", "Oak Bistro", "Elm Deli", "Ash Grocer",
                                     "Bay Caterer"))
        factories.delivery_plan(fern, weekdays=("Tue", "Fri"), stop=1)
        factories.delivery_plan(oak, weekdays=("Tue",), stop=2)
        factories.delivery_plan(elm, weekdays=("Wed",), stop=3, frequency="biweekly",
                                anchor_date=date(2027, 2, 24))
        factories.delivery_plan(ash, weekdays=("Wed",), stop=4, frequency="biweekly",
                                anchor_date=date(2027, 2, 17))
        for customer, product, qty, pack in ((fern, pea, 5, clam), (fern, radish, 2, clam),
                                             (oak, pea, 3, clam), (elm, pea, 6, clam),
                                             (ash, radish, 4, compost)):
            db.session.add(StandingItem(customer_id=customer.id, product=product, size="100 g",
                                        quantity=qty, packaging=pack))
        db.session.add(DeliveryPause(customer_id=oak.id, starts_on=date(2027, 3, 1),
                                     ends_on=date(2027, 3, 2)))
        db.session.flush()
        _order(fern, date(2027, 3, 5), [(pea.id, "100 g", 8, clam.id)])
        _order(fern, date(2027, 3, 5), [(pea.id, "100 g", 99, clam.id)], status="cancelled")
        _order(ash, date(2027, 3, 3), [(radish.id, "100 g", 50, compost.id)], status="draft")
        _order(bay, date(2027, 3, 4), [(pea.id, "100 g", 2, clam.id)])
        db.session.commit()


def sowings(found):
    return {(sd.day, s.product): (s.trays, s.grams, s.for_days)
            for sd in found.sowing_days for s in sd.sowings}


def test_trays_per_variety_and_sowing_day_match_the_hand_computed_plan(app, farm):
    with app.app_context():
        found = plan(START, 7, today=TODAY)
    assert sowings(found) == {
        # Tue Mar 2: Fern's standing 5 × 100 g pea (Oak paused): 500 g × 1.1 / 400 = 1.375 → 2
        (d((2, 20)), "Pea shoots"): (2, 500, [d((3, 2))]),
        # Tue Mar 2: Fern's standing 2 × 100 g radish: 200 / 250 = 0.8 → 1
        (d((2, 22)), "Radish"): (1, 200, [d((3, 2))]),
        # Thu Mar 4: Bay's order 2 × 100 g pea: 200 × 1.1 / 400 = 0.55 → 1
        (d((2, 22)), "Pea shoots"): (1, 200, [d((3, 4))]),
        # Wed Mar 3: Ash's standing 4 × 100 g radish (its draft of 50 does not count): 1.6 → 2
        (d((2, 23)), "Radish"): (2, 400, [d((3, 3))]),
        # Fri Mar 5: Fern's order 8 pea replaces its standing items (and the radish with them):
        # 800 × 1.1 / 400 = 2.2 → 3
        (d((2, 23)), "Pea shoots"): (3, 800, [d((3, 5))]),
    }
    assert found.trays == 9
    by_day = {sd.day: sd for sd in found.sowing_days}
    assert by_day[d((2, 23))].trays == 5  # Wed's radish and Fri's pea sown the same day


def test_a_sowing_day_already_past_is_flagged_late(app, farm):
    with app.app_context():
        found = plan(START, 7, today=TODAY)
    assert [sd.day for sd in found.late_days] == [d((2, 20))]
    assert not any(sd.late for sd in found.sowing_days if sd.day >= TODAY)
    rows = list(csv_rows(found))
    late = [r for r in rows if r[0] == "sow" and r[-1] == LATE]
    assert [(r[1], r[2], r[3]) for r in late] == [("2027-02-20", "Pea shoots", 2)]
    with app.app_context():  # sown on its day, nothing is late
        assert plan(START, 7, today=date(2027, 2, 20)).late_days == []


def test_packing_counts_per_delivery_day_and_container(app, farm):
    with app.app_context():
        found = plan(START, 7, today=TODAY)
    days = {dd.day: dd for dd in found.delivery_days}
    assert len(days) == 7 and days[d((3, 1))].lines == []
    assert [(l.product, l.size, l.packaging, l.quantity, l.grams)
            for l in days[d((3, 2))].lines] == [
        ("Pea shoots", "100 g", "4 oz clamshell", 5, 500),
        ("Radish", "100 g", "4 oz clamshell", 2, 200)]
    assert days[d((3, 2))].packaging == [("4 oz clamshell", 7)]
    assert (days[d((3, 2))].from_orders, days[d((3, 2))].from_standing) == (0, 1)
    assert days[d((3, 3))].packaging == [("Compostable container", 4)]
    assert days[d((3, 4))].packaging == [("4 oz clamshell", 2)]
    assert days[d((3, 5))].packaging == [("4 oz clamshell", 8)]
    assert (days[d((3, 5))].from_orders, days[d((3, 5))].from_standing) == (1, 0)
    assert found.packaging == [("4 oz clamshell", 17), ("Compostable container", 4)]


def test_fourteen_days_take_in_the_every_other_week_plan_and_the_next_weeks(app, farm):
    with app.app_context():
        found = plan(START, 14, today=TODAY)
    got = sowings(found)
    # Elm delivers Wed Mar 10 (6 pea: 600 × 1.1 / 400 = 1.65 → 2), sown Feb 28
    assert got[(d((2, 28)), "Pea shoots")] == (2, 600, [d((3, 10))])
    # Tue Mar 9: Fern 5 + Oak 3 (pause over) = 800 g pea → 3 trays sown Feb 27
    assert got[(d((2, 27)), "Pea shoots")] == (3, 800, [d((3, 9))])
    # Fri Mar 12: Fern's standing items again (the order was for Mar 5 only)
    assert got[(d((3, 2)), "Pea shoots")] == (2, 500, [d((3, 12))])
    assert (d((3, 9)), "Radish") not in got  # Ash's off week: nothing on Wed Mar 10


def test_rounding_is_exact_and_sizes_are_weighed(app):
    assert trays_for(Fraction(400), 10, 440) == 1  # floats make 400 × 1.1 / 440 = 1.0000…2
    assert trays_for(Fraction(441), 10, 440) == 2
    assert trays_for(Fraction(500), 0, 250) == 2
    assert size_grams("2 oz", 300) == Fraction("56.69904625")
    assert size_grams("1 lb", 300) == Fraction("453.59237")
    assert size_grams("1 kg", None) == 1000
    assert size_grams("10x20 tray", 300) == 300 == size_grams("Living tray", 300)
    assert size_grams("bunch", 300) is None


def test_products_without_growing_data_or_weight_are_packed_not_sown_and_said(app, farm):
    with app.app_context():
        products, _ = factories.catalogue()
        products["Radish"].tray_yield_g = None
        products["Pea shoots"].sizes = "100 g, bunch"
        fern = db.session.scalar(select(Customer).order_by(Customer.id))  # made first
        item = db.session.scalar(select(StandingItem).where(StandingItem.customer_id == fern.id,
                                                            StandingItem.product_id ==
                                                            products["Pea shoots"].id))
        item.size = "bunch"
        db.session.commit()
        found = plan(START, 7, today=TODAY)
    got = sowings(found)
    assert not any(product == "Radish" for _, product in got)
    assert (d((2, 20)), "Pea shoots") not in got  # Tue's pea is 5 bunches: no weight
    assert any("Radish has no growing data" in w for w in found.warnings)
    assert any("Pea shoots in “bunch”" in w for w in found.warnings)
    tuesday = [dd for dd in found.delivery_days if dd.day == d((3, 2))][0]
    assert ("Pea shoots", "bunch", 5, None) in [(l.product, l.size, l.quantity, l.grams)
                                                for l in tuesday.lines]


def test_days_outside_a_week_or_two_are_refused(app):
    with app.app_context():
        for days in (6, 15, 0):
            with pytest.raises(PlanError):
                plan(START, days)


def test_the_statements_do_not_grow_with_the_customers(app):
    day = date(2027, 3, 2)
    with app.app_context():
        bulk(300, random.Random(3), echo=lambda *a: None)
        factories.catalogue()
        assert len(bulk_stops(5, day, random.Random(4))) == 5
        small = _statements(app, day)
        few = sum(dd.from_standing for dd in plan(day, 14).delivery_days)
        assert len(bulk_stops(60, day, random.Random(5))) == 60
        big = _statements(app, day)
        many = sum(dd.from_standing for dd in plan(day, 14).delivery_days)
    assert many > 10 * few > 0
    assert small == big <= 8


def _statements(app, day):
    found = []

    def count(*args):
        found.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        plan(day, 14)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(found)


def test_each_days_packing_is_what_the_delivery_sheet_packs(app, farm):
    from crm.delivery.services import delivery_sheet

    with app.app_context():
        found = plan(START, 14, today=TODAY)
        for dd in found.delivery_days:
            sheet = delivery_sheet(dd.day)
            extra = [(line.product.name, line.size, line.packaging.name, line.quantity)
                     for o in sheet.orders_without_stop for line in o.lines]
            assert sorted([(l.product, l.size, l.packaging, l.quantity) for l in dd.lines]) == (
                sorted(list(sheet.totals) + extra)), dd.day
