"""Finding anyone from the header, with the keyboard only (issue 13, part 3): "/" comes to the
box, typing shows results grouped by kind, the arrow keys choose one, Enter opens it. Also
screenshots of the open results and of the contact directory at desktop and phone widths."""
import re

import pytest
from playwright.sync_api import expect

from crm.common import SYSTEM
from crm.contacts.services import add_contact
from crm.extensions import db
from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE, Screenshots, sign_in
from tests.e2e.test_accessibility import violations

pytestmark = pytest.mark.e2e


def seed(app):
    """Blue Heron Bistro with its chef Zoe Reyes, (312) 555-1814; Saffron & Sumac with Zoe
    Abara; Green Grocer Collective with Rosa. Returns the bistro's and Zoe Reyes's ids."""
    with app.app_context():
        bistro = factories.customer("Blue Heron Bistro — Logan Square", contact=False)
        zoe = add_contact(bistro, {"first_name": "Zoe", "last_name": "Reyes",
                                   "email": "zoe@blueheron.example.com", "phone": "+13125551814"},
                          role="kitchen", actor=SYSTEM)
        saffron = factories.customer("Saffron & Sumac", contact=False)
        add_contact(saffron, {"first_name": "Zoe", "last_name": "Abara",
                              "email": "zoe@saffron.example.com", "phone": "+13125558939"},
                    role="primary", actor=SYSTEM)
        for name in ("Green Grocer Collective", "Marrow Supper Club", "Little Fern Kitchen"):
            factories.customer(name, commit=False)
        db.session.commit()
        return bistro.id, zoe.id


def box(page):
    return page.get_by_role("combobox", name="Find a customer, person, phone or ticket")


def test_slash_type_arrow_down_and_enter_open_a_result(app, page, make_staff):
    bistro_id, zoe_id = seed(app)
    email, password = make_staff("sales")
    sign_in(page, email, password)

    # "/" does nothing special while typing in a field ...
    list_search = page.get_by_label("Search")
    list_search.focus()
    page.keyboard.press("/")
    expect(list_search).to_have_value("/")
    expect(box(page)).not_to_be_focused()
    list_search.fill("")
    # ... and comes to the header's box from anywhere else.
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(box(page)).to_be_focused()
    expect(box(page)).to_have_attribute("aria-expanded", "false")

    page.keyboard.type("zoe", delay=40)
    listbox = page.get_by_role("listbox", name="Results")
    expect(listbox).to_be_visible()
    expect(box(page)).to_have_attribute("aria-expanded", "true")
    customers = listbox.get_by_role("group", name="Customers")
    people = listbox.get_by_role("group", name="People")
    expect(customers.get_by_role("option")).to_have_count(2)
    expect(people.get_by_role("option")).to_have_count(2)
    expect(customers.get_by_role("option").first).to_contain_text("contact: Zoe R…")
    expect(page.locator("#site-search-status")).to_have_text("4 results")
    assert violations(page) == []  # axe, with the results open

    # Down to the second customer, down again to the first person, up and down again.
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowDown")
    chosen = people.get_by_role("option").first
    expect(chosen).to_have_attribute("aria-selected", "true")
    expect(chosen).to_contain_text("Zoe Reyes")
    chosen_id = chosen.get_attribute("id")
    expect(box(page)).to_have_attribute("aria-activedescendant", chosen_id)
    expect(listbox.locator('[aria-selected="true"]')).to_have_count(1)
    expect(box(page)).to_be_focused()  # focus never left the box
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/contacts/{zoe_id}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Zoe Reyes")

    # A phone number read off a missed call, in its usual format; Escape closes.
    page.keyboard.press("/")
    page.keyboard.type("(312) 555-1814", delay=20)
    expect(listbox.get_by_role("option").first).to_contain_text("Blue Heron Bistro")
    expect(listbox).to_contain_text("contact: Zoe R… (phone)")
    page.keyboard.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box(page)).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("ArrowDown")  # opens again on the first option
    expect(listbox.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/customers/{bistro_id}$"))

    # Enter with nothing chosen opens the results page; the URL holds the search sealed.
    page.keyboard.press("/")
    page.keyboard.type("marrow", delay=20)
    expect(listbox.get_by_role("option").first).to_contain_text("Marrow Supper Club")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/search\?s="))
    assert "marrow" not in page.url.lower()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    expect(page.get_by_role("link", name="Marrow Supper Club")).to_be_visible()
    assert violations(page) == []


@pytest.mark.parametrize("width_name, viewport", [("desktop", DESKTOP), ("phone", PHONE)])
def test_screenshots_of_the_header_search_and_the_directory(app, new_page, make_staff,
                                                            width_name, viewport):
    seed(app)
    shots = Screenshots(width_name)
    email, password = make_staff("manager")
    page = new_page(viewport)
    sign_in(page, email, password)
    page.locator("h1").click()
    page.keyboard.press("/")
    page.keyboard.type("zoe", delay=30)
    listbox = page.get_by_role("listbox", name="Results")
    expect(listbox.get_by_role("option")).to_have_count(5)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(listbox.get_by_role("option").nth(1)).to_have_attribute("aria-selected", "true")
    page.mouse.move(viewport["width"] - 5, viewport["height"] - 5)  # no hover in the picture
    shots.take(page, "search-open", full_page=False)

    page.keyboard.press("Escape")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contacts").click()
    page.wait_for_url(re.compile(r"/contacts/$"))
    expect(page.get_by_role("table")).to_be_visible()
    shots.take(page, "directory")
    page.get_by_label("Find a person").press_sequentially("zoe", delay=30)
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(3)  # header + 2
    shots.take(page, "directory-search")
    if width_name == "phone":  # the header search sits in the menu at phone width
        page.get_by_role("button", name="Menu").click()
    box(page).fill("zoe")  # Enter with nothing chosen: the results page
    expect(page.get_by_role("listbox", name="Results")).to_be_visible()
    box(page).press("Enter")
    page.wait_for_url(re.compile(r"/search\?s="))
    shots.take(page, "search-results-page")
    if shots.overflow:
        (shots.out / "overflow-search.txt").write_text("\n".join(shots.overflow) + "\n")
    assert not shots.overflow, shots.overflow
