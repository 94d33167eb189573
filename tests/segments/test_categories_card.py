"""The customer page's Categories card: each category in words, the date computed, the
revenue only for roles that see money."""
from datetime import date

import pytest

from crm.extensions import db
from crm.segments.models import CustomerCategory
from tests import factories


@pytest.fixture
def computed(app):
    with app.app_context():
        c = factories.customer("Cedar Diner")
        db.session.add(CustomerCategory(
            customer_id=c.id, computed_on=date(2026, 11, 30), revenue_12m=1234567,
            value_tier="A", orders_12m=40, last_order_on=date(2026, 11, 5), cadence_days=7,
            days_since_order=25, churn_risk="high", interactions_90d=4, engagement="medium",
            recency=2, frequency=5, monetary=5))
        db.session.commit()
        return c.id


@pytest.mark.parametrize("role", ["admin", "manager", "finance", "sales", "delivery", "viewer"])
def test_the_card_explains_each_category_and_shows_money_only_to_money_roles(
        client, auth, computed, role):
    auth.sign_in(role)
    page = client.get(f"/customers/{computed}")
    assert page.status_code == 200
    text = page.text
    assert 'id="glance-categories">Categories' in text
    assert ("Tier A: among the customers making the top 80 % of the last 12 months&#39; "
            "revenue.") in text
    assert "Orders about every 7 days" in text
    assert ("Last order 25 days ago — more than 3 × the usual gap of 7 days: high risk."
            in text)
    assert "Medium: in touch 4 times in the last 90 days (3–5)." in text
    assert "Recency 2, frequency 5, monetary 5" in text and "40 orders in 12 months" in text
    assert "Computed on Mon Nov 30 2026" in text
    shows_money = role in ("admin", "manager", "finance")
    assert ("$12,345.67" in text) is shows_money
    assert ("Revenue, last 12 months" in text) is shows_money


def test_a_customer_never_computed_says_so(app, client, auth):
    auth.sign_in("sales")
    with app.app_context():
        customer_id = factories.customer().id
    page = client.get(f"/customers/{customer_id}")
    assert "Not computed yet: the categories are computed every night." in page.text
