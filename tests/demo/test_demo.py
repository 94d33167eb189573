from collections import Counter

from sqlalchemy import select

from crm.auth.services import authenticate
from crm.customers.models import KINDS, Customer
from crm.extensions import db


def test_seed_makes_a_believable_farm_once(app, runner):
    result = runner.invoke(args=["demo", "seed"])
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
