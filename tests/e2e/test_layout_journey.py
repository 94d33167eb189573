"""The staff layout in a real browser (issue 14, items 9, 12 and 14): at phone width the header
folds behind a Menu button, the customer's tabs are one sideways row, no page is wider than the
screen; screen readers hear "12 customers", "Contacts tab" and "Logged." from one live region;
the Communications tab shows its history within the first screen of a phone.

Screenshots go to test-artifacts/screenshots/<width>/layout-*.png.
"""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crm.auth.services import find_by_email
from crm.common import utcnow
from crm.communications.services import log_interaction
from crm.extensions import db
from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE, Screenshots, sign_in
from tests.e2e.test_communications_journey import open_quick_log

pytestmark = pytest.mark.e2e

NAMES = ["Blue Heron Bistro", "Golden Radish Cafe", "Green City Market Stall 7",
         "Greenhouse Grocer", "Pilsen Community Grocer", "Bridgeport Noodle Bar"]


def seed(app, email):
    """Customers, the catalogue, and three entries on the first customer's timeline."""
    with app.app_context():
        factories.catalogue()
        first = None
        for name in NAMES:
            made = factories.customer(name)
            first = first or made
        actor = find_by_email(email).actor
        for hours, subject in ((2, "Tasting with the new sous-chef"), (26, "Invoice question"),
                               (50, "Tuesday order")):
            log_interaction(first, {"occurred_at": utcnow() - timedelta(hours=hours),
                                    "channel": "call", "direction": "outbound",
                                    "visibility": "internal", "subject": subject,
                                    "body": "Chef wants pea shoots and sunflower."}, actor=actor)
        db.session.commit()
        found = first.id
        db.session.remove()
        return found


def no_sideways_overflow(page):
    width = page.evaluate("() => [document.documentElement.scrollWidth,"
                          " document.documentElement.clientWidth]")
    assert width[0] <= width[1], f"the page is {width[0]} px wide in {width[1]} px"


def test_the_phone_menu_tabs_and_what_screen_readers_hear(app, new_page, make_staff):
    email, password = make_staff("admin")
    customer_id = seed(app, email)
    page = new_page(PHONE)
    shots = Screenshots("phone")
    sign_in(page, email, password)

    # The header: one short row, the navigation, search and account behind "Menu".
    button = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Main")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(button).to_have_attribute("aria-controls", "site-menu")
    expect(nav).to_be_hidden()
    assert page.locator(".site-header").bounding_box()["height"] < 80
    no_sideways_overflow(page)
    shots.take(page, "layout-01-customer-list-menu-closed", full_page=False)

    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(nav).to_be_visible()
    expect(page.get_by_role("combobox", name=re.compile("^Find"))).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    expect(nav.get_by_role("link", name="Customers")).to_have_attribute("aria-current", "page")
    no_sideways_overflow(page)
    shots.take(page, "layout-02-customer-list-menu-open", full_page=False)

    # Escape closes it from inside and gives the focus back to the button.
    nav.get_by_role("link", name="Contacts").focus()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")
    # Enter opens it again; "/" from the page opens it and goes to the search box.
    page.keyboard.press("Enter")
    expect(nav).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    page.locator("main h1").click()
    page.keyboard.press("/")
    expect(page.get_by_role("combobox", name=re.compile("^Find"))).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Escape")  # closes the menu (the box is empty)
    expect(nav).to_be_hidden()

    # A search: the list is no live region; the one status region says how many.
    assert page.locator("#results").get_attribute("aria-live") is None
    page.get_by_label("Search", exact=True).press_sequentially("gre", delay=30)
    announce = page.locator("#toasts[role=status] #announce")
    expect(announce).to_have_text("2 customers matching “gre”")
    expect(page.locator("#results")).to_contain_text("Greenhouse Grocer")

    # The customer's page: the tabs are one row that scrolls sideways; nothing wider than
    # the screen.
    page.goto(f"/customers/{customer_id}")
    tabs = page.get_by_role("navigation", name="Customer sections")
    expect(tabs.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")
    tops = tabs.locator("li").evaluate_all("items => items.map(li => li.getBoundingClientRect().top)")
    assert len(tops) > 3 and len(set(tops)) == 1, f"tabs on {len(set(tops))} rows"
    scrolls = tabs.locator("ul").evaluate("ul => [ul.scrollWidth, ul.clientWidth]")
    assert scrolls[0] > scrolls[1], "the row of tabs does not scroll"
    no_sideways_overflow(page)
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    assert page.locator("#tab-panel").get_attribute("aria-live") is None

    # A tab switch: "Contacts tab" is said, the focus is on the tab's heading.
    tabs.get_by_role("link", name="Contacts").click()
    expect(page.get_by_role("heading", level=2, name="Contacts")).to_be_focused()
    expect(announce).to_have_text("Contacts tab")
    no_sideways_overflow(page)

    # Communications, the last tab: scrolled into view in its row, and the history is on the
    # first screen (the quick log is one line above it).
    communications = tabs.get_by_role("link", name="Communications")
    communications.click()
    expect(page.get_by_role("heading", level=2, name="Communications")).to_be_focused()
    expect(announce).to_have_text("Communications tab")
    box, link = tabs.locator("ul").bounding_box(), communications.bounding_box()
    assert box["x"] <= link["x"] and link["x"] + link["width"] <= box["x"] + box["width"] + 1
    timeline = page.get_by_role("region", name="Timeline")
    assert timeline.get_attribute("aria-live") is None
    first = timeline.locator("li.entry").first
    expect(first).to_contain_text("Tasting with the new sous-chef")
    page.evaluate("window.scrollTo(0, 0)")
    assert first.bounding_box()["y"] < 900 - 100, "the history starts below the first screen"
    no_sideways_overflow(page)
    shots.take(page, "layout-03-communications-tab", full_page=False)

    # Logging: the form folds again, the entry is on top, "Logged." is said.
    form = open_quick_log(page)
    form.get_by_label("Subject", exact=True).fill("Weekly order confirmed")
    form.get_by_label("What was said", exact=True).fill("Six trays sunflower.")
    shots.take(page, "layout-04-communications-quick-log-open")
    form.get_by_role("button", name="Log it").click()
    expect(page.locator("#toasts[role=status]")).to_contain_text("Logged.")
    expect(timeline.locator("li.entry").first).to_contain_text("Weekly order confirmed")
    expect(page.locator("details.quick-log-fold")).to_have_js_property("open", False)
    assert timeline.locator("li.entry").first.bounding_box()["y"] < page.evaluate(
        "window.scrollY") + 844

    # The catalogue fits the screen.
    page.goto("/catalogue/")
    expect(page.get_by_role("heading", level=1, name="Catalogue")).to_be_visible()
    no_sideways_overflow(page)
    for field in page.locator("main input:visible").all():
        right = field.bounding_box()["x"] + field.bounding_box()["width"]
        assert right <= PHONE["width"], f"an input reaches {right} px"
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()
    shots.take(page, "layout-05-catalogue")


def test_without_javascript_the_menu_is_open_and_there_is_no_button(app, browser, live_server,
                                                                    make_staff):
    email, password = make_staff("admin")
    seed(app, email)
    context = browser.new_context(base_url=live_server, viewport=PHONE, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/auth/sign-in")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/customers/"))
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()
        expect(page.get_by_role("button", name="Menu")).to_have_count(0)  # hidden: not shown
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    finally:
        context.close()


def test_desktop_shows_the_navigation_and_no_menu_button(app, new_page, make_staff):
    email, password = make_staff("admin")
    customer_id = seed(app, email)
    page = new_page(DESKTOP)
    shots = Screenshots("desktop")
    sign_in(page, email, password)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    shots.take(page, "layout-01-customer-list", full_page=False)
    page.goto(f"/customers/{customer_id}/communications")
    expect(nav.get_by_role("link", name="Customers")).to_have_attribute("aria-current", "page")
    first = page.get_by_role("region", name="Timeline").locator("li.entry").first
    assert first.bounding_box()["y"] < 600
    shots.take(page, "layout-03-communications-tab")
    page.goto("/catalogue/")
    expect(nav.get_by_role("link", name="Catalogue")).to_have_attribute("aria-current", "page")
    shots.take(page, "layout-05-catalogue")
    # narrowed to a phone, the menu folds; widened again, it shows
    page.set_viewport_size(PHONE)
    expect(nav).to_be_hidden()
    page.set_viewport_size(DESKTOP)
    expect(nav).to_be_visible()
