"""Which customers get a delivery on a date: weekdays, every other week, pauses, DST."""
from datetime import date, time

import pytest

from crm.delivery.services import delivery_sheet
from crm.extensions import db
from crm.preferences.models import DeliveryPause, DeliveryPlan, StandingItem
from crm.preferences.schedule import delivers_on
from tests import factories

TUE_FRI = 0b0010010  # bit 0 = Monday


@pytest.mark.parametrize("day, expected", [
    (date(2026, 11, 24), True),   # Tuesday
    (date(2026, 11, 27), True),   # Friday
    (date(2026, 11, 25), False),  # Wednesday
    (date(2026, 11, 29), False),  # Sunday
])
def test_weekly_plans_deliver_on_their_weekdays(day, expected):
    assert delivers_on(DeliveryPlan(weekdays=TUE_FRI, frequency="weekly"), day) is expected


def test_every_other_week_counts_from_the_anchor_week():
    plan = DeliveryPlan(weekdays=TUE_FRI, frequency="biweekly", anchor_date=date(2026, 11, 26))
    # The anchor is a Thursday: its week (Nov 23-29) is an on-week, Tuesday before it included.
    assert delivers_on(plan, date(2026, 11, 24)) and delivers_on(plan, date(2026, 11, 27))
    assert not delivers_on(plan, date(2026, 12, 1)) and not delivers_on(plan, date(2026, 12, 4))
    assert delivers_on(plan, date(2026, 12, 8)) and delivers_on(plan, date(2026, 11, 10))
    assert not delivers_on(plan, date(2026, 11, 17))
    assert not delivers_on(DeliveryPlan(weekdays=TUE_FRI, frequency="biweekly"), date(2026, 11, 24))


def test_every_other_week_is_not_shifted_by_daylight_saving():
    # US clocks go back on Sun Nov 1, 2026 and forward on Sun Mar 14, 2027.
    plan = DeliveryPlan(weekdays=0b0000001, frequency="biweekly", anchor_date=date(2026, 10, 26))
    mondays = [date(2026, 10, 26), date(2026, 11, 2), date(2026, 11, 9), date(2027, 3, 8),
               date(2027, 3, 15), date(2027, 3, 22)]
    # Mar 8 is 19 weeks after Oct 26 (off), Mar 15 is 20 (on), across both clock changes.
    assert [delivers_on(plan, d) for d in mondays] == [True, False, True, False, True, False]


def test_a_pause_stops_deliveries_from_its_first_to_its_last_day(app, app_ctx):
    products, packaging = factories.catalogue()
    paused = factories.customer("Away In August")
    kept = factories.customer("Always Open")
    factories.delivery_plan(paused, stop=1)
    factories.delivery_plan(kept, stop=2)
    db.session.add(DeliveryPause(customer_id=paused.id, starts_on=date(2026, 12, 1),
                                 ends_on=date(2026, 12, 4)))
    db.session.commit()

    def names(day):
        return [s.customer.name for stops in delivery_sheet(day).routes.values() for s in stops]

    assert names(date(2026, 11, 27)) == ["Away In August", "Always Open"]
    assert names(date(2026, 12, 1)) == ["Always Open"]  # first day
    assert names(date(2026, 12, 4)) == ["Always Open"]  # last day
    assert names(date(2026, 12, 8)) == ["Away In August", "Always Open"]


def test_only_active_unarchived_customers_on_a_route_appear(app, app_ctx):
    factories.catalogue()
    for name, status in (("Active One", "active"), ("Paused Account", "paused"),
                         ("A Lead", "lead")):
        factories.delivery_plan(factories.customer(name, status=status))
    archived = factories.customer("Archived One")
    factories.delivery_plan(archived)
    from crm.common import utcnow

    archived.archived_at = utcnow()
    no_route = factories.customer("No Route")
    db.session.add(DeliveryPlan(customer_id=no_route.id, weekdays=TUE_FRI))
    db.session.commit()
    sheet = delivery_sheet(date(2026, 11, 24))
    assert [s.customer.name for s in sheet.routes["North"]] == ["Active One"]


def test_sheet_orders_stops_and_totals_what_to_pack(app, app_ctx):
    products, packaging = factories.catalogue()
    first, second, other = (factories.customer(n) for n in ("Fern Cafe", "Oak Bistro", "Elm Deli"))
    factories.delivery_plan(second, stop=2, window_start=time(7), window_end=time(9, 30))
    factories.delivery_plan(first, stop=1)
    factories.delivery_plan(other, route_name="South", stop=1)
    for customer, product, size, qty, pack in (
            (first, "Sunflower", "4 oz", 6, "4 oz clamshell"),
            (second, "Sunflower", "4 oz", 4, "4 oz clamshell"),
            (second, "Pea shoots", "1 lb", 2, "1 lb bulk bag"),
            (other, "Sunflower", "4 oz", 1, "Returnable crate")):
        db.session.add(StandingItem(customer_id=customer.id, product=products[product], size=size,
                                    quantity=qty, packaging=packaging[pack]))
    db.session.commit()
    sheet = delivery_sheet(date(2026, 11, 24))
    assert list(sheet.routes) == ["North", "South"]
    assert [s.customer.name for s in sheet.routes["North"]] == ["Fern Cafe", "Oak Bistro"]
    assert sheet.totals == [("Pea shoots", "1 lb", "1 lb bulk bag", 2),
                            ("Sunflower", "4 oz", "4 oz clamshell", 10),
                            ("Sunflower", "4 oz", "Returnable crate", 1)]
    north = delivery_sheet(date(2026, 11, 24), route=sheet.routes["North"][0].plan.route)
    assert list(north.routes) == ["North"] and len(north.totals) == 2
