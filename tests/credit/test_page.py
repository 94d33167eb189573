"""The farm's Credit page, the nightly work, the outbox."""
from datetime import timedelta

from sqlalchemy import select

from crm.common import SYSTEM, farm_today
from crm.credit import services as credit
from crm.credit.models import CreditAlert, OutboxEmail
from crm.extensions import db
from tests import factories


def test_farm_aging_adds_up_and_matches_every_customer_summed(app_ctx, staff):
    today = farm_today()
    customers = [factories.customer(f"Kitchen {i}") for i in range(3)]
    for n, customer in enumerate(customers):
        for days_ago, due_days in ((0, 14), (20, 7), (50, 0), (100, 0), (-5, 30)):
            credit.issue_invoice(customer, [("Pea", 1, 1000 + n * 7 + days_ago)], actor=staff,
                                 issue_date=today - timedelta(days=days_ago),
                                 due_date=today - timedelta(days=days_ago - due_days))
    credit.record_payment(customers[0], 1500, method="cash", received_on=today, actor=staff)
    db.session.commit()
    farm = credit.farm_aging(today)
    assert sum(farm["buckets"].values()) == farm["total"]
    assert farm["total"] == sum(credit.balance(c.id) for c in customers)
    each = [credit.aging(c.id, today)["buckets"] for c in customers]
    assert farm["buckets"] == {b: sum(e[b] for e in each) for b in farm["buckets"]}
    assert farm["dso"] is not None and farm["dso"] > 0


def test_the_night_alerts_overdue_invoices_once_and_writes_the_outbox(app, app_ctx, staff,
                                                                       runner):
    customer = factories.customer("Fern Cafe")
    today = farm_today()
    credit.issue_invoice(customer, [("Pea", 1, 5000)], actor=staff,
                         issue_date=today - timedelta(days=20), due_date=today - timedelta(2))
    credit.set_terms(customer, credit_limit=5500, terms="net14", version=None, actor=staff)
    db.session.commit()
    result = runner.invoke(args=["credit", "nightly"])
    assert result.exit_code == 0 and "new alerts" in result.output
    kinds = sorted(db.session.scalars(select(CreditAlert.kind)))
    assert kinds == ["near_limit", "overdue"]
    runner.invoke(args=["credit", "nightly"])
    assert len(db.session.scalars(select(CreditAlert)).all()) == 2  # not again while unseen
    [mail] = db.session.scalars(select(OutboxEmail)).all()
    assert mail.subject == "An invoice is overdue"
    assert mail.contact_id == customer.contact_links[0].contact_id  # by id, no address kept


def test_the_credit_page_lists_alerts_and_holds_for_finance_only(app, client, auth):
    with app.app_context():
        customer = factories.customer("Fern Cafe")
        credit.place_hold(customer, "Cheque bounced", actor=SYSTEM)
        db.session.commit()
    auth.sign_in("sales")
    assert client.get("/credit").status_code == 403
    from tests.conftest import Auth

    finance = Auth(app, app.test_client())
    finance.sign_in("finance")
    page = finance.client.get("/credit").text
    assert "Fern Cafe" in page and "Cheque bounced" in page and "Hold placed" in page
    assert "Days sales outstanding" in page
    badges = finance.client.get("/nav/badges").text
    assert ">1<" in badges
    with app.app_context():
        alert_id = db.session.scalar(select(CreditAlert.id))
    done = finance.post("/credit/alerts/seen", {"alert": str(alert_id)}, page="/credit")
    assert done.status_code == 303
    assert "Nothing to look at." in finance.client.get("/credit").text


def test_several_invoices_overdue_are_one_email_a_night(app_ctx, staff, runner):
    customer = factories.customer("Fern Cafe")
    today = farm_today()
    for days in (20, 25, 40):
        credit.issue_invoice(customer, [("Pea", 1, 5000)], actor=staff,
                             issue_date=today - timedelta(days=days),
                             due_date=today - timedelta(days=days - 10))
    db.session.commit()
    assert runner.invoke(args=["credit", "nightly"]).exit_code == 0
    assert len(db.session.scalars(select(CreditAlert).where(
        CreditAlert.kind == "overdue")).all()) == 3
    subjects = db.session.scalars(select(OutboxEmail.subject)).all()
    assert subjects.count("An invoice is overdue") == 1
