"""Issue 14's day at phone width (390 px), on the demo farm, as a sales user: find a customer
by a phone number read off a missed call, read the Overview, edit one preference section in
place, log a call, open the day's delivery sheet and follow a tel: link."""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.extensions import db
from tests.e2e.conftest import PHONE, Screenshots

pytestmark = pytest.mark.e2e


def demo_customer(app):
    """The demo's Logan Square bistro (its chef Zoe Reyes on (312) 555-1814) and its next
    delivery date."""
    from crm.common import farm_today
    from crm.customers.models import Customer
    from crm.demo.seed import seed
    from crm.preferences.models import DeliveryPlan
    from crm.preferences.schedule import delivers_on

    with app.app_context():
        seed(weeks=4)  # a month of orders and invoices is enough here
        bistro = next(c for c in db.session.scalars(select(Customer))
                      if c.name.endswith("Logan Square"))
        plan = db.session.get(DeliveryPlan, bistro.id)
        day = next(farm_today() + timedelta(days=n) for n in range(1, 29)
                   if delivers_on(plan, farm_today() + timedelta(days=n)))
        found = bistro.id, day
        db.session.remove()
    return found


def test_a_sales_users_day_on_a_phone(app, new_page):
    bistro_id, day = demo_customer(app)
    shots = Screenshots("phone")
    page = new_page(PHONE)
    page.goto("/auth/sign-in")
    page.get_by_label("Email").fill("sales@example.com")
    page.get_by_label("Password").fill("microgreens")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/customers/"))

    # Find the customer by the number of a missed call, from the header's search.
    page.get_by_role("button", name="Menu").click()
    search = page.get_by_role("combobox", name="Find a customer, person")
    search.fill("(312) 555-1814")
    listbox = page.get_by_role("listbox")
    expect(listbox.get_by_role("option").first).to_contain_text("Blue Heron Bistro")
    search.press("ArrowDown")
    search.press("Enter")
    page.wait_for_url(re.compile(rf"/customers/{bistro_id}$"))

    # The Overview: who to call (tap to call), the next delivery.
    call = page.get_by_role("region", name="Who to call").get_by_role("link", name="(312) 555-1814")
    expect(call).to_have_attribute("href", "tel:+13125551814")
    expect(page.get_by_role("region", name="Next delivery")).to_contain_text(
        day.strftime("%a %b %-d"))
    shots.take(page, "week-01-overview")

    # One preference section edited in place.
    page.get_by_role("link", name="Preferences").click()
    likes = page.get_by_role("region", name="Likes and dislikes")
    likes.get_by_role("link", name="Edit likes and dislikes").click()
    box = likes.get_by_role("group", name="Likes").locator("input[type=checkbox]:not(:checked)").first
    product = box.evaluate("el => el.labels[0].textContent.trim()")
    box.check()
    likes.get_by_role("button", name="Save likes and dislikes").click()
    expect(page.locator("#toasts")).to_contain_text("Likes and dislikes saved.")
    expect(page.locator("#prefs-likes")).to_contain_text(re.compile(rf"Likes: [^\n]*{product}"))

    # A call logged from the Communications tab; it is on top of the timeline.
    page.get_by_role("link", name="Communications").click()
    page.locator("details.quick-log-fold > summary").click()
    form = page.locator("#quick-log")
    form.get_by_label("Subject", exact=True).fill("Asked for more pea shoots on Friday")
    form.get_by_role("button", name="Log it").click()
    expect(page.locator("#toasts")).to_contain_text("Logged")
    expect(page.locator("#timeline .entry-subject").first).to_have_text(
        "Asked for more pea shoots on Friday")
    shots.take(page, "week-02-logged")

    # The day's sheet; the stop's phone is a link a phone can call.
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Delivery sheets").click()
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_role("button", name="Show").click()
    stop = page.locator("li, article, section").filter(
        has=page.get_by_role("link", name=re.compile("Blue Heron Bistro — Logan Square"))).last
    phone = stop.locator('a[href^="tel:"]').first
    expect(phone).to_be_visible()
    href = phone.get_attribute("href")
    assert re.fullmatch(r"tel:\+\d{11}", href), href
    shots.take(page, "week-03-sheet")
    dialled = []
    page.context.route("tel:*", lambda route: (dialled.append(route.request.url), route.abort()))
    page.on("request", lambda request: dialled.append(request.url)
            if request.url.startswith("tel:") else None)
    phone.click()  # the phone's dialler takes it; the page stays where it is
    expect(page).to_have_url(re.compile(r"/delivery/sheets"))
    assert shots.overflow == [], shots.overflow
