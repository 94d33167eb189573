"""Preferences in a real browser: set a customer's delivery plan and standing item, then open
that day's delivery sheet and find them on it; the tab at phone width and the printed PDF."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crm.catalogue.models import Route
from crm.common import farm_today
from crm.extensions import db
from tests import factories
from tests.e2e.conftest import ARTIFACTS, PHONE, sign_in

pytestmark = pytest.mark.e2e


def seed(app):
    with app.app_context():
        factories.catalogue()
        customer = factories.customer("Little Fern Kitchen")
        db.session.add(Route(name="North"))
        db.session.commit()
        next_tuesday = farm_today() + timedelta(days=(1 - farm_today().weekday()) % 7 or 7)
        found = customer.id, next_tuesday
        db.session.remove()
        return found


def test_set_preferences_then_find_them_on_the_days_sheet(app, page, make_staff):
    customer_id, tuesday = seed(app)
    email, password = make_staff("sales")
    sign_in(page, email, password)
    page.goto(f"/customers/{customer_id}")
    page.get_by_role("link", name="Preferences").click()
    expect(page.get_by_role("heading", level=2, name="Preferences")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/customers/{customer_id}/preferences$"))

    expect(page.locator("form.plan-form")).to_have_count(0)  # read first, edited on demand
    page.get_by_role("link", name="Edit delivery plan").click()
    plan = page.locator("form.plan-form")
    plan.get_by_label("Tue").check()
    plan.get_by_label("Fri").check()
    plan.get_by_label("Window from").fill("07:00")
    plan.get_by_label("Window until").fill("06:00")  # before it starts: refused, kept
    plan.get_by_label("Route").select_option(label="North")
    plan.get_by_label("Stop number").fill("4")
    plan.get_by_label("Returnable crates").check()
    plan.get_by_role("button", name="Save delivery plan").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("The window ends before it starts.")
    expect(alert).to_be_focused()
    plan = page.locator("form.plan-form")
    expect(plan.get_by_label("Tue")).to_be_checked()  # what was typed is kept
    plan.get_by_label("Window until").fill("09:30")
    plan.get_by_role("button", name="Save delivery plan").click()
    expect(page.locator("#toasts")).to_contain_text("Delivery plan saved.")
    expect(page.get_by_text("Tue, Fri, 7:00 AM–9:30 AM · North route, stop 4")).to_be_visible()

    page.get_by_role("link", name="Edit standing items").click()
    item = page.locator("form.item-form")
    item.get_by_label("Product").select_option(label="Sunflower")
    item.get_by_label("Size").select_option("4 oz")
    item.get_by_label("Quantity").fill("6")
    item.get_by_label("Packaging").select_option(label="Returnable crate")
    item.get_by_role("button", name="Add standing item").click()
    expect(page.locator("#toasts")).to_contain_text("Standing item added.")
    items = page.get_by_role("region", name="Standing items")
    expect(items.get_by_role("cell", name="Sunflower", exact=True)).to_be_visible()

    page.get_by_role("link", name="Edit likes and dislikes").click()
    likes = page.locator("form.likes-form")
    likes.get_by_role("group", name="Never send").get_by_label("Radish").check()
    likes.get_by_role("button", name="Save likes and dislikes").click()
    expect(page.locator("#toasts")).to_contain_text("Likes and dislikes saved.")
    history = page.get_by_role("region", name="History")
    expect(history).to_contain_text("Sales Person")
    expect(history).to_contain_text("standing item")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Delivery sheets").click()
    page.get_by_label("Date").fill(tuesday.isoformat())
    page.get_by_role("button", name="Show").click()
    north = page.get_by_role("region", name="North route")
    expect(north).to_contain_text("Little Fern Kitchen")
    expect(north).to_contain_text("7:00 AM–9:30 AM")
    expect(north).to_contain_text("Never send: Radish")
    totals = page.get_by_role("region", name=re.compile("Packing totals"))
    expect(totals.get_by_role("row", name=re.compile("Sunflower 4 oz Returnable crate 6"))).to_be_visible()
    (ARTIFACTS / "screenshots" / "desktop").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "desktop" / "prefs-02-sheet.png"),
                    full_page=True)
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()  # not on paper
    expect(north).to_be_visible()

    pdf = page.request.get(f"/delivery/sheets.pdf?date={tuesday.isoformat()}")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF-")
    (ARTIFACTS / "sheet.pdf").write_bytes(pdf.body())


def test_preferences_tab_at_phone_width(app, new_page, make_staff):
    customer_id, _ = seed(app)
    email, password = make_staff("sales")
    page = new_page(PHONE)
    sign_in(page, email, password)
    page.goto(f"/customers/{customer_id}/preferences")
    expect(page.get_by_role("heading", level=2, name="Preferences")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    (ARTIFACTS / "screenshots" / "phone").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "screenshots" / "phone" / "prefs-01-tab.png"),
                    full_page=True)
    assert not overflow, "the Preferences tab scrolls sideways at phone width"
