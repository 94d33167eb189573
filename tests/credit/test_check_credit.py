"""check_credit decides at order entry, on every path that raises what a customer owes."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.common import farm_today
from crm.credit import services as credit
from crm.credit.models import CreditAlert
from crm.credit.services import CreditBlocked
from crm.extensions import db
from crm.orders import services as orders
from crm.orders.models import Order
from tests import factories


def tomorrow():
    return farm_today() + timedelta(days=1)


def limit(customer, amount, staff, terms="net14"):
    credit.set_terms(customer, credit_limit=amount, terms=terms, version=None, actor=staff)
    db.session.commit()


def draft(customer, farm, staff, quantity=10):
    order = orders.create_order(customer, tomorrow(), [farm.line(quantity=quantity)], actor=staff)
    db.session.commit()
    return order


def codes(decision):
    return [r.code for r in decision.reasons]


def test_no_limit_is_not_a_limit_of_zero(farm, staff):
    free, zero = factories.customer("Fern Cafe"), factories.customer("Oak Bistro")
    limit(zero, 0, staff)
    assert credit.check_credit(free, 10**9).outcome == "allow"
    decision = credit.check_credit(zero, 1)
    assert decision.blocked and codes(decision) == ["over_limit"]
    assert credit.check_credit(zero, 0).outcome == "allow"  # owing nothing more is fine
    db.session.rollback()


def test_balance_and_open_orders_and_this_order_count_against_the_limit(farm, staff):
    customer = factories.customer("Fern Cafe")
    limit(customer, 20000, staff)  # $200
    first = draft(customer, farm, staff, quantity=20)  # 20 x $6 = $120
    assert orders.confirm_order(first, actor=staff).outcome == "allow"
    db.session.commit()
    second = draft(customer, farm, staff, quantity=10)  # $60 more: $180 of $200, warn
    decision = orders.confirm_order(second, actor=staff)
    assert decision.outcome == "warn" and codes(decision) == ["near_limit"]
    db.session.commit()
    third = draft(customer, farm, staff, quantity=5)  # $30 more: $210, over
    with pytest.raises(CreditBlocked) as refused:
        orders.confirm_order(third, actor=staff)
    db.session.commit()  # the reasons are kept on the draft
    reason = refused.value.decision.reasons[0]
    assert reason.words == "This would take the account over its credit limit."
    assert reason.detail == ("Balance $0.00 + open orders $180.00 + this $30.00 = $210.00, "
                             "over the limit of $200.00.")
    assert "$" not in reason.text(amounts=False)
    db.session.refresh(third)
    assert third.status == "draft" and third.credit_reasons[0]["code"] == "over_limit"
    assert all(line.unit_price is None for line in third.lines)


def test_an_override_needs_a_reason_and_is_kept(farm, staff):
    customer = factories.customer("Fern Cafe")
    limit(customer, 0, staff)
    order = draft(customer, farm, staff)
    with pytest.raises(CreditBlocked):
        orders.confirm_order(order, actor=staff, override="  ")
    db.session.rollback()
    orders.confirm_order(order, actor=staff, override="Owner vouched; pays Friday")
    db.session.commit()
    assert (order.status, order.override_reason) == ("confirmed", "Owner vouched; pays Friday")


def test_a_hold_blocks_and_a_group_limit_counts_every_location(farm, staff):
    group = factories.customer("Blue Heron Group")
    north = factories.customer("Blue Heron North", parent_id=group.id)
    south = factories.customer("Blue Heron South", parent_id=group.id)
    limit(group, 10000, staff)  # $100 for the whole group
    orders.confirm_order(draft(north, farm, staff, quantity=10), actor=staff)  # $60
    db.session.commit()
    decision = credit.check_credit(south, 5000)  # $50 more at another location: $110
    assert decision.blocked and codes(decision) == ["over_limit"]
    assert "the group" in decision.reasons[0].words
    db.session.rollback()
    credit.place_hold(south, "Cheque bounced", actor=staff)
    db.session.commit()
    decision = credit.check_credit(south, 1)
    assert decision.blocked and "hold" in codes(decision)
    assert decision.reasons[0].detail == "The account is on hold: Cheque bounced."
    db.session.rollback()
    credit.place_hold(group, "Group review", actor=staff)
    db.session.commit()
    assert "group_hold" in codes(credit.check_credit(north, 1))
    db.session.rollback()


def test_an_invoice_overdue_past_the_days_blocks_small_amounts_never_do(app, farm, staff):
    customer = factories.customer("Fern Cafe")
    today = farm_today()
    days = app.config["CREDIT_OVERDUE_DAYS"]
    credit.issue_invoice(customer, [("Pea", 1, 400)], actor=staff,  # below the threshold
                         issue_date=today - timedelta(days=90), due_date=today - timedelta(90))
    db.session.commit()
    assert credit.check_credit(customer, 100).outcome == "allow"
    db.session.rollback()
    late = credit.issue_invoice(customer, [("Pea", 1, 5000)], actor=staff,
                                issue_date=today - timedelta(days=40),
                                due_date=today - timedelta(days=days - 5))
    db.session.commit()
    decision = credit.check_credit(customer, 100)
    assert decision.outcome == "warn" and codes(decision) == ["late"]
    db.session.rollback()
    credit.issue_invoice(customer, [("Pea", 1, 5000)], actor=staff,
                         issue_date=today - timedelta(days=days + 20),
                         due_date=today - timedelta(days=days + 1))
    db.session.commit()
    decision = credit.check_credit(customer, 100)
    assert decision.blocked and codes(decision)[0] == "overdue"
    assert f"{days + 1} days overdue" in decision.reasons[0].detail  # the oldest is named
    assert len(decision.reasons) == 1 and late.number not in decision.reasons[0].detail
    db.session.rollback()


def test_every_path_that_raises_what_is_owed_asks(farm, staff):
    customer = factories.customer("Fern Cafe")
    limit(customer, 9000, staff)  # $90
    order = draft(customer, farm, staff, quantity=10)  # $60
    orders.confirm_order(order, actor=staff)
    db.session.commit()
    # more lines on a confirmed order: $60 -> $120
    with pytest.raises(CreditBlocked):
        orders.change_lines(order, [farm.line(quantity=20)], actor=staff)
    db.session.rollback()
    db.session.refresh(order)
    assert [line.quantity for line in order.lines] == [10]
    # a duplicate is a draft, confirmed on its own: $60 + $60
    copy = orders.duplicate_order(order, tomorrow() + timedelta(days=7), actor=staff)
    db.session.commit()
    with pytest.raises(CreditBlocked):
        orders.confirm_order(copy, actor=staff)
    db.session.commit()
    # a cancelled order reopened is a draft again, and confirming it asks again
    orders.cancel_order(order, actor=staff)
    orders.reopen_order(order, actor=staff)
    db.session.commit()
    assert order.status == "draft"
    orders.confirm_order(copy, actor=staff)  # now that one fits
    db.session.commit()
    with pytest.raises(CreditBlocked):
        orders.confirm_order(order, actor=staff)
    db.session.rollback()
    # a manual invoice
    with pytest.raises(CreditBlocked):
        credit.manual_invoice(customer, [("Delivery fee", 1, 4000)], memo="Late fee",
                              actor=staff)
    db.session.rollback()


def test_delivered_goods_are_always_invoiced(farm, staff):
    customer = factories.customer("Fern Cafe")
    order = draft(customer, farm, staff)
    orders.confirm_order(order, actor=staff)
    orders.deliver_order(order, actor=staff)
    db.session.commit()
    credit.place_hold(customer, "Too late", actor=staff)
    limit(customer, 0, staff)
    invoice = orders.invoice_order(order, actor=staff)
    db.session.commit()
    assert order.status == "invoiced" and invoice.total == 6000
    assert credit.balance(customer.id) == 6000
    assert credit.open_orders_total([customer.id]) == 0  # invoiced: in the balance now


def test_prices_apply_to_orders_created_after_the_change(farm, staff):
    customer = factories.customer("Fern Cafe")
    before = draft(customer, farm, staff)
    orders.set_prices({(farm.products["Pea shoots"], "4 oz", "standard"): 700}, actor=staff)
    db.session.commit()
    after = draft(customer, farm, staff)
    for order in (before, after):
        orders.confirm_order(order, actor=staff)
    db.session.commit()
    assert (before.total, after.total) == (6000, 7000)


def test_automatic_holds_are_placed_and_lifted_by_the_rules(app, farm, staff):
    customer = factories.customer("Fern Cafe")
    today = farm_today()
    days = app.config["CREDIT_OVERDUE_DAYS"]
    credit.issue_invoice(customer, [("Pea", 1, 5000)], actor=staff,
                         issue_date=today - timedelta(days=days + 30),
                         due_date=today - timedelta(days=days + 2))
    credit.refresh_automatic_hold(customer, actor=staff)
    db.session.commit()
    account = credit.get_account(customer.id)
    assert account.hold == "auto" and "overdue" in account.hold_reason
    credit.record_payment(customer, 5000, method="cash", received_on=today, actor=staff)
    db.session.commit()
    assert credit.get_account(customer.id).hold is None
    kinds = db.session.scalars(select(CreditAlert.kind).order_by(CreditAlert.id)).all()
    assert kinds == ["hold_placed", "hold_lifted"]


def test_the_bulk_job_confirms_what_passes_and_leaves_blocked_drafts(farm, staff):
    from crm.preferences.models import StandingItem

    ok, held, bare = (factories.customer(n) for n in ("Fern Cafe", "Oak Bistro", "Elm Deli"))
    for c in (ok, held):
        db.session.add(StandingItem(customer_id=c.id, product_id=farm.products["Pea shoots"],
                                    size="4 oz", quantity=5,
                                    packaging_id=farm.packaging["4 oz clamshell"]))
    credit.place_hold(held, "Review", actor=staff)
    db.session.commit()
    made = orders.orders_for_date(tomorrow(), [ok.id, held.id, bare.id], actor=staff)
    db.session.commit()
    statuses = dict(db.session.execute(select(Order.customer_id, Order.status)).all())
    assert statuses == {ok.id: "confirmed", held.id: "draft"} and made["skipped"] == [bare.id]
    again = orders.orders_for_date(tomorrow(), [ok.id, held.id], actor=staff)
    assert again["skipped"] == [ok.id, held.id]  # one order a day each
