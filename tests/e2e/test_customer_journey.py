"""A salesperson's day, in a real browser: sign in, add a customer, find it, fix its name.

Locators are by label and role only, so these journeys also check the pages can be driven
the way assistive technology sees them.
"""
import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def fill_new_customer(page, **overrides):
    values = {
        "Name": "Blue Heron Bistro",
        "First name": "Maria",
        "Email": "maria@blueheronbistro.com",
        "Phone": "(312) 555-0142",
        "Street": "1420 N Milwaukee Ave",
        "City": "Chicago",
        "State / province": "IL",
        "ZIP / postal code": "60622",
        **overrides,
    }
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_label("Kind", exact=True).select_option(label="Restaurant")
    return values


def test_sign_in_create_find_and_edit_a_customer(app, page, make_staff):
    with app.app_context():
        factories.customer("Golden Radish Cafe")  # must not match the search below
    email, password = make_staff("sales")

    sign_in(page, email, password)
    expect(page.get_by_role("heading", level=1, name="Customers")).to_be_visible()

    # Create
    page.get_by_role("link", name="New customer").click()
    expect(page.get_by_role("heading", level=1, name="New customer")).to_be_visible()
    fill_new_customer(page)
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Blue Heron Bistro")
    expect(page).to_have_url(re.compile(r"/customers/\d+$"))
    expect(page.locator("#toasts")).to_contain_text(re.compile(r"Created CUST-\d+"))
    detail_url = page.url

    # Find by word prefixes with active search: #results and the URL follow the typing.
    # The pushed URL carries the search sealed (?s=...), never the typed text.
    page.goto("/customers/")
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Golden Radish Cafe")).to_be_visible()
    page.get_by_label("Search").press_sequentially("blu her", delay=30)
    expect(results.get_by_role("link", name="Blue Heron Bistro")).to_be_visible()
    expect(results.get_by_role("link", name="Golden Radish Cafe")).to_have_count(0)
    expect(results).to_contain_text("matching “blu her”")
    expect(page).to_have_url(re.compile(r"/customers/\?(.*&)?s=[\w-]+"))
    assert not re.search(r"[?&]q=|blu(\+|%20| )her", page.url), page.url

    # A reload keeps the query and the results (the server unseals the pushed URL).
    page.reload()
    expect(page.get_by_label("Search")).to_have_value("blu her")
    expect(results.get_by_role("link", name="Blue Heron Bistro")).to_be_visible()
    expect(results.get_by_role("link", name="Golden Radish Cafe")).to_have_count(0)

    # Open it; Back returns to the whole filtered list page (not a cached htmx fragment).
    results.get_by_role("link", name="Blue Heron Bistro").click()
    expect(page).to_have_url(detail_url)
    page.go_back()
    expect(page.get_by_role("heading", level=1, name="Customers")).to_be_visible()
    expect(page.get_by_label("Search")).to_have_value("blu her")
    results.get_by_role("link", name="Blue Heron Bistro").click()
    expect(page).to_have_url(detail_url)

    # Edit the name, save.
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit Blue Heron Bistro")
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_value("Blue Heron Bistro")
    name.fill("Blue Heron Brasserie")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(detail_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Blue Heron Brasserie")
    expect(page.locator("#toasts")).to_contain_text("Saved.")

    # The list shows the new name (search tokens were re-indexed).
    page.goto("/customers/?q=brass")
    expect(results.get_by_role("link", name="Blue Heron Brasserie")).to_be_visible()


def test_validation_error_is_shown_inline_and_keeps_what_was_typed(app, page, make_staff):
    email, password = make_staff("sales")
    sign_in(page, email, password)
    page.goto("/customers/new")
    typed = fill_new_customer(page, Email="maria at blueheron")

    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/customers/new")) as answer:
        page.get_by_role("button", name="Create customer").click()
    assert answer.value.status == 422
    assert "<html" not in answer.value.text()  # htmx got only the form back

    # Still on the form; the error is next to the field and in the summary.
    expect(page).to_have_url(re.compile(r"/customers/new$"))
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please fix 1 field")
    expect(summary.get_by_role("link", name="Email")).to_be_visible()
    email_box = page.get_by_label("Email", exact=True)
    expect(email_box).to_have_attribute("aria-invalid", "true")
    expect(email_box).to_have_accessible_description(re.compile(r"not complete: it needs a name, an @"))
    expect(email_box).to_have_value("maria at blueheron")

    # Everything else is as typed (the phone comes back normalised, the same number).
    for label in ("Name", "First name", "Street", "City", "State / province",
                  "ZIP / postal code"):
        expect(page.get_by_label(label, exact=True)).to_have_value(typed[label])
    expect(page.get_by_label("Phone", exact=True)).to_have_value(re.compile(r"3125550142"))
    expect(page.get_by_label("Kind", exact=True)).to_have_value("restaurant")

    # Fixing the email then creates the customer.
    email_box.fill("maria@blueheronbistro.com")
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Blue Heron Bistro")


def test_error_summary_takes_focus_after_a_failed_submit(app, page, make_staff):
    """The form is swapped in place; keyboard and screen-reader users land on the summary."""
    email, password = make_staff("sales")
    sign_in(page, email, password)
    page.goto("/customers/new")
    page.get_by_label("Name", exact=True).fill("Blue Heron Bistro")
    page.get_by_label("First name", exact=True).fill("Maria")
    page.get_by_label("Email", exact=True).fill("maria at blueheron")
    page.get_by_role("button", name="Create customer").click()
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please fix 1 field")
    expect(summary).to_be_focused()
    # Its link jumps to the field.
    summary.get_by_role("link", name="Email").click()
    expect(page.get_by_label("Email", exact=True)).to_be_focused()


def test_a_new_search_keeps_the_sort_chosen_in_the_table(app, page, make_staff):
    with app.app_context():
        factories.customer("Zeta Greens", kind="restaurant")
        factories.customer("Alpha Greens", kind="market")
        factories.customer("Green Grocer", kind="grocer")
        factories.customer("Blue Heron Bistro", kind="restaurant")
    email, password = make_staff("viewer")
    sign_in(page, email, password)
    results = page.locator("#results")
    names = results.locator("tbody tr td:nth-child(2)")
    expect(names).to_have_text(["Zeta Greens", "Alpha Greens", "Green Grocer",
                                "Blue Heron Bistro"])

    results.get_by_role("link", name="Kind").click()
    expect(page).to_have_url(re.compile(r"[?&]sort=kind"))
    expect(names).to_have_text(["Green Grocer", "Alpha Greens", "Zeta Greens",
                                "Blue Heron Bistro"])

    page.get_by_label("Search").press_sequentially("gre", delay=30)
    expect(results).to_contain_text("matching “gre”")
    expect(names).to_have_text(["Green Grocer", "Alpha Greens", "Zeta Greens"])
    expect(results.get_by_role("columnheader", name="Kind")).to_have_attribute("aria-sort",
                                                                              "ascending")
    expect(page).to_have_url(re.compile(r"[?&]sort=kind"))
