"""Issue 14's silent traps, in a real browser: a double click on "Create customer", the PDF
button after changing the date, a pasted 5,000-character name, Enter in the quick log, and
the quick log's date-time field by keyboard. Screenshots of the quick log and the new-customer
form at desktop and phone widths go to test-artifacts/screenshots/<width>/traps-*.png.
"""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from crm.communications.models import Interaction
from crm.customers.models import Customer
from crm.extensions import db
from crm.web import REPLAYED
from tests.e2e.conftest import DESKTOP, PHONE, Screenshots, sign_in
from tests.e2e.test_communications_journey import open_quick_log, seed_customer

pytestmark = pytest.mark.e2e


def count(app, model):
    with app.app_context():
        found = db.session.scalar(select(func.count()).select_from(model))
        db.session.remove()
        return found


def fill_new_customer(page, name="Little Fern Kitchen"):
    page.goto("/customers/new")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("First name").fill("Rosa")
    page.get_by_label("City").fill("Chicago")
    page.get_by_label("Street").fill("2150 N Milwaukee Ave")


def posts_to(page, path):
    """The POSTs the page sends to `path`, as they happen."""
    sent = []
    page.on("request", lambda r: sent.append(r) if r.method == "POST"
            and urlsplit(r.url).path == path else None)
    return sent


def slow_creates(monkeypatch, seconds=0.8):
    """Creating a customer takes a while in the served app (the same process), so a second
    click arrives while the first request is still running."""
    import time

    import crm.contacts.views

    made = crm.contacts.views.create_new_customer

    def slowly(*args, **kwargs):
        time.sleep(seconds)
        return made(*args, **kwargs)

    monkeypatch.setattr(crm.contacts.views, "create_new_customer", slowly)


@pytest.mark.parametrize("javascript", [True, False])
def test_a_double_click_on_create_customer_creates_one(app, browser, live_server, make_staff,
                                                       monkeypatch, javascript):
    """With htmx the button is disabled while the request runs; without JavaScript the second
    click is sent, and answered with the customer the first one made."""
    email, password = make_staff("sales")
    context = browser.new_context(base_url=live_server, viewport=DESKTOP, locale="en-US",
                                  java_script_enabled=javascript)
    try:
        page = context.new_page()
        sign_in(page, email, password)
        fill_new_customer(page)
        slow_creates(monkeypatch)
        button = page.get_by_role("button", name="Create customer")
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        page.mouse.click(x, y)
        page.wait_for_timeout(250)  # the first request is being served
        if javascript:
            expect(button).to_be_disabled()  # hx-disabled-elt, until the answer
        page.mouse.click(x, y)  # without JavaScript: the first page load is dropped for it
        expect(page).to_have_url(re.compile(r"/customers/\d+$"), timeout=10_000)
        expect(page.get_by_role("heading", level=1)).to_have_text("Little Fern Kitchen")
        if not javascript:  # the page shown is the second click's answer
            expect(page.locator("#toasts")).to_contain_text(REPLAYED)
        page.wait_for_timeout(1000)  # anything still on its way has arrived
        assert count(app, Customer) == 1
    finally:
        context.close()


def test_the_pdf_button_prints_the_date_and_route_in_the_fields(app, page, make_staff):
    email, password = make_staff("delivery")
    with app.app_context():
        from crm.catalogue.models import Route

        db.session.add_all([Route(name="North"), Route(name="South")])
        db.session.commit()
        db.session.remove()
    sign_in(page, email, password)
    page.goto("/delivery/sheets?date=2026-11-24&route=North")
    page.route("**/delivery/sheets.pdf*", lambda route: route.fulfill(
        status=200, content_type="application/pdf", body=b"%PDF-1.4\n"))  # not WeasyPrint's
    page.get_by_label("Date").fill("2026-11-27")  # changed, Show not pressed
    page.get_by_label("Route").select_option("South")
    with page.expect_request("**/delivery/sheets.pdf*") as asked:
        page.get_by_role("button", name="PDF").click()
    query = parse_qs(urlsplit(asked.value.url).query)
    assert query == {"date": ["2026-11-27"], "route": ["South"]}


def test_a_pasted_long_name_is_counted_kept_and_refused_with_its_length(app, page, make_staff):
    email, password = make_staff("sales")
    sign_in(page, email, password)
    fill_new_customer(page)
    name = page.get_by_label("Name", exact=True)
    pasted = ("Blue Heron Bistro " * 278)[:4996] + "Ends"
    name.fill(pasted)
    assert len(name.input_value()) == 5000  # not cut to 120
    counter = page.locator("#name-count")
    expect(counter).to_be_visible()
    expect(counter).to_contain_text("5,000 characters: 4,880 too many (120 at most)")
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    name.fill(pasted[:100])
    expect(counter).to_be_visible()
    expect(counter).to_contain_text("100 of 120 characters")
    name.fill(pasted)
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("alert")).to_contain_text("120 characters at most (this has 5,000).")
    assert len(name.input_value()) == 5000  # all kept, to shorten as they see fit
    expect(counter).to_be_hidden()  # the message says it; the count comes back with typing
    page.wait_for_function("!document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")
    name.press("End")
    name.press("Backspace")
    expect(name).to_have_value(pasted[:-1])
    expect(counter).to_contain_text("4,999 characters: 4,879 too many (120 at most)")
    assert count(app, Customer) == 0


def test_enter_in_the_quick_log_does_not_send_it_but_the_button_does(app, page, make_staff):
    email, password = make_staff("sales")
    customer_id, _ = seed_customer(app, "Blue Heron Bistro")
    sign_in(page, email, password)
    url = f"/customers/{customer_id}/communications"
    page.goto(url)
    sent = posts_to(page, url)
    form = open_quick_log(page, keyboard=True)  # opening it sends nothing either

    form.get_by_label("Subject", exact=True).fill("Tuesday order")
    for label in ("Subject", "Outcome", "Minutes"):
        form.get_by_label(label, exact=True).press("Enter")
    form.get_by_label("Follow up by", exact=True).press("Enter")  # a date field too
    form.locator("details.when > summary").press("Enter")  # opens "When"; sends nothing
    expect(form.get_by_label("When", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    form.get_by_label("Outcome", exact=True).fill("Order confirmed")
    form.get_by_label("Outcome", exact=True).press("Enter")
    page.wait_for_timeout(500)
    assert sent == [] and count(app, Interaction) == 0

    form.get_by_role("button", name="Log it").focus()
    with page.expect_response(lambda r: r.request.method == "POST"
                              and urlsplit(r.url).path == url) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    expect(page.locator("#toasts")).to_contain_text("Logged.")
    assert count(app, Interaction) == 1


def test_when_is_one_tab_stop_and_every_part_of_a_date_shows_focus(app, page, make_staff):
    email, password = make_staff("sales")
    customer_id, _ = seed_customer(app, "Blue Heron Bistro")
    sign_in(page, email, password)
    page.goto(f"/customers/{customer_id}/communications")
    form = open_quick_log(page)
    form.get_by_label("With", exact=True).focus()
    page.keyboard.press("Tab")
    summary = form.locator("details.when > summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Change")
    assert summary.locator(".when-value").evaluate("e => getComputedStyle(e).outlineStyle") \
        == "solid"  # its ring is drawn on the box
    page.keyboard.press("Tab")
    expect(form.get_by_label("Minutes", exact=True)).to_be_focused()  # one stop, not seven

    # Opened, the one native date-time input: each part, and its calendar button, shows focus.
    summary.press("Enter")
    when = form.get_by_label("When", exact=True)
    expect(when).to_be_focused()
    expect(when).to_have_attribute("type", "datetime-local")
    ring = "e => getComputedStyle(e).outlineStyle"
    for _ in range(6):  # month, day, year, hour, minute, AM/PM, then the calendar button
        assert when.evaluate(ring) == "solid"
        page.keyboard.press("Tab")
    assert when.evaluate("e => e.matches(':focus-within') && !e.matches(':focus')")  # button
    assert when.evaluate(ring) == "solid"


@pytest.mark.parametrize("width_name, viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots_of_the_quick_log_and_the_new_customer_form(app, new_page, make_staff,
                                                                width_name, viewport):
    shots = Screenshots(width_name)
    email, password = make_staff("sales")
    customer_id, _ = seed_customer(app, "Blue Heron Bistro", entries=[
        (30, {"channel": "email", "subject": "Price list for spring", "body": "Sent the PDF."}),
    ])
    page = new_page(viewport)
    sign_in(page, email, password)

    page.goto(f"/customers/{customer_id}/communications")
    form = open_quick_log(page)
    shots.take(page, "traps-01-quick-log")
    form.get_by_role("button", name="Log it").click()  # nothing typed
    expect(form.get_by_role("alert")).to_contain_text("Say what happened")
    shots.take(page, "traps-02-quick-log-nothing-said")
    form.locator("details.when > summary").click()
    form.get_by_label("Subject", exact=True).fill("x" * 190)
    form.get_by_label("Subject", exact=True).focus()
    shots.take(page, "traps-03-quick-log-when-open-subject-counted", full_page=False)

    fill_new_customer(page)
    shots.take(page, "traps-04-new-customer")
    page.get_by_label("Name", exact=True).fill(("Blue Heron Bistro " * 278)[:4996] + "Ends")
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("alert")).to_contain_text("120 characters at most")
    shots.take(page, "traps-05-new-customer-name-too-long")
    (shots.out / "traps-overflow.txt").write_text(
        "\n".join(shots.overflow) + "\n" if shots.overflow else "none\n")
