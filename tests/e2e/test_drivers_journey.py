"""Issue 14 items 10 and 11 in a browser: a manager snoozes a colleague's follow-up from the
team's list, opens a ticket picking the customer by typing, and a driver's sheet has its links.
Screenshots of the follow-ups page and a delivery sheet at 1280 and 390 px are written to
test-artifacts/screenshots/<width>/ (issue14-*.png) for a person to look at."""
import re
from datetime import time, timedelta

import pytest
from playwright.sync_api import expect

from crm.common import SYSTEM, farm_today, utcnow
from crm.communications.models import Interaction
from crm.extensions import db
from tests import factories
from tests.e2e.conftest import DESKTOP, PASSWORD, PHONE, Screenshots, sign_in

pytestmark = pytest.mark.e2e

DAY = "2026-11-24"  # a Tuesday


@pytest.fixture
def farm(app):
    """A manager and a sales person with follow-ups (one overdue), two customers named alike,
    and a route of three stops on DAY; returns the manager's email and the farm's today."""
    from crm.auth.services import create_user

    with app.app_context():
        factories.catalogue()
        manager = create_user("manager@farm.test", "Sam Manager", "manager", PASSWORD, actor=SYSTEM)
        sales = create_user("sales@farm.test", "Tom Seller", "sales", PASSWORD, actor=SYSTEM)
        db.session.flush()
        fern = factories.customer("Fern Cafe", notes="Pays on time")
        factories.customer("Fern Deli")
        oak = factories.customer("Oak Bistro")
        elm = factories.customer("Elm Street Grocer")
        for customer, stop in ((fern, 2), (oak, 5), (elm, 9)):
            factories.delivery_plan(customer, stop=stop, window_start=time(7),
                                    window_end=time(9, 30), special_handling="Keep cold",
                                    call_ahead=stop == 2)
        today = farm_today()
        for customer, who, due, subject in (
                (fern, sales, today - timedelta(days=2), "Chase the crate count"),
                (oak, sales, today, "Confirm Friday's order"),
                (elm, manager, today + timedelta(days=3), "Holiday menu tasting")):
            db.session.add(Interaction(
                customer_id=customer.id, channel="call", direction="outbound", subject=subject,
                occurred_at=utcnow() - timedelta(days=3), logged_by_kind="staff",
                logged_by_id=who.id, follow_up_due=due, follow_up_assignee_id=who.id,
                contact_id=customer.contact_links[0].contact_id))
        db.session.commit()
        db.session.remove()
    return "manager@farm.test", today


@pytest.mark.parametrize("width_name, viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_the_team_follow_ups_snooze_and_the_delivery_sheet(farm, new_page, width_name, viewport):
    email, today = farm
    shots = Screenshots(width_name)
    page = new_page(viewport)
    sign_in(page, email)
    page.goto("/follow-ups?assignee=all")
    expect(page.get_by_role("heading", name="Everyone's follow-ups")).to_be_visible()
    row = page.locator("li.card", has_text="Chase the crate count")
    expect(row.locator('a[href^="tel:+1312"]')).to_be_visible()
    expect(row.locator('a[href^="mailto:"]')).to_be_visible()
    expect(page.get_by_role("table", name=re.compile("Overdue follow-ups per person"))
           ).to_contain_text("Tom Seller")
    shots.take(page, "issue14-follow-ups")
    row.get_by_role("button", name=re.compile(r"^\+1 day")).click()
    expect(page.get_by_role("status").filter(has_text="Follow-up moved to")).to_be_visible()
    coming = page.locator("section", has=page.get_by_role("heading", name=re.compile("Coming up")))
    expect(coming).to_contain_text("Chase the crate count")
    # Reschedule by date, from the keyboard: open it, type a date, Enter moves it (no snooze).
    later = today + timedelta(days=20)
    row = page.locator("li.card", has_text="Confirm Friday's order")
    row.locator("summary").click()
    date_field = row.get_by_label("New due date")
    date_field.fill(later.isoformat())
    date_field.press("Enter")
    expect(page.locator("li.card", has_text="Confirm Friday's order")
           ).to_contain_text(f"follow up by {later:%a %b} {later.day}")
    shots.take(page, "issue14-follow-ups-after-snooze")

    page.goto(f"/delivery/sheets?date={DAY}")
    stop = page.locator("li.stop", has_text="Oak Bistro")
    expect(stop.locator(".stop-no")).to_have_text("2")
    expect(stop.locator(".plan-stop")).to_have_text("(plan stop 5)")
    expect(stop.get_by_role("link", name="Oak Bistro")).to_have_attribute(
        "href", re.compile(r"^/delivery/customers/\d+$"))
    expect(stop.locator('a[href^="https://www.google.com/maps/search/?api=1&query="]')
           ).to_be_visible()
    expect(stop.locator('a[href^="tel:+1312"]')).to_be_visible()
    expect(page.locator(".sheet")).not_to_contain_text("Pays on time")
    shots.take(page, "issue14-delivery-sheet")
    page.emulate_media(media="print")
    shots.take(page, "issue14-delivery-sheet-print")
    assert shots.overflow == [], shots.overflow


def test_a_new_ticket_with_the_customer_picked_as_you_type(farm, page):
    sign_in(page, farm[0])
    page.goto("/tickets")
    page.get_by_role("link", name="New ticket").click()
    page.get_by_role("searchbox", name="Customer").press_sequentially("fern", delay=30)
    choices = page.get_by_role("group", name="Which customer?").get_by_role("radio")
    expect(choices).to_have_count(2)
    expect(page.get_by_role("status").filter(has_text="2 customers match.")).to_be_visible()
    page.get_by_role("radio", name=re.compile("Fern Cafe")).check()
    page.get_by_label("Subject").fill("Wilted pea shoots")
    page.get_by_label("First message").fill("Tuesday's box arrived wilted.")
    page.get_by_role("button", name="Open the ticket").click()
    page.wait_for_url(re.compile(r"/tickets/\d+$"))
    expect(page.get_by_role("heading", name="Wilted pea shoots")).to_be_visible()
    expect(page.locator(".crumbs")).to_contain_text("Fern Cafe")
