"""Service priority: the follow-ups and tickets lists sorted and filtered by the customers'
value tier and churn risk (communications reads them through Feature.customer_rank)."""
from datetime import datetime, timedelta, timezone

import pytest

from crm.common import farm_today
from crm.communications.models import Interaction, Ticket
from crm.extensions import db
from crm.segments.models import CustomerCategory
from tests import factories

# name: (value tier, churn risk); "Plain" has no computed row at all
CUSTOMERS = {"Ash Cafe": ("C", "high"), "Birch Bistro": ("A", "low"),
             "Cedar Diner": ("A", "high"), "Dill Deli": (None, "rising"), "Plain Pantry": None}


@pytest.fixture
def ranked(app, auth):
    me = auth.sign_in("manager")
    with app.app_context():
        today = farm_today()
        made = {}
        for n, (name, rank) in enumerate(CUSTOMERS.items()):
            c = factories.customer(name, contact=False, address=False)
            made[name] = c.id
            if rank:
                db.session.add(CustomerCategory(customer_id=c.id, computed_on=today,
                                                value_tier=rank[0], churn_risk=rank[1]))
            # due dates in name order (all "Coming up": the priority sorts within each group)
            db.session.add(Interaction(
                customer_id=c.id, channel="call", direction="outbound", subject=f"Call {name}",
                occurred_at=datetime.now(timezone.utc), logged_by_kind="staff",
                logged_by_id=me, follow_up_due=today + timedelta(days=1 + n),
                follow_up_assignee_id=me))
            db.session.add(Ticket(customer_id=c.id, subject=f"Ticket {name}", status="open",
                                  opened_by_kind="system",
                                  opened_at=datetime.now(timezone.utc) - timedelta(days=10 - n)))
        db.session.commit()
    return made


def order_in(text, prefix):
    names = sorted((name for name in CUSTOMERS if f"{prefix} {name}" in text),
                   key=lambda name: text.index(f"{prefix} {name}"))
    return [name.split()[0] for name in names]


def test_follow_ups_sorted_by_priority_tier_then_risk(client, ranked):
    page = client.get("/follow-ups?sort=priority")
    assert page.status_code == 200
    # A before C before no tier; within A high before low; no tier: rising before no rank
    assert order_in(page.text, "Call") == ["Cedar", "Birch", "Ash", "Dill", "Plain"]
    assert order_in(client.get("/follow-ups?sort=risk").text, "Call") == [
        "Cedar", "Ash", "Dill", "Birch", "Plain"]
    assert order_in(client.get("/follow-ups").text, "Call") == [
        "Ash", "Birch", "Cedar", "Dill", "Plain"]


def test_follow_ups_filtered_by_tier_and_risk_with_badges(client, ranked):
    page = client.get("/follow-ups?tier=A").text
    assert "Call Birch" in page and "Call Cedar" in page
    assert "Call Ash" not in page and "Call Plain" not in page
    page = client.get("/follow-ups?tier=A&risk=high").text
    assert "Call Cedar" in page and "Call Birch" not in page
    assert '<span class="badge tier tier-a" title="Value tier A">Tier A</span>' in page
    assert '<span class="badge risk risk-high">High risk</span>' in page
    assert '<option value="A" selected>Tier A</option>' in page
    # the reschedule form goes back to the same filtered list
    assert "tier=A" in page.split('class="reschedule"')[1].split(">")[0]
    unknown = client.get("/follow-ups?tier=Z&risk=%27;drop&sort=x")
    assert unknown.status_code == 200 and "Call Plain" in unknown.text


def test_tickets_sorted_and_filtered_by_priority(client, ranked):
    page = client.get("/tickets?sort=priority")
    assert order_in(page.text, "Ticket") == ["Cedar", "Birch", "Ash", "Dill", "Plain"]
    assert order_in(client.get("/tickets").text, "Ticket") == [
        "Ash", "Birch", "Cedar", "Dill", "Plain"]  # longest waiting first
    page = client.get("/tickets?risk=high&sort=priority").text
    assert order_in(page, "Ticket") == ["Cedar", "Ash"]
    assert "risk=high" in page.split("Ticket status")[1].split("</nav>")[0]  # status links keep it
