"""The job orders_for_date: given only a day, it finds the customers delivering then (plans and
pauses, as the sheet does) and makes their orders, confirmed or, blocked by credit, drafts;
and the Orders for a day page that starts it and shows what came of it."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.audit.models import AuditEvent
from crm.common import SYSTEM
from crm.credit import services as credit
from crm.customers.models import Customer
from crm.extensions import db
from crm.jobs.models import JobRun
from crm.jobs.services import enqueue
from crm.orders.jobs import day_param, param_day
from crm.orders.models import Order
from crm.preferences.models import DeliveryPause, StandingItem
from crm.preferences.schedule import customers_delivering
from tests import factories
from tests.orders.conftest import PEA
from tests.orders.test_tab import tomorrow

EVERY_DAY = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@pytest.fixture
def day_customers(app, shop):
    """For tomorrow: Fern Cafe (the shop's) and Oak Bistro (on hold) deliver with standing
    items; Elm Deli delivers without any; Birch Bakery is paused; Ash Grocer has standing items
    but no plan. Returns {name: id}."""
    with app.app_context():
        fern = db.session.get(Customer, shop.customer_id)
        oak, elm, birch, ash = (factories.customer(n) for n in
                                ("Oak Bistro", "Elm Deli", "Birch Bakery", "Ash Grocer"))
        for stop, customer in enumerate((fern, oak, elm, birch), 1):
            factories.delivery_plan(customer, stop=stop, weekdays=EVERY_DAY)
        for customer, quantity in ((fern, 10), (oak, 5), (birch, 3), (ash, 2)):
            db.session.add(StandingItem(customer_id=customer.id, product_id=shop.products[PEA],
                                        size="4 oz", quantity=quantity,
                                        packaging_id=shop.packaging["4 oz clamshell"]))
        db.session.add(DeliveryPause(customer_id=birch.id, starts_on=tomorrow(),
                                     ends_on=tomorrow() + timedelta(days=3)))
        credit.place_hold(oak, "Cheque bounced", actor=SYSTEM)
        db.session.commit()
        return {c.name: c.id for c in (fern, oak, elm, birch, ash)}


def test_the_date_travels_as_yyyymmdd():
    day = tomorrow()
    assert param_day(day_param(day)) == day
    assert day_param(day) == int(day.strftime("%Y%m%d"))


def test_the_job_finds_the_days_customers_and_makes_their_orders(app, app_ctx, day_customers):
    ids = day_customers
    assert customers_delivering(tomorrow()) == sorted(
        ids[n] for n in ("Fern Cafe", "Oak Bistro", "Elm Deli"))
    run = enqueue("orders_for_date", actor=SYSTEM, day=day_param(tomorrow()))
    assert run.params == {"day": day_param(tomorrow())}  # a date, no customer's id or name
    db.session.commit()  # without Redis the run goes inline, right after the commit
    run = db.session.get(JobRun, run.id)
    assert run.status == "finished", run.message
    assert {k: run.result[k] for k in ("customers", "confirmed", "blocked", "skipped")} == {
        "customers": 3, "confirmed": 1, "blocked": 1, "skipped": 1}
    made = {o.customer_id: o for o in db.session.scalars(select(Order))}
    assert set(made) == {ids["Fern Cafe"], ids["Oak Bistro"]}  # not the paused, not the planless
    fern, oak = made[ids["Fern Cafe"]], made[ids["Oak Bistro"]]
    assert fern.status == "confirmed" and fern.total == 10 * 600
    assert oak.status == "draft" and oak.credit_reasons[0]["code"] == "hold"
    assert run.result["blocked_orders"] == [oak.id]
    assert fern.delivery_date == tomorrow() and fern.created_by_kind == "system"
    # Again: the day has its orders, nothing more is made.
    again = enqueue("orders_for_date", actor=SYSTEM, day=day_param(tomorrow()))
    db.session.commit()
    again = db.session.get(JobRun, again.id)
    assert (again.result["confirmed"], again.result["skipped"]) == (0, 3)
    assert db.session.scalar(select(db.func.count()).select_from(Order)) == 2


def test_the_job_refuses_customer_ids_in_its_arguments(app, app_ctx, day_customers):
    with pytest.raises(TypeError):
        enqueue("orders_for_date", actor=SYSTEM, day=day_param(tomorrow()),
                customers=list(day_customers.values()))
    with pytest.raises(TypeError):  # nor a date as text
        enqueue("orders_for_date", actor=SYSTEM, day=tomorrow().isoformat())


def test_a_manager_makes_the_orders_from_the_page(app, client, auth, day_customers):
    user_id = auth.sign_in("manager")
    page = client.get("/orders/for-day")
    assert page.status_code == 200 and 'id="orders-for-day-form"' in page.text
    assert f'value="{tomorrow().isoformat()}"' in page.text and "cut-off, 2 PM farm time" in page.text
    sent = auth.post("/orders/for-day", {"delivery_date": tomorrow().isoformat()})
    assert sent.status_code == 303, sent.text
    with app.app_context():
        run = db.session.scalars(select(JobRun)).one()
        assert run.owner_kind == "staff" and run.owner_id == user_id
        oak = db.session.scalar(select(Order).where(
            Order.customer_id == day_customers["Oak Bistro"]))
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.entity_type == "order", AuditEvent.action == "confirm")).all()
        assert [(e.actor_kind, e.actor_id) for e in events] == [("staff", user_id)]
    assert sent.headers["Location"].endswith(f"/orders/for-day?run={run.id}")
    shown = client.get(sent.headers["Location"]).text
    assert "3 customers deliver that day" in shown and "<strong>1</strong> order confirmed" in shown
    assert f"/customers/{oak.customer_id}/orders/{oak.id}" in shown and oak.number in shown
    assert "The account is on hold." in shown and "Cheque bounced" not in shown
    poll = client.get(f"/orders/for-day?run={run.id}", headers={"HX-Request": "true"})
    assert poll.status_code == 286 and "<html" not in poll.text  # done: stop polling
    assert 'hx-trigger="every' not in poll.text


def test_the_form_refuses_a_past_day_and_sales_cannot_use_the_page(app, client, auth,
                                                                   day_customers):
    auth.sign_in("manager")
    refused = auth.post("/orders/for-day", {"delivery_date": "2020-01-01"},
                        page="/orders/for-day")
    assert refused.status_code == 422 and "That day has passed" in refused.text
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(JobRun)) == 0
    other = app.test_client()
    Sales = type(auth)
    seller = Sales(app, other)
    seller.sign_in("sales")
    assert other.get("/orders/for-day").status_code == 403


def test_another_users_run_is_not_found(app, client, auth, day_customers):
    with app.app_context():
        run = enqueue("orders_for_date", actor=SYSTEM, day=day_param(tomorrow()))
        db.session.commit()
        run_id = run.id
    auth.sign_in("manager")
    assert client.get(f"/orders/for-day?run={run_id}").status_code == 404


def test_a_run_still_going_polls_itself(app, client, auth, day_customers):
    user_id = auth.sign_in("manager")
    with app.app_context():  # as a worker would have it: queued, not run yet
        run = JobRun(name="orders_for_date", params={"day": day_param(tomorrow())},
                     owner_kind="staff", owner_id=user_id)
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    poll = client.get(f"/orders/for-day?run={run_id}", headers={"HX-Request": "true"})
    assert poll.status_code == 200 and "<html" not in poll.text
    assert f'hx-get="/orders/for-day?run={run_id}"' in poll.text and "<progress" in poll.text
    page = client.get(f"/orders/for-day?run={run_id}")
    assert page.status_code == 200 and "<html" in page.text and 'id="orders-for-day-run"' in page.text
