"""The cut-off: tomorrow's confirmed orders asked about credit again; a blocked customer's go
back to drafts with the reasons (prices cleared, an audit event), the others are left alone."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from config import TestingConfig
from crm.audit.models import AuditEvent
from crm.common import SYSTEM
from crm.credit import services as credit
from crm.customers.models import Customer
from crm.extensions import db
from crm.jobs.models import JobRun
from crm.jobs.services import enqueue
from crm.orders import cli as cutoff_cli
from crm.orders import services as orders
from crm.orders.jobs import day_param
from crm.orders.models import Order
from tests import factories
from tests.orders.test_tab import tomorrow


@pytest.fixture
def confirmed(app, shop):
    """Confirmed orders: Fern Cafe's for tomorrow ($60) and Oak Bistro's for tomorrow ($60) and
    for the day after ($30). Returns {name: order id}."""
    with app.app_context():
        fern = db.session.get(Customer, shop.customer_id)
        oak = factories.customer("Oak Bistro")
        made = {}
        for name, customer, day, quantity in (
                ("fern", fern, tomorrow(), 10), ("oak", oak, tomorrow(), 10),
                ("oak later", oak, tomorrow() + timedelta(days=1), 5)):
            order = orders.create_order(customer, day, [shop.line(quantity=quantity)],
                                        actor=SYSTEM)
            orders.confirm_order(order, actor=SYSTEM)
            made[name] = order.id
        db.session.commit()
        return made


def _order(order_id):
    return db.session.get(Order, order_id)


def test_a_held_customers_order_for_tomorrow_goes_back_to_draft(app, app_ctx, confirmed):
    oak = _order(confirmed["oak"]).customer
    credit.place_hold(oak, "Cheque bounced", actor=SYSTEM)
    db.session.commit()
    done = orders.recheck_day(tomorrow(), actor=SYSTEM)
    db.session.commit()
    assert done == {"checked": 2, "to_draft": [confirmed["oak"]], "kept": 1, "overridden": 0}
    back = _order(confirmed["oak"])
    assert back.status == "draft" and back.confirmed_at is None
    assert [r["code"] for r in back.credit_reasons] == ["hold"]
    assert "Cheque bounced" not in str(back.credit_reasons)  # words only, as confirm keeps
    assert [line.unit_price for line in back.lines] == [None]
    assert _order(confirmed["fern"]).status == "confirmed"  # others alone
    assert _order(confirmed["oak later"]).status == "confirmed"  # not tomorrow's: not yet
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "unconfirm"))
    assert (event.entity_id, event.actor_kind, event.fields) == (
        confirmed["oak"], "system", ["credit", "status"])
    assert credit.open_orders_total([oak.id]) == 5 * 600  # only the later order owed soon


def test_over_the_limit_only_as_many_orders_go_back_as_it_takes(app, app_ctx, shop, confirmed):
    fern = _order(confirmed["fern"]).customer
    second = orders.create_order(fern, tomorrow(), [shop.line(quantity=5)], actor=SYSTEM)
    orders.confirm_order(second, actor=SYSTEM)
    credit.set_terms(fern, credit_limit=7000, terms="net14", version=None, actor=SYSTEM)
    db.session.commit()  # $60 + $30 open against a $70 limit (lowered after both were confirmed)
    done = orders.recheck_day(tomorrow(), actor=SYSTEM)
    db.session.commit()
    assert done["to_draft"] == [second.id]  # the newest goes back; the first fits the limit
    assert _order(confirmed["fern"]).status == "confirmed"
    assert _order(second.id).credit_reasons[0]["code"] == "over_limit"


def test_an_order_confirmed_past_a_block_by_an_override_stays(app, app_ctx, shop, confirmed):
    oak = _order(confirmed["oak"]).customer
    credit.place_hold(oak, "Cheque bounced", actor=SYSTEM)
    order = orders.create_order(oak, tomorrow(), [shop.line(quantity=1)], actor=SYSTEM)
    orders.confirm_order(order, actor=SYSTEM, override="Paid cash at the door")
    db.session.commit()
    done = orders.recheck_day(tomorrow(), actor=SYSTEM)
    db.session.commit()
    assert done["to_draft"] == [confirmed["oak"]] and done["overridden"] == 1
    assert _order(order.id).status == "confirmed"


def test_the_cutoff_job_and_command(app, runner, confirmed, monkeypatch):
    with app.app_context():
        credit.place_hold(_order(confirmed["oak"]).customer, "Cheque bounced", actor=SYSTEM)
        run = enqueue("orders_cutoff", actor=SYSTEM)
        assert run.params == {}
        db.session.commit()
        run = db.session.get(JobRun, run.id)
        assert run.status == "finished", run.message
        assert (run.result["checked"], run.result["to_draft"], run.result["draft_orders"]) == (
            2, 1, [confirmed["oak"]])
        assert _order(confirmed["oak"]).status == "draft"
        number = _order(confirmed["oak"]).number
        later = tomorrow() + timedelta(days=1)
        run = enqueue("orders_cutoff", actor=SYSTEM, day=day_param(later))
        db.session.commit()
        assert db.session.get(JobRun, run.id).result["to_draft"] == 1
    assert TestingConfig.ORDER_CUTOFF_HOUR == 14

    class At:  # the farm's clock, as the command reads it
        hour = 13

        @classmethod
        def now(cls, zone):
            return datetime.now(zone).replace(hour=cls.hour)

    monkeypatch.setattr(cutoff_cli, "datetime", At)
    quiet = runner.invoke(args=["orders", "cutoff", "--if-cutoff-hour"])
    assert quiet.exit_code == 0 and quiet.output == ""  # not 14:00 yet: the hourly run waits
    At.hour = 14
    result = runner.invoke(args=["orders", "cutoff", "--if-cutoff-hour"])
    assert result.exit_code == 0, result.output
    assert "1 confirmed orders checked; 0 back to draft" in result.output  # Fern's is left
    assert number not in result.output and "Fern" not in result.output
