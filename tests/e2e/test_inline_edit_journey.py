"""Read first, edit on demand, in a real browser: a Preferences section edited in place by
keyboard at phone width (Edit, change, Save, the focus back on Edit), nothing running off the
screen; screenshots of the Contacts and Preferences tabs read-only and with a section open."""
from datetime import date

import pytest
from playwright.sync_api import expect

from crm.catalogue.models import Route
from crm.common import SYSTEM
from crm.extensions import db
from crm.preferences.services import add_pause, add_standing_item
from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE, Screenshots, sign_in

pytestmark = pytest.mark.e2e


def seed(app):
    """A customer with a plan, a standing item (with substitutes) and a pause: its id."""
    with app.app_context():
        products, packaging = factories.catalogue()
        customer = factories.customer("Little Fern Kitchen")
        db.session.add(Route(name="North"))
        factories.delivery_plan(customer, route_name="South")
        add_standing_item(customer, {
            "product_id": products["Sunflower"].id, "size": "4 oz", "quantity": 6,
            "packaging_id": packaging["Returnable crate"].id, "substitutions_allowed": True,
            "substitute_ids": [products["Pea shoots"].id, products["Radish"].id]}, actor=SYSTEM)
        add_pause(customer, {"starts_on": date(2027, 8, 1), "ends_on": date(2027, 8, 31),
                             "reason": "Closed for the whole of August, the kitchen is redone"},
                  actor=SYSTEM)
        db.session.commit()
        found = customer.id
        db.session.remove()
        return found


def focused(page):
    return page.evaluate("document.activeElement && (document.activeElement.textContent || '')"
                         ".trim() + '|' + (document.activeElement.id || '')")


def test_a_preference_section_edited_in_place_by_keyboard_at_phone_width(app, new_page,
                                                                         make_staff):
    customer_id = seed(app)
    email, password = make_staff("sales")
    page = new_page(PHONE)
    sign_in(page, email, password)
    page.goto(f"/customers/{customer_id}/preferences")
    likes = page.get_by_role("region", name="Likes and dislikes")
    expect(likes).to_contain_text("Likes: —")
    edit = likes.get_by_role("link", name="Edit likes and dislikes")
    edit.focus()
    page.keyboard.press("Enter")
    form = page.locator("#prefs-likes form.likes-form")
    expect(form).to_be_visible()
    first = form.get_by_role("group", name="Likes").get_by_role("checkbox").first
    expect(first).to_be_focused()  # the focus moved into the form
    product = first.evaluate("box => box.labels[0].textContent.trim()")
    page.keyboard.press("Space")
    expect(first).to_be_checked()
    for _ in range(60):  # on through the checkboxes to Save, as a keyboard user goes
        page.keyboard.press("Tab")
        if focused(page).startswith("Save likes and dislikes"):
            break
    save = form.get_by_role("button", name="Save likes and dislikes")
    expect(save).to_be_focused()
    overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    assert not overflow, "the open section scrolls sideways at phone width"
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text("Likes and dislikes saved.")
    expect(page.locator("#prefs-likes form")).to_have_count(0)  # read-only again
    expect(page.locator("#prefs-likes")).to_contain_text(f"Likes: {product}")
    expect(page.get_by_role("link", name="Edit likes and dislikes")).to_be_focused()
    history = page.get_by_role("region", name="History")
    expect(history).to_contain_text("Sales Person")  # the history came along

    # Cancel puts it back as it was, the focus on Edit again
    page.get_by_role("link", name="Edit likes and dislikes").press("Enter")
    expect(form.get_by_role("group", name="Likes").get_by_role("checkbox").first).to_be_focused()
    cancel = page.locator("#prefs-likes").get_by_role("link", name="Cancel")
    cancel.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#prefs-likes form")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit likes and dislikes")).to_be_focused()

    # Remove stays on screen at phone width, and removing keeps the section open
    page.get_by_role("link", name="Edit standing items").click()
    remove = page.get_by_role("button", name="Remove Sunflower 4 oz")
    expect(remove).to_be_in_viewport()
    box = remove.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"], box
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1")
    remove.click()
    expect(page.locator("#toasts")).to_contain_text("Standing item removed.")
    expect(page.locator("#prefs-items form.item-form")).to_be_visible()
    expect(page.locator("#prefs-items")).to_contain_text("No standing items.")


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_screenshots_of_the_tabs_read_only_and_with_a_section_open(app, new_page, make_staff,
                                                                    width):
    customer_id = seed(app)
    email, password = make_staff("sales")
    page = new_page(DESKTOP if width == "desktop" else PHONE)
    shots = Screenshots(width)
    sign_in(page, email, password)
    page.goto(f"/customers/{customer_id}/preferences")
    shots.take(page, "inline-prefs-read")
    page.get_by_role("link", name="Edit standing items").click()
    expect(page.locator("form.item-form")).to_be_visible()
    expect(page.get_by_role("group", name="Acceptable substitutes")).to_be_visible()
    shots.take(page, "inline-prefs-items-open")
    page.get_by_role("link", name="Edit delivery plan").click()
    expect(page.locator("form.plan-form")).to_be_visible()
    shots.take(page, "inline-prefs-plan-open")

    page.goto(f"/customers/{customer_id}/contacts")
    shots.take(page, "inline-contacts-read")
    page.locator("article.contact").get_by_role("link", name="Edit").first.click()
    expect(page.locator("form.contact-form")).to_be_visible()
    shots.take(page, "inline-contacts-person-open")
    page.get_by_text("Add an address").click()
    expect(page.locator("#new-address-form")).to_be_visible()
    shots.take(page, "inline-contacts-add-address-open")
    if width == "phone":
        assert shots.overflow == [], shots.overflow
