from collections import Counter

from sqlalchemy import func, select

from crm.auth.services import authenticate
from crm.customers.models import KINDS, Customer
from crm.extensions import db


def test_seed_makes_a_believable_farm_once(app, runner):
    result = runner.invoke(args=["demo", "seed", "--weeks", "2"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        customers = db.session.scalars(select(Customer)).all()
        assert 55 <= len(customers) <= 65
        assert set(Counter(c.kind for c in customers)) == set(KINDS)
        group = next(c for c in customers if c.name == "Blue Heron Hospitality")
        assert len(group.locations) == 3
        assert all(c.contact_links and c.addresses for c in customers)
        for role in ("admin", "manager", "sales", "finance", "delivery", "viewer"):
            assert authenticate(f"{role}@example.com", "microgreens").role == role
        from crm.common import farm_today
        from crm.communications.models import Interaction, Ticket

        due = db.session.scalars(select(Interaction.follow_up_due).where(
            Interaction.follow_up_due.is_not(None))).all()
        assert any(d < farm_today() for d in due) and any(d >= farm_today() for d in due)
        tickets = db.session.scalars(select(Ticket)).all()
        assert {t.status for t in tickets} == {"open", "pending", "resolved"}
        assert all(len(t.customer.contact_links) for t in tickets)
        from datetime import timedelta

        from crm.delivery.services import delivery_sheet

        sheets = [delivery_sheet(farm_today() + timedelta(days=d)) for d in range(7)]
        for sheet in sheets:
            if sheet.day.weekday() < 6:  # every weekday's sheet has stops, Monday to Saturday
                assert sheet.routes and sheet.totals, sheet.day
        assert {name for sheet in sheets for name in sheet.routes} == {"North", "South", "East"}
        from crm.preferences.models import DeliveryPause

        assert db.session.scalar(select(DeliveryPause).where(
            DeliveryPause.starts_on <= farm_today(), DeliveryPause.ends_on >= farm_today()))
        from crm.segments import rules
        from crm.segments.models import CustomerCategory, CustomerTag, Segment
        from crm.segments.services import tree_of

        assert db.session.scalar(select(func.count()).select_from(CustomerTag)) > 10
        segments = db.session.scalars(select(Segment)).all()
        assert {s.shared for s in segments} == {True, False}
        assert all(rules.count(tree_of(s)) > 0 for s in segments)  # the demo's have members
        computed = db.session.scalars(select(CustomerCategory)).all()
        assert len(computed) == len(customers) and {c.value_tier for c in computed} >= set("ABC")
        db.session.commit()
    again = runner.invoke(args=["demo", "seed"])
    assert again.exit_code == 0 and "already present" in again.output
    with app.app_context():
        assert len(db.session.scalars(select(Customer.id)).all()) == len(customers)


def test_bulk_adds_searchable_customers(app, runner):
    result = runner.invoke(args=["demo", "bulk", "--customers", "120"])
    assert result.exit_code == 0 and "Added 120 customers." in result.output
    with app.app_context():
        from crm.customers.services import get_customer, search_customers

        customer = get_customer(60)
        assert customer.contact_links[0].contact.emails[0].email.endswith("@example.net")
        word = customer.name.split()[0][:3]
        assert customer in search_customers(q=word, per_page=200)[0]
    assert runner.invoke(args=["demo", "bulk", "--customers", "0"]).exit_code != 0


def test_demo_data_is_refused_in_production(database_url, monkeypatch, make_app):
    from config import ProductionConfig

    class Production(ProductionConfig):
        SECRET_KEY = "s" * 32
        CRM_ENCRYPTION_KEYS = ["k" * 32]
        CRM_BLIND_INDEX_KEY = "b" * 32
        RATELIMIT_STORAGE_URI = "redis://127.0.0.1:6379/15"
        SQLALCHEMY_DATABASE_URI = database_url

    monkeypatch.setenv("DATABASE_URL", database_url)
    app = make_app(Production)
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    assert "refused under the production configuration" in result.output


def test_the_demo_farms_statuses_agree_with_its_deliveries_and_follow_ups(app, runner):
    """A group and its locations agree; nothing is delivered to, followed up with or opened by
    a customer whose status says it does not buy (issue 13, part 5)."""
    from datetime import timedelta

    from crm.common import farm_today, utcnow
    from crm.communications.demo import INTERACTIONS
    from crm.communications.models import Interaction, Ticket
    from crm.contacts.demo import GROUP, GROUP_LOCATIONS
    from crm.customers.services import find_customers
    from crm.delivery.services import delivery_sheet
    from crm.preferences.models import DeliveryPlan

    assert runner.invoke(args=["demo", "seed", "--weeks", "2"]).exit_code == 0
    with app.app_context():
        customers = db.session.scalars(select(Customer)).all()
        group = next(c for c in customers if c.name == GROUP[0])
        locations = sorted(group.locations, key=lambda c: c.id)
        assert [c.name for c in locations] == GROUP_LOCATIONS
        statuses = {c.status for c in locations}
        assert group.status == next(s for s in ("active", "paused", "lead", "churned")
                                    if s in statuses)
        assert group.status == "active" and statuses == {"active"}  # this farm's draw
        assert [a.kind for a in group.addresses] == ["billing"]  # deliveries go to locations

        planned = set(db.session.scalars(select(DeliveryPlan.customer_id)))
        assert planned == {c.id for c in customers
                           if c.status == "active" and not c.is_archived and not c.locations}
        sheets = [delivery_sheet(farm_today() + timedelta(days=d)) for d in range(14)]
        delivered = {stop.customer.id for sheet in sheets for stops in sheet.routes.values()
                     for stop in stops}
        assert delivered and delivered <= planned

        gone = {c.id for c in customers if c.status == "churned" or c.is_archived}
        assert gone  # the farm has churned customers to check
        open_follow_ups = db.session.scalars(select(Interaction.customer_id).where(
            Interaction.follow_up_due.is_not(None), Interaction.follow_up_done_at.is_(None)))
        assert not gone & set(open_follow_ups)
        waiting = db.session.scalars(select(Ticket.customer_id).where(
            Ticket.status.in_(("open", "pending"))))
        assert not gone & set(waiting)
        ticketed = db.session.scalars(select(Ticket.customer_id))
        assert {db.session.get(Customer, i).status for i in ticketed} == {"active"}
        recent = db.session.scalars(select(Interaction.customer_id).where(
            Interaction.occurred_at > utcnow() - timedelta(days=60)))
        assert not gone & set(recent)  # a churned customer's conversations are from before

        leads = {c.id for c in customers if c.status == "lead"}
        about_orders = {subject for _, _, subject, _, _ in INTERACTIONS
                        if subject in ("Weekly order", "Short delivery")}
        assert db.session.scalars(select(Interaction).where(
            Interaction.customer_id.in_(leads))).all()  # leads are talked to ...
        assert not [i for i in db.session.scalars(select(Interaction).where(
            Interaction.customer_id.in_(leads))) if i.subject in about_orders]  # ... not of orders

        # The examples are on the demo farm: Zoe Reyes, chef at Logan Square.
        logan = next(c for c in locations if "Logan Square" in c.name)
        for typed in ("zoe reyes", "(312) 555-1814"):
            assert logan in find_customers(typed).customers
