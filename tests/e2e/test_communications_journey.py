"""Communications in a real browser: log a call with a follow-up, work it off, fix an entry.

Locators are by label and role (plus the ids htmx swaps by), so the journeys also check the
quick log, the timeline and My follow-ups can be driven the way assistive technology sees them.
"""
import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crm.auth.services import find_by_email
from crm.common import SYSTEM, farm_today, utcnow
from crm.communications.services import log_interaction
from crm.extensions import db
from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE, Screenshots, sign_in

pytestmark = pytest.mark.e2e

MARKER = "window.__sameDocument"


def seed_customer(app, name, entries=(), staff_email=None):
    """A customer (primary contact "Rosa ...") with earlier entries; returns (id, Rosa's name)."""
    with app.app_context():
        customer = factories.customer(name)
        actor = find_by_email(staff_email).actor if staff_email else SYSTEM
        for hours_ago, data in entries:
            log_interaction(customer, {"occurred_at": utcnow() - timedelta(hours=hours_ago),
                                       "direction": "outbound", "visibility": "internal",
                                       **data}, actor=actor)
        db.session.commit()
        found = customer.id, customer.contact_links[0].contact.full_name
        db.session.remove()
        return found


def yesterday(app):
    """The farm's yesterday (FARM_TIMEZONE), which is what "overdue" is judged in."""
    with app.app_context():
        return farm_today() - timedelta(days=1)


def mark_page(page):
    """Set a flag on this document; it is still there afterwards only if nothing reloaded."""
    page.evaluate(f"{MARKER} = true")


def expect_same_page(page):
    assert page.evaluate(f"{MARKER} === true"), "the page was reloaded"


def open_quick_log(page, keyboard=False):
    """Unfold the quick log (one line above the timeline until opened); returns the form."""
    fold = page.locator("details.quick-log-fold")
    summary = fold.locator("> summary")
    expect(summary).to_have_text("Log a call, email or note…")
    expect(fold).to_have_js_property("open", False)
    if keyboard:
        summary.focus()
        page.keyboard.press("Enter")
    else:
        summary.click()
    expect(fold).to_have_js_property("open", True)
    form = page.locator("#quick-log")
    expect(form.get_by_label("Subject", exact=True)).to_be_visible()
    return form


def tab_to(page, control, most=3):
    """Press Tab until `control` has focus (a date input keeps it for its calendar button)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if control.evaluate("el => el === document.activeElement"):
            return
    expect(control).to_be_focused()


def follow_ups_nav(page):
    return page.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile(r"^Follow-ups"))


def test_log_a_call_with_an_overdue_follow_up_and_mark_it_done(app, page, make_staff):
    email, password = make_staff("sales")
    customer_id, rosa = seed_customer(app, "Blue Heron Bistro", entries=[
        (30, {"channel": "email", "subject": "Price list for spring", "body": "Sent the PDF."}),
    ])
    due = yesterday(app)
    due_text = f"Overdue: follow up by {due:%a %b} {due.day}"

    sign_in(page, email, password)
    page.goto(f"/customers/{customer_id}/communications")
    expect(page.get_by_role("heading", level=2, name="Communications")).to_be_visible()
    timeline = page.get_by_role("region", name="Timeline")
    entries = timeline.locator("li.entry")
    expect(entries).to_have_count(1)
    expect(follow_ups_nav(page)).to_have_accessible_name("Follow-ups")  # nothing overdue yet
    mark_page(page)

    # The quick log, by keyboard: Enter opens it, Tab from field to field, type, Enter on the
    # button to submit.
    expect(page.locator("#quick-log").get_by_label("Subject", exact=True)).to_be_hidden()
    form = open_quick_log(page, keyboard=True)  # #quick-log: a form with no name is no landmark
    expect(page.locator("details.quick-log-fold > summary")).to_be_focused()
    expect(form.get_by_label("With", exact=True)).to_have_value(re.compile(r"\d+"))  # primary
    expect(form.get_by_label("When", exact=True)).not_to_have_value("")  # now, by default
    form.get_by_label("Channel", exact=True).focus()
    page.keyboard.type("Call")  # type-ahead in the closed select
    expect(form.get_by_label("Channel", exact=True)).to_have_value("call")
    page.keyboard.press("Tab")
    expect(form.get_by_label("Direction", exact=True)).to_be_focused()
    page.keyboard.type("Inbound")
    expect(form.get_by_label("Direction", exact=True)).to_have_value("inbound")
    page.keyboard.press("Tab")
    expect(form.get_by_label("With", exact=True)).to_be_focused()  # Rosa, as given
    page.keyboard.press("Tab")  # When: now, folded into one stop (its parts are 7 stops)
    expect(form.locator("details.when > summary")).to_be_focused()
    page.keyboard.press("Tab")
    expect(form.get_by_label("Minutes", exact=True)).to_be_focused()
    page.keyboard.type("7")
    page.keyboard.press("Tab")
    expect(form.get_by_label("Subject", exact=True)).to_be_focused()
    page.keyboard.type("Tuesday order")
    page.keyboard.press("Tab")
    expect(form.get_by_label("What was said", exact=True)).to_be_focused()
    page.keyboard.type("Chef wants 4 oz sunflower and pea shoots; asked about microgreens.")
    page.keyboard.press("Tab")
    expect(form.get_by_label("Outcome", exact=True)).to_be_focused()
    page.keyboard.type("Call back about microgreens")
    page.keyboard.press("Tab")
    expect(form.get_by_label("Visibility", exact=True)).to_be_focused()
    expect(form.get_by_label("Visibility", exact=True)).to_have_value("internal")
    page.keyboard.press("Tab")
    follow_up_by = form.get_by_label("Follow up by", exact=True)
    expect(follow_up_by).to_be_focused()
    page.keyboard.type(due.strftime("%m%d%Y"))  # the date input's month, day, year segments
    expect(follow_up_by).to_have_value(due.isoformat())
    tab_to(page, form.get_by_label("Follow-up for", exact=True))
    expect(form.get_by_label("Follow-up for", exact=True)).to_have_value("")  # "Me"
    page.keyboard.press("Tab")
    expect(form.get_by_role("button", name="Log it")).to_be_focused()
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith(f"/customers/{customer_id}/communications")
                              ) as answer:
        page.keyboard.press("Enter")
    assert answer.value.status == 200
    assert "<html" not in answer.value.text()

    # The entry is on top of the timeline, swapped in without a reload, with its badge.
    expect(page.locator("#toasts")).to_contain_text("Logged.")
    expect(entries).to_have_count(2)
    newest = entries.first
    expect(newest.locator(".entry-head")).to_contain_text("Call · Inbound")
    expect(newest).to_contain_text(f"with {rosa}")
    expect(newest).to_contain_text("7 min")
    expect(newest.locator(".entry-subject")).to_have_text("Tuesday order")
    expect(newest).to_contain_text("Outcome: Call back about microgreens")
    expect(newest.locator(".follow-up")).to_contain_text(due_text)
    expect(newest.get_by_role("button", name="Mark done")).to_be_visible()
    expect(entries.nth(1).locator(".entry-subject")).to_have_text("Price list for spring")
    # Folded again; opened, a fresh form keeping the channel just used; "Logged." said once.
    expect(page.locator("details.quick-log-fold")).to_have_js_property("open", False)
    expect(page.locator("#quick-log")).to_have_count(0)
    form = open_quick_log(page)
    expect(form.get_by_label("Subject", exact=True)).to_have_value("")
    expect(form.get_by_label("Follow up by", exact=True)).to_have_value("")
    expect(form.get_by_label("Channel", exact=True)).to_have_value("call")
    expect(form.get_by_label("Direction", exact=True)).to_have_value("outbound")
    expect_same_page(page)
    entry_id = newest.get_attribute("id")

    # The navigation counts it at once (an out-of-band swap with the log's answer).
    expect(follow_ups_nav(page)).to_have_accessible_name("Follow-ups 1 overdue")
    expect(page.locator("#nav-badge-my_follow_ups .count")).to_have_text("1")

    # My follow-ups: under "Overdue"; "Mark done" swaps the row's follow-up and the count.
    follow_ups_nav(page).click()
    expect(page).to_have_url(re.compile(r"/follow-ups$"))
    expect(page.get_by_role("heading", level=1, name="My follow-ups")).to_be_visible()
    overdue = page.get_by_role("region", name=re.compile(r"^Overdue"))
    expect(overdue.get_by_role("heading", level=2)).to_have_text("Overdue (1)")
    row = overdue.get_by_role("listitem").filter(has_text="Tuesday order")
    expect(row.get_by_role("link", name="Blue Heron Bistro")).to_be_visible()
    expect(row.get_by_role("link", name=rosa)).to_be_visible()
    expect(row).to_contain_text(due_text)
    expect(page.locator("#nav-badge-my_follow_ups .count")).to_have_text("1")
    mark_page(page)
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/follow-up/done")) as answer:
        row.get_by_role("button", name="Mark done").click()
    assert answer.value.status == 200 and "<html" not in answer.value.text()
    expect(row.locator(".follow-up")).to_contain_text("Follow-up done")
    expect(row.get_by_role("button", name="Mark done")).to_have_count(0)
    expect(page.locator("#toasts")).to_contain_text("Follow-up done.")
    expect(page.locator("#nav-badge-my_follow_ups")).to_have_text("")
    expect(follow_ups_nav(page)).to_have_accessible_name("Follow-ups")
    expect_same_page(page)

    # Reloaded, the list is empty.
    page.reload()
    expect(page.get_by_text("Tuesday order")).to_have_count(0)
    expect(page.get_by_text(re.compile(r"^Nothing to follow up"))).to_be_visible()
    expect(page.get_by_role("region", name=re.compile(r"^Overdue"))).to_have_count(0)

    # The customer's timeline shows it done.
    page.goto(f"/customers/{customer_id}/communications")
    done = page.locator(f"#{entry_id}")
    expect(done.locator(".follow-up")).to_contain_text("Follow-up done")
    expect(done).not_to_contain_text("Overdue")
    expect(done.get_by_role("button", name="Mark done")).to_have_count(0)


def test_edit_an_entry_in_place_then_delete_it(app, page, make_staff):
    email, password = make_staff("sales")
    customer_id, _ = seed_customer(app, "Golden Radish Cafe", staff_email=email, entries=[
        (3, {"channel": "call", "subject": "Tuesday order", "body": "Chef wants pea shoots."}),
        (30, {"channel": "email", "subject": "Price list for spring", "body": "Sent the PDF."}),
    ])
    sign_in(page, email, password)
    page.goto(f"/customers/{customer_id}/communications")
    entries = page.get_by_role("region", name="Timeline").locator("li.entry")
    expect(entries).to_have_count(2)
    item = entries.filter(has_text="Tuesday order")
    entry_id = item.get_attribute("id")
    item = page.locator(f"#{entry_id}")  # the same <li> id whether shown or being edited
    mark_page(page)

    # Edit: the form takes the item's place, focused on its heading; Save puts the item back.
    item.get_by_role("link", name="Edit this call").click()
    expect(item.get_by_role("heading", level=3)).to_have_text(re.compile(r"^Edit call of "))
    expect(item.get_by_role("heading", level=3)).to_be_focused()
    subject = item.get_by_label("Subject", exact=True)  # its own ids, not the quick log's
    expect(subject).to_have_value("Tuesday order")
    subject.fill("Tuesday order, moved to Wednesday")
    item.get_by_role("button", name="Save").click()
    expect(item.get_by_role("button", name="Save")).to_have_count(0)  # the form is gone
    expect(item.locator(".entry-subject")).to_have_text("Tuesday order, moved to Wednesday")
    expect(page.locator("#toasts")).to_contain_text("Saved.")
    expect(entries).to_have_count(2)
    expect_same_page(page)

    # Delete, from the edit form: confirmed in a dialog, then the item leaves the timeline.
    item.get_by_role("link", name="Edit this call").click()
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    item.get_by_role("button", name="Delete this call").click()
    expect(item).to_have_count(0)
    assert dialogs == ["Delete this entry? An admin can restore it."]
    expect(page.locator("#toasts")).to_contain_text("Deleted. An admin can restore it.")
    expect(entries).to_have_count(1)
    expect(entries.first.locator(".entry-subject")).to_have_text("Price list for spring")
    expect_same_page(page)

    # It stays gone.
    page.reload()
    expect(page.get_by_text("Tuesday order")).to_have_count(0)


@pytest.mark.parametrize("width_name, viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots_of_communications_pages(app, new_page, make_staff, width_name, viewport):
    """For a person to look at; fails only when a page cannot be driven (see test_screenshots)."""
    shots = Screenshots(width_name)
    shot, overflow, out = shots.take, shots.overflow, shots.out

    email, password = make_staff("sales")
    due = yesterday(app)
    customer_id, _ = seed_customer(
        app, "The Extraordinarily Long-Named Farm-to-Table Supper Club of Ravenswood Manor",
        staff_email=email, entries=[
            (2, {"channel": "meeting", "subject": "Tasting with the new sous-chef",
                 "body": "Tried the spicy mix, the pea tendrils and the radish sprouts.\n"
                         "Wants a standing order from next month.",
                 "duration_minutes": 45, "visibility": "shared"}),
            (26, {"channel": "email", "direction": "inbound", "subject": "Invoice question",
                  "body": "Asked why invoice INV-2024-000123 lists sunflower shoots twice."}),
            (50, {"channel": "note", "direction": "internal",
                  "body": "Prefers deliveries before 9am; back door, ring twice. "
                          "Pays net 30, always on time."}),
        ])
    page = new_page(viewport)
    sign_in(page, email, password)

    # The Communications tab: a call just logged with an overdue follow-up, on top.
    page.goto(f"/customers/{customer_id}/communications")
    form = open_quick_log(page)
    form.get_by_label("Channel", exact=True).select_option(label="Call")
    form.get_by_label("Minutes", exact=True).fill("12")
    form.get_by_label("Subject", exact=True).fill("Weekly order and a price check")
    form.get_by_label("What was said", exact=True).fill(
        "Confirmed 6 trays sunflower, 4 pea shoots. Asked for a quote on edible flowers.")
    form.get_by_label("Outcome", exact=True).fill("Send the edible flowers quote")
    form.get_by_label("Follow up by", exact=True).fill(due.isoformat())
    form.get_by_role("button", name="Log it").click()
    newest = page.get_by_role("region", name="Timeline").locator("li.entry").first
    expect(newest).to_contain_text("Overdue: follow up by")
    shot(page, "comm-01-communications-tab-overdue-follow-up")
    newest.scroll_into_view_if_needed()
    shot(page, "comm-02-communications-timeline-entry-in-view", full_page=False)

    # Editing that entry in place.
    newest.get_by_role("link", name="Edit this call").click()
    expect(page.get_by_role("heading", level=3, name=re.compile(r"^Edit call"))).to_be_focused()
    shot(page, "comm-03-communications-entry-editing", full_page=False)

    # My follow-ups with the overdue item.
    page.goto("/follow-ups")
    expect(page.get_by_role("region", name=re.compile(r"^Overdue"))).to_be_visible()
    shot(page, "comm-04-my-follow-ups-overdue")

    # A support ticket logged from the quick log, then its page.
    page.goto(f"/customers/{customer_id}/communications")
    shot(page, "comm-05-communications-tab-folded", full_page=False)
    form = open_quick_log(page)
    form.get_by_label("Direction", exact=True).select_option(label="Inbound")
    form.get_by_label("Subject", exact=True).fill("Wilted pea shoots in Tuesday's delivery")
    form.get_by_label("What was said", exact=True).fill(
        "Two of the six trays arrived wilted; chef sent photos. Wants a credit or a replacement.")
    form.get_by_role("button", name="Open a ticket").click()
    ticket_link = page.get_by_role("region", name="Timeline").get_by_role(
        "link", name=re.compile(r"^Ticket T-\d+"))
    expect(ticket_link).to_have_count(1)
    ticket_link.click()
    expect(page.get_by_role("heading", level=1,
                            name="Wilted pea shoots in Tuesday's delivery")).to_be_visible()
    shot(page, "comm-06-ticket")

    (out / "comm-overflow.txt").write_text("\n".join(overflow) + "\n" if overflow else "none\n")
